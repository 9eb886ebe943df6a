"""Stop signals: SIGTERM and SIGINT unwound in order, with the exit status schedulers expect.

A scheduler stops a task with SIGTERM, a person with Ctrl-C. Either one raises in the main
thread, so open transactions roll back on the way out and the warehouse keeps its last
published state; code that sees an error may ask :func:`stopping` whether it is the stop's echo.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

INTERRUPTED = "interrupted: the warehouse keeps its last published state"


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler or ``kill`` stopping us), unwound like Ctrl-C: open transactions
    roll back on the way out, so the warehouse keeps its last published state."""


# a stop's exit status is 128 + the signal's number, as shells and schedulers read it
_STOP_CODES = {signal.SIGTERM: 143, signal.SIGINT: 130}
_stopped = threading.Event()
_stop_code = 130
# how long an orderly unwind may take after a stop signal before the process simply exits
SIGTERM_GRACE_SECONDS = 10.0


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    global _stop_code
    if _stopped.is_set():
        return  # already unwinding: a second signal must not break a rollback
    # duckdb turns an exception raised during a query into RuntimeError("Query interrupted"),
    # so the flag, not the exception type, is what says we were stopped
    _stop_code = _STOP_CODES[signal.Signals(signum)]
    _stopped.set()
    watchdog = threading.Timer(SIGTERM_GRACE_SECONDS, _exit_now)
    watchdog.daemon = True
    watchdog.start()
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _exit_now() -> None:
    # the unwind got stuck (an exception raised inside a library can leave a lock held);
    # leaving without it is safe: every warehouse change is one transaction, and the crash
    # drills kill runs at any instant. os.write, because the main thread may hold stderr's lock
    os.write(2, (INTERRUPTED + "\n").encode())
    os._exit(_stop_code)


def stopping() -> bool:
    """Whether a stop signal asked this process to stop (an error seen now may be its echo)."""
    return _stopped.is_set()


def stopped_by(error: BaseException) -> bool:
    """Whether an error is a stop's echo rather than the fault of the work it broke off."""
    if stopping():
        return True
    # DuckDB reports a query interrupted by a stop as an ordinary error of its own; imported
    # here, because the command line reads this module before it needs DuckDB
    import duckdb

    return isinstance(error, duckdb.InterruptException)


def exit_code() -> int:
    """The exit status a stop asks for: 128 + the signal's number (130 when none arrived)."""
    return _stop_code


@contextmanager
def handling_stops() -> Iterator[None]:
    """Turn stop signals into exceptions for the block (main thread only), then restore."""
    _stopped.clear()
    previous = {signum: signal.signal(signum, _on_stop_signal) for signum in _STOP_CODES}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
