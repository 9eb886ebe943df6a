"""The benchmark's inputs have the shapes the cases claim, and its history reads back per case."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
import gen
import history


def videos(path: Path) -> list[dict[str, object]]:
    return json.loads(path.read_text())["data"]["videos"]


def test_findings_pages_trip_the_warning_in_one_page_of_ten_and_the_critical_rule_in_one_of_100(
    tmp_path,
):
    pages = gen.tiktok_pages(
        tmp_path, rows=20_000, page_rows=100, accounts=50, warning_pages=10, critical_pages=100
    )
    assert len(pages) == 200
    warned, critical = [], []
    for n, page in enumerate(pages):
        rows = videos(page)
        assert len(rows) == 100
        views = [(int(v["view_count"]), int(v["like_count"])) for v in rows]  # type: ignore[call-overload]
        # a negative count is the critical row (quarantined); the warning is about the others
        over = [v for v, likes in views if 0 <= v < likes]
        negative = [v for v, _ in views if v < 0]
        if over:
            # more than the 1% the warning (views >= likes, mostly 0.99) tolerates
            assert len(over) / len(rows) > 0.01
            warned.append(n)
        if negative:
            critical.append(n)
    assert len(warned) == 20 and len(critical) == 2


def test_youtube_pages_hold_50_videos_as_videos_list_returns_them(tmp_path):
    pages = gen.youtube_videos_pages(tmp_path, rows=120, page_items=50, channels=7)
    docs = [json.loads(p.read_text()) for p in pages]
    assert [len(d["items"]) for d in docs] == [50, 50, 20]
    assert all(d["kind"] == "youtube#videoListResponse" for d in docs)
    counts = [i["statistics"]["viewCount"] for d in docs for i in d["items"]]
    assert all(isinstance(c, str) and c.isdigit() for c in counts)  # strings, as the API sends


def test_history_lists_each_target_run_after_run(tmp_path):
    def run(when: str, scale: float, value: float) -> None:
        target = {"label": "whole", "value": value, "target": 1.5, "unit": "x", "met": value <= 1.5}
        report = {
            "generated_at": when,
            "commit": "abc",
            "scale": scale,
            "results": [{"case": "tiktok_1m", "targets": [target]}],
        }
        (tmp_path / f"{when}.json").write_text(json.dumps(report))

    run("2026-12-01T00:00:00", 1.0, 3.0)
    run("2026-12-02T00:00:00", 1.0, 1.4)
    run("2026-12-02T01:00:00", 0.05, 9.0)
    lines = history.trend(history.runs(tmp_path), {"tiktok_1m"}, 1.0)
    assert [(p[0][:10], p[3], p[5]) for p in lines[("tiktok_1m", "whole (x)")]] == [
        ("2026-12-01", 3.0, False),
        ("2026-12-02", 1.4, True),
    ]
