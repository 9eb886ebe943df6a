"""The progress channel: events reach the one listener, and a broken listener breaks nothing."""

from __future__ import annotations

import threading

import pytest

from ingest import progress


def test_events_reach_the_listener_only_inside_the_block() -> None:
    seen: list[progress.Event] = []
    progress.emit("stage", done=1)
    with progress.listening(seen.append):
        progress.emit("stage", done=1, total=3, rows=10, detail="page-1.json")
        progress.emit("publish", done=3, total=3)
    progress.emit("marts")
    assert seen == [
        progress.Event("stage", 1, 3, 10, "page-1.json"),
        progress.Event("publish", 3, 3, None, ""),
    ]


def test_worker_threads_reach_the_listener() -> None:
    seen: list[progress.Event] = []
    with progress.listening(seen.append):
        workers = [
            threading.Thread(target=progress.emit, args=("stage",), kwargs={"done": n})
            for n in range(8)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    assert sorted(event.done for event in seen) == list(range(8))


def test_a_failing_listener_does_not_fail_the_caller() -> None:
    def broken(event: progress.Event) -> None:
        raise OSError("terminal went away")

    with progress.listening(broken):
        progress.emit("audit", done=1)


def test_an_unknown_step_is_a_bug() -> None:
    with pytest.raises(ValueError, match="unknown progress step"):
        progress.emit("stagging")
