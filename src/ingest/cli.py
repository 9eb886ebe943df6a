"""The ``ingest`` command line.

One typer function per command. The options every command shares are declared once below
(``Warehouse``, ``DataPath``, ``Json``...), ``-v/-q`` are added to every command of the tree by
:func:`build_command`, and each command's body runs inside :func:`execute`, which sets up the
messages and the progress display, renders results as JSON lines or text, and turns errors into
the documented exit codes. A new command is a function under ``@app.command()`` whose body calls
``execute``; a group of commands (``ingest accounts add``) is a ``typer.Typer()`` whose commands
do the same, added with ``app.add_typer``. The README's synopsis lists every command and option,
and a test keeps it in step with this tree.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, NoReturn, Protocol

import typer
from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from ingest import progress
from ingest.config import ConfigError, Settings
from ingest.errors import IngestError, WarehouseBusyError
from ingest.platforms import names as platform_names
from ingest.platforms import platforms
from ingest.stops import INTERRUPTED, exit_code, handling_stops, stopping

# ---- exit codes

OK = 0
REFUSED = 1  # input refused: a file rejected, rows blocked by an audit, a run or pull not ok
USAGE = 2  # the command line or a setting cannot be used
BUSY = 3  # another process kept the warehouse for writing longer than INGEST_BUSY_TIMEOUT
INTERNAL = 4  # a bug: the traceback is shown with -v
# 130 and 143: stopped by Ctrl-C (SIGINT) or SIGTERM; see ingest.stops

EXIT_CODES = (
    "Exit codes: 0 ok; 1 refused input (a file rejected, rows blocked by an audit, a run or"
    " pull not complete); 2 usage error (an option or setting that cannot be used); 3 warehouse"
    " busy (another writer held it longer than INGEST_BUSY_TIMEOUT seconds); 4 internal error"
    " (a bug: rerun with -v for the traceback); 130 or 143 stopped by Ctrl-C or SIGTERM (the"
    " warehouse keeps its last published state)."
)

PACKAGE = "creator-metrics-ingest"


class UsageProblem(Exception):
    """A command line that parses but cannot be used (exit 2); the message says why."""


class Refused(IngestError):
    """Input the command refuses before doing anything (exit 1)."""


def _exit_code_of(error: IngestError) -> int:
    if isinstance(error, WarehouseBusyError):
        return BUSY
    if isinstance(error, ConfigError):
        return USAGE
    return REFUSED


# ---- what a command prints


class Reportable(Protocol):
    """A result a command shows: ``to_dict()`` for ``--json``, ``str()`` for people."""

    def to_dict(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Plain:
    """A result made of a JSON object and the text people read."""

    data: Mapping[str, Any]
    text: str

    def to_dict(self) -> Mapping[str, Any]:
        return self.data

    def __str__(self) -> str:
        return self.text


@dataclass
class Output:
    """Where a command's words go: results on stdout, messages and progress on stderr.

    Every message is shown once: a problem the core logged as it happened is not repeated
    when the command reports it at the end.
    """

    json_lines: bool = False
    verbose: bool = False
    quiet: bool = False
    console: Console = field(init=False)
    _shown: set[str] = field(default_factory=set, init=False)
    _live: _LiveProgress | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.console = Console(
            file=sys.stderr, soft_wrap=True, highlight=False, markup=False, emoji=False
        )

    def show(self, result: Reportable, text: str | None = None) -> None:
        """One result: a JSON line with ``--json``, else ``text`` (``str(result)`` if None)."""
        line = json.dumps(result.to_dict(), default=str) if self.json_lines else text
        if line is None:
            line = str(result)
        if not line:
            return
        with self._paused():
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def message(self, line: str, *, key: str | None = None) -> None:
        """A line on stderr, unless a message with the same ``key`` was shown already."""
        key = line if key is None else key
        if key in self._shown:
            return
        self._shown.add(key)
        self.console.print(line)

    def error(self, text: str) -> None:
        self.message(f"error: {text}", key=text)

    @contextmanager
    def _paused(self) -> Iterator[None]:
        # a live line on a terminal is cleared while stdout is written, then drawn again
        live = self._live
        if live is None:
            yield
            return
        live.stop()
        try:
            yield
        finally:
            live.start()

    @contextmanager
    def progress(self) -> Iterator[None]:
        """Show the core's progress events while the block runs (not with --json or -q)."""
        if self.json_lines or self.quiet:
            yield
            return
        listener: progress.Listener
        if self.console.is_terminal:
            self._live = _LiveProgress(self.console)
            listener = self._live
        else:
            listener = PlainProgress(self.console.print)
        try:
            with progress.listening(listener):
                yield
        finally:
            if self._live is not None:
                self._live.stop()
                self._live = None


