"""The ``ingest`` app, its root options and the options every command shares."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from ingest.cli.output import EXIT_CODES
from ingest.platforms import names as platform_names
from ingest.platforms import platforms

PACKAGE = "creator-metrics-ingest"

# ---- shared options


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"expected a date like 2026-09-01, got {text!r}") from None


def known_platform(value: str | list[str] | None) -> str | list[str] | None:
    known = platform_names()
    for name in [value] if isinstance(value, str) else value or []:
        if name not in known:
            raise typer.BadParameter(f"{name!r} is not an installed platform: {', '.join(known)}")
    return value


def platform_metavar() -> str:
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
        callback=known_platform,
        metavar=platform_metavar(),
    ),
]
Platforms = Annotated[
    list[str] | None,
    typer.Option(
        "--platform",
        help="Only this platform; repeatable.",
        show_default="every installed platform",
        callback=known_platform,
        metavar=platform_metavar(),
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
