"""What a command prints and how it ends: results, messages once, progress, exit codes.

Every command's body runs inside :func:`execute`, which sets up the messages and the
progress display, renders results as JSON lines or text, and turns errors into the documented
exit codes.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import typer
from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from ingest import progress
from ingest.config import ConfigError, Settings
from ingest.errors import IngestError, WarehouseBusyError
from ingest.stops import INTERRUPTED, exit_code, stopping

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