# ---- progress

_UNITS = {"pull": "pages", "land": "files", "stage": "files", "audit": "files", "publish": "files"}


class _StepClock:
    """Rows per second within the current step."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.step: tuple[str, int | None] = ("", None)
        self.done = 0
        self.started = 0.0

    def enter(self, event: progress.Event) -> bool:
        """Whether ``event`` begins a step: another step, or the same step over new items
        (its total changed or its count went back, as when a run stages the next platform)."""
        step, done = (event.step, event.total), event.done
        self.done, previous = done, self.done
        if step == self.step and done >= previous:
            return False
        self.step, self.started = step, self.clock()
        return True

    def rate(self, rows: int | None) -> float | None:
        elapsed = self.clock() - self.started
        if rows is None or elapsed < 0.5:
            return None
        return rows / elapsed


def describe(event: progress.Event, rate: float | None = None) -> str:
    """One event in words: ``stage: 3/10 files, 12,345 rows, 4,567 rows/s (a file)``."""
    parts: list[str] = []
    unit = _UNITS.get(event.step, "")
    if event.total is not None:
        parts.append(f"{event.done}/{event.total} {unit}".rstrip())
    elif event.done:
        parts.append(f"{event.done} {unit}".rstrip())
    if event.rows is not None:
        parts.append(f"{event.rows:,} rows")
    if rate is not None:
        parts.append(f"{rate:,.0f} rows/s")
    text = f"{event.step}: {', '.join(parts)}" if parts else event.step
    return f"{text} ({event.detail})" if event.detail else text


class PlainProgress:
    """Progress as plain lines, for a log or a pipe: a line when the step changes, when a
    step's count is complete, and otherwise at most one per ``interval`` seconds."""

    def __init__(
        self,
        write: Callable[[str], None],
        *,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.write = write
        self.interval = interval
        self.clock = clock
        self.steps = _StepClock(clock)
        self.last = float("-inf")

    def __call__(self, event: progress.Event) -> None:
        now = self.clock()
        changed = self.steps.enter(event)
        complete = event.total is not None and event.done >= event.total
        if not (changed or complete or now - self.last >= self.interval):
            return
        self.last = now
        self.write(f"progress: {describe(event, self.steps.rate(event.rows))}")


class _LiveProgress:
    """Progress on a terminal: one live line with a spinner, drawn from the first event on and
    cleared when the command ends."""

    def __init__(self, console: Console) -> None:
        self.steps = _StepClock(time.monotonic)
        self.spinner = Spinner("dots")
        self.text = Text("")
        self.shown = False
        self.live = Live(
            self._render(),
            console=console,
            transient=True,
            refresh_per_second=8,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def _render(self) -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_row(self.spinner, self.text)
        return grid

    def __call__(self, event: progress.Event) -> None:
        self.steps.enter(event)
        self.text = Text(describe(event, self.steps.rate(event.rows)))
        self.live.update(self._render())
        if not self.shown:
            self.shown = True
            self.live.start()

    def stop(self) -> None:
        if self.shown:
            self.live.stop()

    def start(self) -> None:
        if self.shown:
            self.live.start()


# ---- log records as messages


class _MessageHandler(logging.Handler):
    """The core's log records on stderr through :class:`Output`, each message once.

    Without -v a record is one line (``error: ...``) and never a traceback.
    """

    def __init__(self, output: Output) -> None:
        super().__init__()
        self.output = output
        if output.verbose:
            self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if self.output.verbose:
                line = self.format(record)
                self.output.message(line, key=None if record.exc_info else text)
            else:
                self.output.message(f"{record.levelname.lower()}: {text}", key=text)
        except Exception:
            self.handleError(record)


@contextmanager
def _logging_to(output: Output) -> Iterator[None]:
    root, ours = logging.getLogger(), logging.getLogger("ingest")
    levels = (root.level, ours.level)
    handler = _MessageHandler(output)
    if output.verbose:
        root.setLevel(logging.INFO)
        ours.setLevel(logging.DEBUG)
    else:
        # the handler filters; the loggers' own levels stay as whoever embeds us set them
        handler.setLevel(logging.ERROR if output.quiet else logging.WARNING)
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        ours.setLevel(levels[1])


# ---- running a command


@dataclass
class Session:
    """What a command's body works with: its output, and the settings its flags name."""

    output: Output
    warehouse: str | None = None
    data_path: Path | None = None

    def settings(self) -> Settings:
        return Settings.from_env(self.warehouse, self.data_path)

    def show(self, result: Reportable, text: str | None = None) -> None:
        self.output.show(result, text)


def execute(
    ctx: typer.Context,
    work: Callable[[Session], int],
    *,
    json_lines: bool = False,
    warehouse: str | None = None,
    data_path: Path | None = None,
) -> int:
    """Run a command's body with messages, progress and exit codes; return its exit code."""
    meta = ctx.find_root().meta
    output = Output(
        json_lines=json_lines, verbose=bool(meta.get("verbose")), quiet=bool(meta.get("quiet"))
    )
    session = Session(output, warehouse, data_path)
    with _logging_to(output):
        try:
            with output.progress():
                return work(session)
        except UsageProblem as exc:
            output.error(str(exc))
            return USAGE
        except IngestError as exc:
            if stopping():
                return _interrupted(exc)
            output.error(str(exc))
            return _exit_code_of(exc)
        except Exception as exc:  # a bug: say so plainly, with the traceback only on request
            if stopping():
                return _interrupted(exc)
            logging.getLogger("ingest").debug("internal error", exc_info=True)
            output.message(
                f"internal error: {type(exc).__name__}: {exc} (rerun with -v for details)"
            )
            return INTERNAL
        except KeyboardInterrupt as exc:
            return _interrupted(exc)


def _interrupted(exc: BaseException) -> int:
    logging.getLogger("ingest").debug("interrupted", exc_info=exc)
    print(INTERRUPTED, file=sys.stderr)
    return exit_code()


# ---- shared options


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"expected a date like 2026-09-01, got {text!r}") from None


def _known_platform(value: str | list[str] | None) -> str | list[str] | None:
    known = platform_names()
    for name in [value] if isinstance(value, str) else value or []:
        if name not in known:
            raise typer.BadParameter(f"{name!r} is not an installed platform: {', '.join(known)}")
    return value


def _platform_metavar() -> str:
    return "[" + "|".join(platform_names()) + "]"


def _remember(flag: str) -> Callable[[typer.Context, bool], bool]:
    def callback(ctx: typer.Context, value: bool) -> bool:
        if value:
            ctx.find_root().meta[flag] = True
        return value

    return callback


Warehouse = Annotated[
    str | None,
    typer.Option(
        "--warehouse",
        help="The DuckDB file to use, or ducklake:postgres:<libpq conninfo>.",
        show_default="$INGEST_WAREHOUSE, else warehouse/creators.duckdb",
    ),
]
DataPath = Annotated[
    Path | None,
    typer.Option(
        "--data-path",
        help="DuckLake only: where the lake's Parquet files live.",
        show_default="$INGEST_LAKE_DATA_PATH",
    ),
]
Json = Annotated[
    bool,
    typer.Option(
        "--json", help="Print one JSON object per line on stdout (see README), no progress."
    ),
]
OnePlatform = Annotated[
    str | None,
    typer.Option(
        "--platform",
        help="The platform the files are from.",
        show_default="detected from each file",
        callback=_known_platform,
        metavar=_platform_metavar(),
    ),
]
Platforms = Annotated[
    list[str] | None,
    typer.Option(
        "--platform",
        help="Only this platform; repeatable.",
        show_default="every installed platform",
        callback=_known_platform,
        metavar=_platform_metavar(),
    ),
]
Inbox = Annotated[
    Path | None,
    typer.Option(
        "--inbox",
        help="Folder of exports to pick up: <inbox>/<platform>/<yyyy-mm-dd>/.",
        show_default="$INGEST_INBOX, else inbox/ beside the landing zone",
    ),
]
Reprocess = Annotated[
    bool,
    typer.Option(
        "--reprocess",
        help="Parse, audit and publish again bytes already published (they are reported"
        " unchanged otherwise); core rows change only where values differ.",
    ),
]
RetryRejected = Annotated[
    bool,
    typer.Option(
        "--retry-rejected",
        help="Parse again the files an earlier run rejected (they are skipped otherwise).",
    ),
]
Verbose = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Log more detail, with tracebacks; anywhere on the line.",
        callback=_remember("verbose"),
        expose_value=False,
    ),
]
Quiet = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Errors only: no progress, no warnings; anywhere on the line.",
        callback=_remember("quiet"),
        expose_value=False,
    ),
]


