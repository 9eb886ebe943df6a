"""How progress and messages are shown off a terminal: throttled lines, each message once."""

from __future__ import annotations

import pytest

from ingest import progress
from ingest.cli.output import Output, PlainProgress, describe


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_come_per_step_change_completion_or_second():
    clock, lines = Clock(), []
    show = PlainProgress(lines.append, interval=1.0, clock=clock)
    show(progress.Event("stage", 1, 10, 100, "a.json"))  # a new step: shown
    clock.now += 0.2
    show(progress.Event("stage", 2, 10, 200, "b.json"))  # same step, too soon: not shown
    clock.now += 0.9
    show(progress.Event("stage", 3, 10, 300, "c.json"))  # a second since the last line
    clock.now += 0.1
    show(progress.Event("stage", 10, 10, 1000, "j.json"))  # the step's count is complete
    show(progress.Event("stage", 1, 4, 40, "youtube"))  # the same step over new items
    show(progress.Event("audit", 0, 4))  # another step
    assert lines == [
        "progress: stage: 1/10 files, 100 rows (a.json)",
        "progress: stage: 3/10 files, 300 rows, 273 rows/s (c.json)",
        "progress: stage: 10/10 files, 1,000 rows, 833 rows/s (j.json)",
        "progress: stage: 1/4 files, 40 rows (youtube)",
        "progress: audit: 0/4 files",
    ]


@pytest.mark.parametrize(
    ("event", "text"),
    [
        (
            progress.Event("pull", 12, detail="youtube UC1 videos"),
            "pull: 12 pages (youtube UC1 videos)",
        ),
        (progress.Event("marts"), "marts"),
        (progress.Event("bi_copy", 2, 7), "bi_copy: 2/7"),
        (progress.Event("publish", 0, 3, 1234567), "publish: 0/3 files, 1,234,567 rows"),
    ],
)
def test_an_event_in_words(event: progress.Event, text: str):
    assert describe(event) == text


def test_a_message_is_shown_once(capsys: pytest.CaptureFixture[str]):
    output = Output()
    output.message("error: x.csv: not a recognised export", key="x.csv: not a recognised export")
    output.error("x.csv: not a recognised export")
    output.error("y.csv: empty")
    assert capsys.readouterr().err.splitlines() == [
        "error: x.csv: not a recognised export",
        "error: y.csv: empty",
    ]


def test_json_and_quiet_install_no_listener():
    for output in (Output(json_lines=True), Output(quiet=True)):
        with output.progress():
            assert progress._listener is None
    with Output().progress():
        assert isinstance(progress._listener, PlainProgress)
    assert progress._listener is None


def test_on_a_terminal_progress_is_one_live_line_cleared_at_the_end():
    import io

    from rich.console import Console

    from ingest.cli.output import _LiveProgress

    screen = io.StringIO()
    live = _LiveProgress(Console(file=screen, force_terminal=True, width=120))
    live(progress.Event("stage", 3, 10, 12345, "youtube/2026-09-01/channels.json"))
    live.live.refresh()
    live.stop()
    drawn = screen.getvalue()
    assert "stage: 3/10 files, 12,345 rows (youtube/2026-09-01/channels.json)" in drawn
    # drawn in place and erased at the end (cursor up, clear line): no line is left behind
    assert drawn.endswith("\x1b[2K")
