"""The ``ingest`` command line.

One typer function per command: the pipeline's in ``commands``, those that look after an
installation in ``manage``. The options every command shares are declared once in ``app``
(``Warehouse``, ``DataPath``, ``Json``...), ``-v/-q`` are added to every command of the tree by
:func:`build_command`, and each command's body runs inside ``output.execute``, which sets up the
messages and the progress display, renders results as JSON lines or text, and turns errors into
the documented exit codes. A new command is a function under ``@app.command()`` whose body calls
``execute``; a group of commands (``ingest accounts add``) is a ``typer.Typer()`` whose commands
do the same, added with ``app.add_typer``. The README's synopsis lists every command and option,
and a test keeps it in step with this tree.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any, NoReturn

import typer

from ingest.cli import commands, manage  # noqa: F401  (importing them registers their commands)
from ingest.cli.app import app
from ingest.cli.output import OK, USAGE
from ingest.stops import INTERRUPTED, exit_code, handling_stops, stopping

__all__ = ["INTERRUPTED", "build_command", "main", "run"]

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