def _example_platform(*, pulls: bool = False) -> tuple[str, str]:
    """An installed platform (one with an API pull) and its token variable, for examples."""
    for name, declared in platforms().items():
        if not pulls or declared.pull:
            return name, declared.token_env or "TOKEN"
    return "PLATFORM", "TOKEN"


EXAMPLE_PLATFORM, _ = _example_platform()
PULL_PLATFORM, PULL_TOKEN = _example_platform(pulls=True)


def _token_variables() -> str:
    named = [f"{p.token_env} ({n})" for n, p in platforms().items() if p.token_env]
    return ", ".join(named) or "none installed"


def examples(*lines: str) -> str:
    """A command's epilog: its examples, one per line, then the exit codes."""
    shown = "\n\n".join(f"  $ {line}" for line in lines)
    return f"Examples:\n\n{shown}\n\n{EXIT_CODES}"


# ---- the app


app = typer.Typer(
    name="ingest",
    help="Land, parse, audit and publish creator metrics into DuckDB. Every command takes"
    " --json (one JSON object per line on stdout), -v and -q (before or after the command).",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"ingest {version(PACKAGE)}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the installed version and exit.",
            callback=_version,
            is_eager=True,
        ),
    ] = False,
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Land, parse, audit and publish creator metrics into DuckDB.

    Every command takes --json (one JSON object per line on stdout), -v and -q.
    """


@app.command(
    "load",
    short_help="Land, parse, audit and publish export files.",
    epilog=examples(
        "ingest load exports/ --date 2026-09-01",
        f"ingest load studio-export.zip --platform {EXAMPLE_PLATFORM} --account ACCOUNT_ID",
        "ingest load creators.csv --json",
    ),
)
def load_command(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(help="Export files or folders; a creators mapping CSV loads first."),
    ],
    platform: OnePlatform = None,
    account: Annotated[
        str | None,
        typer.Option(help="The account for files that do not name it.", show_default="none"),
    ] = None,
    day: Annotated[
        date | None,
        typer.Option(
            "--date",
            parser=_day,
            metavar="YYYY-MM-DD",
            help="The day snapshot files describe.",
            show_default="today, UTC",
        ),
    ] = None,
    reprocess: Reprocess = False,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Land, parse, audit and publish export files: each file is one load, whole or nothing."""

    def work(session: Session) -> int:
        from ingest.creators import load_mappings, split_mappings
        from ingest.pipeline import OK_STATUSES, load_files

        settings = session.settings()
        # a creators mapping loads first, so accounts loaded with it roll up under their creators
        mappings, files = split_mappings(paths)
        if not mappings and not files:
            shown = ", ".join(str(p) for p in paths)
            raise Refused(f"no files to load in {shown} (hidden files are skipped)")
        results = load_mappings(mappings, settings)
        results += load_files(
            files, settings, platform=platform, account=account, day=day, reprocess=reprocess
        )
        for result in results:
            text = ""
            if result.status == "published":
                text = (
                    f"{result.source}: {result.platform}/{result.format}: read"
                    f" {result.rows_read}, loaded {result.rows_loaded}, quarantined"
                    f" {result.rows_quarantined} (load {result.load_id})"
                )
            elif result.status in OK_STATUSES:
                text = f"{result.source}: {result.status}: {result.message}"
            session.show(result, text)
            if result.status not in OK_STATUSES:
                session.output.error(str(result.message))
        return OK if all(r.status in OK_STATUSES for r in results) else REFUSED

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


