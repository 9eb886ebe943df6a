"""Progress of long commands: the core says which step it is on; whoever listens shows it.

The core calls :func:`emit` at each step of a load or a run (land, stage, audit, publish, marts,
BI copy, pull) and never prints. A front end (the CLI) installs one listener with
:func:`listening`; without one, :func:`emit` costs one global read. The listener is process-wide
rather than a context variable because staging runs on worker threads, which do not inherit
the caller's context.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

STEPS = ("pull", "land", "stage", "audit", "publish", "marts", "bi_copy")


@dataclass(frozen=True)
class Event:
    """One step's progress.

    Args:
        step: one of :data:`STEPS`.
        done: files (or pages, or days) finished in this step so far.
        total: how many there are in all, when known.
        rows: rows handled in this step so far, when the step counts rows.
        detail: a short word on what is being worked on (a file name, a platform, a day);
            already fit to show (no token, no password).
    """

    step: str
    done: int = 0
    total: int | None = None
    rows: int | None = None
    detail: str = ""


Listener = Callable[[Event], None]

_lock = threading.RLock()
_listener: Listener | None = None


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send every :func:`emit` in this process to ``listener`` until the block ends."""
    global _listener
    with _lock:
        previous, _listener = _listener, listener
    try:
        yield
    finally:
        with _lock:
            _listener = previous


def emit(
    step: str,
    *,
    done: int = 0,
    total: int | None = None,
    rows: int | None = None,
    detail: str = "",
) -> None:
    """Tell the listener, if any, where a step stands; a failing listener never fails the core."""
    if step not in STEPS:
        raise ValueError(f"unknown progress step {step!r}; expected one of {', '.join(STEPS)}")
    listener = _listener
    if listener is None:
        return
    # why: staging threads emit concurrently; one event at a time keeps a terminal line whole,
    # and a display problem must never fail a load
    with _lock, suppress(Exception):
        listener(Event(step, done, total, rows, detail))