@app.command(
    "demo",
    short_help="Generate sample exports and run the whole pipeline on them.",
    epilog=examples("ingest demo", "ingest demo --creators 20 --days 14 --seed 1"),
)
def demo_command(
    ctx: typer.Context,
    creators: Annotated[int, typer.Option(help="How many creators to simulate.", min=1)] = 60,
    days: Annotated[int, typer.Option(help="How many days of history, to yesterday.", min=1)] = 35,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same data.")] = 7,
    out: Annotated[
        Path, typer.Option(help="Where the sample exports are written (replaced).")
    ] = Path("demo-data"),
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Generate sample exports for every platform and run the whole pipeline on them."""

    def work(session: Session) -> int:
        from ingest.demo import run_demo

        settings = session.settings()
        summary = run_demo(settings, out=out, creators=creators, days=days, seed=seed)
        data = {
            "out": str(out),
            "warehouse": settings.describe(),
            "bi_copy": None if settings.lake else str(settings.bi_warehouse),
            "loads": _published_loads(settings),
        }
        session.show(Plain(data, summary))
        return OK

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


def _published_loads(settings: Settings) -> dict[str, dict[str, int]]:
    """Published loads per platform, as BI sees them (``ingest demo --json``)."""
    from ingest.sqlfiles import run_sql
    from ingest.warehouse import open_bi

    conn = open_bi(settings)
    try:
        rows = run_sql(conn, "cli/published_loads").fetchall()
    finally:
        conn.close()
    fields = ("files", "rows_read", "rows_loaded", "rows_quarantined")
    return {
        platform: dict(zip(fields, map(int, counts), strict=True)) for platform, *counts in rows
    }


RunDate = Annotated[
    date,
    typer.Option("--date", parser=_day, metavar="YYYY-MM-DD", help="The day to run (UTC)."),
]


@app.command(
    "run",
    short_help="Run one day as the nightly DAG does.",
    epilog=examples(
        "ingest run --date 2026-09-01",
        f"ingest run --date 2026-09-01 --platform {EXAMPLE_PLATFORM} --inbox exports/ --json",
    ),
)
def run_command(
    ctx: typer.Context,
    day: RunDate,
    platform: Platforms = None,
    inbox: Inbox = None,
    retry_rejected: RetryRejected = False,
    reprocess: Reprocess = False,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """What the nightly DAG does for one day: pick up the inbox, replay landing, publish."""
    return execute(
        ctx,
        lambda session: _run_days(session, [day], platform, inbox, retry_rejected, reprocess),
        json_lines=as_json,
        warehouse=warehouse,
        data_path=data_path,
    )


@app.command(
    "backfill",
    short_help="Run a range of days again from the landing zone.",
    epilog=examples(
        "ingest backfill --start 2026-09-01 --end 2026-09-07",
        "ingest backfill --start 2026-09-01 --end 2026-09-07 --platform"
        f" {EXAMPLE_PLATFORM} --retry-rejected",
    ),
)
def backfill_command(
    ctx: typer.Context,
    start: Annotated[
        date,
        typer.Option(parser=_day, metavar="YYYY-MM-DD", help="The first day (UTC), included."),
    ],
    end: Annotated[
        date,
        typer.Option(parser=_day, metavar="YYYY-MM-DD", help="The last day (UTC), included."),
    ],
    platform: Platforms = None,
    inbox: Inbox = None,
    retry_rejected: RetryRejected = False,
    reprocess: Reprocess = False,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Run every day of a range again from the landing zone, one day after the other."""

    def work(session: Session) -> int:
        if end < start:
            raise UsageProblem(f"--end {end} is before --start {start}")
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        return _run_days(session, days, platform, inbox, retry_rejected, reprocess)

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


def _run_days(
    session: Session,
    days: Sequence[date],
    platforms: Sequence[str] | None,
    inbox: Path | None,
    retry_rejected: bool,
    reprocess: bool,
) -> int:
    from ingest import runs

    settings = session.settings()
    chosen = tuple(platforms) if platforms else platform_names()
    ok = True
    # one day after the other, as runs.backfill does, so each day's result shows when it ends
    for day in days:
        summary = runs.run_day(
            day,
            settings,
            platforms=chosen,
            inbox=inbox,
            retry_rejected=retry_rejected,
            reprocess=reprocess,
        )
        session.show(Plain({**summary.to_dict(), "ok": summary.ok}, str(summary)))
        ok = ok and summary.ok
    return OK if ok else REFUSED


@app.command(
    "pull",
    short_help="Pull one day of a platform's API and load it.",
    help="Pull one day of a platform's API for the tracked accounts, land every page, load"
    " it; an interrupted pull resumes where it stopped. The token comes from the platform's"
    f" environment variable: {_token_variables()}.",
    epilog=examples(
        f"{PULL_TOKEN}=... ingest pull --platform {PULL_PLATFORM} --date 2026-09-01"
        " --accounts ID1,ID2",
        f"ingest pull --platform {PULL_PLATFORM} --date 2026-09-01 --creators creators.csv --json",
    ),
)
def pull_command(
    ctx: typer.Context,
    platform: Annotated[
        str,
        typer.Option(
            help="The platform whose API to pull.",
            callback=_known_platform,
            metavar=_platform_metavar(),
        ),
    ],
    day: Annotated[
        date,
        typer.Option(
            "--date", parser=_day, metavar="YYYY-MM-DD", help="The day to pull (landing day)."
        ),
    ],
    accounts: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated account ids or handles.", show_default="none: use --creators"
        ),
    ] = None,
    creators: Annotated[
        Path | None,
        typer.Option(
            help="A creators mapping CSV: its accounts on the platform.", show_default="none"
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Replace the platform's API host (tests, proxies).",
            show_default="the platform's own",
        ),
    ] = None,
    no_load: Annotated[
        bool, typer.Option("--no-load", help="Land the pages only; do not publish.")
    ] = False,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Pull one day of a platform's API for the tracked accounts, land every page, load it.

    An interrupted pull resumes where it stopped.
    """

    def work(session: Session) -> int:
        from ingest import extract

        if accounts is not None and creators is not None:
            raise UsageProblem("use --accounts or --creators, not both")
        names = [a.strip() for a in accounts.split(",") if a.strip()] if accounts else None
        summary = extract.pull(
            platform,
            day,
            session.settings(),
            accounts=names,
            creators=creators,
            base_url=base_url,
            load=not no_load,
        )
        session.show(summary)
        return OK if summary.ok else REFUSED

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


@app.command(
    "report",
    short_help="Write an HTML report with charts.",
    epilog=examples("ingest report", "ingest report --out site/creators.html"),
)
def report_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("report.html"),
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Write one self-contained HTML page of charts from the BI copy."""

    def work(session: Session) -> int:
        from ingest import report as reporting

        path = reporting.write_report(session.settings(), out)
        session.show(Plain({"path": str(path)}, f"report written to {path}"))
        return OK

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


@app.command(
    "validate",
    short_help="Audit a load again and print the results.",
    epilog=examples(
        "ingest validate 20260901T001500123456-3f2a9c1b0d-a1b2c3",
        "ingest validate 20260901T001500123456-3f2a9c1b0d-a1b2c3 --json",
    ),
)
def validate_command(
    ctx: typer.Context,
    load_id: Annotated[str, typer.Argument(help="The load to audit again (meta.loads.load_id).")],
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Run the audit of a load again and print every expectation's result; 1 if it fails."""

    def work(session: Session) -> int:
        from ingest import validation

        audit = validation.revalidate(load_id, session.settings())
        session.show(audit)
        return OK if audit.passed else REFUSED

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


def _known_format(value: str) -> str:
    from ingest.export import FORMATS

    if value not in FORMATS:
        raise typer.BadParameter(f"{value!r}: expected one of {', '.join(FORMATS)}")
    return value


@app.command(
    "export",
    short_help="Write the marts to Parquet or CSV files.",
    epilog=examples(
        "ingest export --out exports/",
        "ingest export --out exports/ --mart creator_daily --mart creator_tier_daily --format csv",
    ),
)
def export_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="The folder to write the files to.")],
    mart: Annotated[
        list[str] | None,
        typer.Option(
            help="A mart of the marts schema (creator_daily, ...); repeatable.",
            show_default="every mart",
        ),
    ] = None,
    file_format: Annotated[
        str,
        typer.Option(
            "--format", help="parquet or csv.", metavar="[parquet|csv]", callback=_known_format
        ),
    ] = "parquet",
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Write the marts BI reads to one Parquet or CSV file each, as <out>/<mart>.<format>."""

    def work(session: Session) -> int:
        from ingest.export import UnknownMartError, export_marts

        try:
            written = export_marts(session.settings(), out, marts=mart or (), format=file_format)
        except UnknownMartError as exc:
            raise UsageProblem(str(exc)) from None
        for exported in written:
            session.show(exported)
        return OK

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


@app.command(
    "status",
    short_help="What the pipeline did lately and what needs a person.",
    epilog=examples("ingest status", "ingest status --limit 3 --json"),
)
def status_command(
    ctx: typer.Context,
    limit: Annotated[
        int,
        typer.Option(
            min=1,
            help="How many of the latest loads, rejected files, blocked loads and failed tasks"
            " to list (the counts cover everything).",
        ),
    ] = 10,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Show the latest loads, per platform the last day published, rejected files, quarantine,
    audit failures, tracked accounts, token expiry and API quota; never writes."""

    def work(session: Session) -> int:
        from ingest.status import status

        session.show(status(session.settings(), limit=limit))
        return OK

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


@app.command(
    "config",
    short_help="Show the effective settings, secrets masked.",
    epilog=examples("ingest config", "INGEST_BUSY_TIMEOUT=120 ingest config --json"),
)
def config_command(
    ctx: typer.Context,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Show every INGEST_* setting's effective value and where it came from (flag, environment
    or default); tokens and passwords are masked. A bad value is named (exit 2)."""

    def work(session: Session) -> int:
        from ingest.config import describe_config

        path = None if data_path is None else str(data_path)
        session.show(describe_config(warehouse, path))
        return OK

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


accounts_app = typer.Typer(
    name="accounts",
    help="The accounts the API pulls ask for, kept in the warehouse (see README).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(accounts_app, name="accounts")

PullPlatform = Annotated[
    str,
    typer.Argument(
        help="The platform whose pull asks for the accounts.",
        callback=_known_platform,
        metavar=_platform_metavar(),
    ),
]
AccountValues = Annotated[
    list[str],
    typer.Argument(
        help="Account ids or handles, as `ingest pull --accounts` reads them.", metavar="ACCOUNT..."
    ),
]


def _changed(change: Any, session: Session) -> int:
    session.show(change)
    return OK if change.ok else REFUSED


@accounts_app.command(
    "add",
    short_help="Track accounts: the pulls ask for them from now on.",
    epilog=examples(
        f"ingest accounts add {PULL_PLATFORM} ACCOUNT_ID @handle --creator c42",
        f"ingest accounts add {PULL_PLATFORM} ACCOUNT_ID --json",
    ),
)
def accounts_add_command(
    ctx: typer.Context,
    platform: PullPlatform,
    account: AccountValues,
    creator: Annotated[
        str | None,
        typer.Option(help="The creator the accounts belong to (a label).", show_default="none"),
    ] = None,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Track accounts of a platform; an account its pull would refuse is refused (exit 1),
    naming it, and the others are still added. Adding one twice changes nothing."""

    def work(session: Session) -> int:
        from ingest import accounts

        return _changed(accounts.add(session.settings(), platform, account, creator), session)

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


@accounts_app.command(
    "remove",
    short_help="Stop tracking accounts.",
    epilog=examples(f"ingest accounts remove {PULL_PLATFORM} ACCOUNT_ID"),
)
def accounts_remove_command(
    ctx: typer.Context,
    platform: PullPlatform,
    account: AccountValues,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Stop tracking accounts of a platform; one that is not tracked is reported, not an error."""

    def work(session: Session) -> int:
        from ingest import accounts

        return _changed(accounts.remove(session.settings(), platform, account), session)

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


@accounts_app.command(
    "list",
    short_help="List the tracked accounts.",
    epilog=examples("ingest accounts list", f"ingest accounts list --platform {PULL_PLATFORM}"),
)
def accounts_list_command(
    ctx: typer.Context,
    platform: Annotated[
        str | None,
        typer.Option(
            "--platform",
            help="Only this platform's accounts.",
            show_default="every platform",
            callback=_known_platform,
            metavar=_platform_metavar(),
        ),
    ] = None,
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """List the tracked accounts, of every platform or of one; never writes."""

    def work(session: Session) -> int:
        from ingest import accounts

        session.show(accounts.list_accounts(session.settings(), platform))
        return OK

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


@accounts_app.command(
    "import",
    short_help="Track every account of a creators mapping CSV.",
    epilog=examples("ingest accounts import creators.csv"),
)
def accounts_import_command(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(help="A creators mapping: creator_id, platform, account_id, handle.")
    ],
    as_json: Json = False,
    warehouse: Warehouse = None,
    data_path: DataPath = None,
) -> int:
    """Track every account of a creators mapping, never replacing one; an unusable line is
    refused naming the file, line and field (exit 1), and the other lines are added."""

    def work(session: Session) -> int:
        from ingest import accounts

        return _changed(accounts.import_csv(session.settings(), path), session)

    return execute(ctx, work, json_lines=as_json, warehouse=warehouse, data_path=data_path)


# ---- entry points


def _leaf_commands(command: Any) -> Iterator[Any]:
    children = getattr(command, "commands", None)
    if children is None:
        yield command
        return
    for child in children.values():
        yield from _leaf_commands(child)


@cache
def build_command() -> Any:
    """The click command tree of :data:`app`, with -v and -q on every command too."""
    root = typer.main.get_command(app)
    everywhere = [p for p in root.params if p.name in ("verbose", "quiet")]
    for command in _leaf_commands(root):
        command.params.extend(everywhere)
    return root


def _invoke(argv: Sequence[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = build_command().main(args, prog_name="ingest", standalone_mode=False)
    except typer.TyperException as exc:  # the command line did not parse
        _show_usage_error(exc)
        return USAGE
    except typer.Abort:
        return exit_code() if stopping() else USAGE
    return code if isinstance(code, int) else OK


def _show_usage_error(exc: typer.TyperException) -> None:
    from typer import rich_utils

    context = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and context is not None:
        # `ingest` alone: the help, on stderr since it is the answer to a usage error
        print(context.get_help(), file=sys.stderr)
        return
    try:
        rich_utils.rich_format_error(exc)  # type: ignore[arg-type]
    except Exception:
        print(f"error: {exc.format_message()}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    # signal handlers can only be set from the main thread (tests may call main elsewhere)
    if threading.current_thread() is not threading.main_thread():
        return _invoke(argv)
    with handling_stops():
        code = _invoke(argv)
    if stopping() and code != exit_code():
        # stopped while something swallowed the signal: say so, and never report success
        print(INTERRUPTED, file=sys.stderr)
        return exit_code()
    return code


def run() -> NoReturn:
    """The ``ingest`` script and ``python -m ingest``: ``main``, then leave.

    After a stop the process leaves without the interpreter's teardown. By then every
    transaction has rolled back and the staging threads are joined, but native thread pools
    (DuckDB's, Arrow's, those of a library whose import was cut short) can still be alive, and
    tearing them down at exit aborted the process (``terminate called``, status -6) instead
    of the promised 143/130.
    """
    code = main()
    if stopping():
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
