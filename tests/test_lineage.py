"""Metric lineage: the registry, date-dependent mapping, parsers using it, the warehouse copy."""

from __future__ import annotations

import dataclasses
import itertools
import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest import lineage
from ingest.parsing import Record
from ingest.platforms.instagram import exports as instagram
from ingest.platforms.snapchat import settings as snapchat
from ingest.platforms.tiktok import settings as tiktok
from ingest.platforms.youtube import settings as youtube
from ingest.warehouse import migrate
from tests.conftest import context, split

D = date
ANNA = "17841400000000001"
OWN = "17841405309211844"
MEDIA = "18031234567890124"

# ---- mapping either side of each documented change

MAPPING_CASES = [
    # engagement -> total_interactions, every API version from 2023-12-11
    ("instagram", "media_insights", "engagement", D(2023, 12, 10), "interactions"),
    ("instagram", "media_insights", "engagement", D(2023, 12, 11), None),
    ("instagram", "media_insights", "total_interactions", D(2023, 9, 11), None),
    ("instagram", "media_insights", "total_interactions", D(2023, 12, 10), "interactions"),
    ("instagram", "media_insights", "total_interactions", D(2023, 12, 11), "interactions"),
    # impressions, plays -> views, every API version from 2025-04-21
    ("instagram", "media_insights", "impressions", D(2025, 4, 20), "views"),
    ("instagram", "media_insights", "impressions", D(2025, 4, 21), None),
    ("instagram", "media_insights", "plays", D(2025, 4, 20), "views"),
    ("instagram", "media_insights", "plays", D(2025, 4, 21), None),
    ("instagram", "media_insights", "views", D(2025, 1, 20), None),
    ("instagram", "media_insights", "views", D(2025, 1, 21), "views"),
    ("instagram", "media_insights", "views", D(2025, 4, 21), "views"),
    # video_views: the v21.0 changelog retires it for all versions on 2025-01-08
    ("instagram", "media_insights", "video_views", D(2025, 1, 7), "views"),
    ("instagram", "media_insights", "video_views", D(2025, 1, 8), None),
    ("instagram", "user_insights", "impressions", D(2025, 4, 20), "daily_views"),
    ("instagram", "user_insights", "impressions", D(2025, 4, 21), None),
    ("instagram", "user_insights", "views", D(2025, 4, 21), "daily_views"),
    # stable mappings hold on any day
    ("instagram", "media_insights", "saved", D(2019, 1, 1), "saves"),
    ("instagram", "media_insights", "saved", D(2026, 11, 1), "saves"),
    ("instagram", "media_insights", "reach", D(2026, 11, 1), "reach"),
    ("instagram", "user_insights", "reach", D(2026, 11, 1), None),
    ("instagram", "media_insights", "ig_reels_avg_watch_time", D(2026, 11, 1), None),
    # youtube viewCount keeps its name across the Shorts change: a break, not a rename
    ("youtube", "videos_list", "statistics.viewCount", D(2025, 3, 30), "views"),
    ("youtube", "videos_list", "statistics.viewCount", D(2025, 3, 31), "views"),
    ("youtube", "channels_list", "statistics.viewCount", D(2025, 3, 30), "total_views"),
    ("youtube", "channels_list", "statistics.viewCount", D(2025, 3, 31), "total_views"),
    ("tiktok", "research_video", "favourites_count", D(2026, 11, 1), "saves"),
    ("snapchat", "stats_lifetime", "VIEWS", D(2026, 11, 1), "total_views"),
]


@pytest.mark.parametrize(("platform", "surface", "field", "day", "expected"), MAPPING_CASES)
def test_canonical_for(
    platform: str, surface: str, field: str, day: date, expected: str | None
) -> None:
    assert lineage.canonical_for(platform, field, day, surface=surface) == expected


def test_interactions_are_documented_but_not_loaded() -> None:
    day = D(2023, 12, 10)
    assert lineage.column_for("instagram", "engagement", day, surface="media_insights") is None
    found = lineage.lookup("instagram", "engagement", day, surface="media_insights")
    assert found is not None and found.metric == "interactions" and found.entity is None
    assert lineage.column_for("instagram", "impressions", day, surface="media_insights") == "views"


@pytest.mark.parametrize(
    ("surface", "column"), [("videos_list", "views"), ("channels_list", "total_views")]
)
def test_youtube_shorts_change_is_a_new_definition_of_the_same_field(
    surface: str, column: str
) -> None:
    before = lineage.lookup("youtube", "statistics.viewCount", D(2025, 3, 30), surface=surface)
    after = lineage.lookup("youtube", "statistics.viewCount", D(2025, 3, 31), surface=surface)
    assert before is not None and after is not None
    assert (before.column, after.column) == (column, column)
    assert before.continuous and not after.continuous
    assert (before.valid_until, after.valid_from) == (D(2025, 3, 31), D(2025, 3, 31))


BREAK_CASES = [
    ("instagram", "views", [("media_insights", D(2025, 4, 21), D(2025, 1, 21))]),
    ("instagram", "daily_views", [("user_insights", D(2025, 4, 21), D(2025, 1, 21))]),
    ("instagram", "interactions", [("media_insights", D(2023, 12, 11), D(2023, 9, 12))]),
    (
        "youtube",
        "views",
        [
            ("studio_table", D(2025, 3, 31), D(2025, 3, 31)),
            ("videos_list", D(2025, 3, 31), D(2025, 3, 31)),
            ("videos_list", D(2026, 8, 27), D(2026, 8, 27)),
        ],
    ),
    (
        "youtube",
        "total_views",
        [
            ("channels_list", D(2025, 3, 31), D(2025, 3, 31)),
            ("channels_list", D(2026, 8, 27), D(2026, 8, 27)),
        ],
    ),
    ("youtube", "daily_views", [("analytics", D(2025, 3, 31), D(2025, 3, 31))]),
    ("instagram", "reach", []),
    ("tiktok", "views", []),
    ("snapchat", "followers", []),
]


@pytest.mark.parametrize(("platform", "column", "expected"), BREAK_CASES)
def test_breaks(platform: str, column: str, expected: list[tuple[str, date, date]]) -> None:
    got = [(b.surface, b.break_date, b.switch_from) for b in lineage.breaks(platform, column)]
    assert got == expected


def test_outranked_prefers_the_new_metric_in_a_migration_window() -> None:
    names = ["views", "impressions", "plays", "reach", "total_interactions", "engagement"]
    replaced = lineage.outranked("instagram", names, surface="media_insights")
    assert replaced == {"impressions", "plays", "engagement"}
    assert (
        lineage.outranked("instagram", ["impressions", "reach"], surface="media_insights") == set()
    )


# ---- the Instagram parser maps through the registry


def _metric(name: str, value: int, period: str = "lifetime") -> dict[str, Any]:
    return {
        "name": name,
        "period": period,
        "values": [{"value": value}],
        "id": f"{MEDIA}/insights/{name}/{period}",
    }


def _media_insights(tmp_path: Path, day: date, *metrics: dict[str, Any]) -> tuple[Any, ...]:
    path = tmp_path / "media_insights.json"
    path.write_text(json.dumps({"data": list(metrics)}), encoding="utf-8")
    ctx = context("instagram", "media_insights.json", account=ANNA, day=day)
    records, rejects, notes = split(list(instagram.parse_media_insights(path, ctx)))
    assert rejects == []
    return records, [n.message for n in notes]


def _values(records: dict[str, list[Record]]) -> list[dict[str, Any]]:
    return [r.values for r in records.get("post_daily", [])]


def test_media_impressions_before_the_retirement_feed_views(tmp_path: Path) -> None:
    records, notes = _media_insights(
        tmp_path, D(2025, 4, 20), _metric("impressions", 900), _metric("reach", 700)
    )
    key = {"platform": "instagram", "post_id": MEDIA, "account_id": ANNA}
    assert _values(records) == [{**key, "day": D(2025, 4, 20), "views": 900, "reach": 700}]
    assert notes == []


def test_media_impressions_after_the_retirement_are_not_views(tmp_path: Path) -> None:
    records, notes = _media_insights(
        tmp_path, D(2025, 4, 21), _metric("impressions", 900), _metric("reach", 700)
    )
    key = {"platform": "instagram", "post_id": MEDIA, "account_id": ANNA}
    assert _values(records) == [{**key, "day": D(2025, 4, 21), "reach": 700}]
    assert notes == [
        "media_insights.json: insight metrics not used: impressions (retired 2025-04-21)"
    ]


def test_media_views_win_over_impressions_in_the_migration_window(tmp_path: Path) -> None:
    records, notes = _media_insights(
        tmp_path, D(2025, 3, 1), _metric("impressions", 900), _metric("views", 1200)
    )
    assert [v["views"] for v in _values(records)] == [1200]
    assert notes == ["media_insights.json: insight metrics not used: impressions"]


def test_reel_plays_feed_views_until_the_retirement(tmp_path: Path) -> None:
    before, _ = _media_insights(tmp_path, D(2024, 11, 2), _metric("plays", 5100))
    after, _ = _media_insights(tmp_path, D(2025, 5, 2), _metric("plays", 5100))
    assert [v.get("views") for v in _values(before)] == [5100]
    assert _values(after) == []


def test_media_parser_reads_the_registry_not_a_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a registry in which reach stops feeding its column from 2026-01-01 must change the output
    patched = tuple(
        dataclasses.replace(e, valid_until=D(2026, 1, 1))
        if (e.platform, e.surface, e.field) == ("instagram", "media_insights", "reach")
        else e
        for e in lineage.registry()
    )
    monkeypatch.setattr(lineage, "registry", lambda: patched)
    records, notes = _media_insights(
        tmp_path, D(2026, 2, 1), _metric("reach", 700), _metric("saved", 3)
    )
    assert [sorted(v) for v in _values(records)] == [
        ["account_id", "day", "platform", "post_id", "saves"]
    ]
    assert notes == ["media_insights.json: insight metrics not used: reach (retired 2026-01-01)"]


def test_user_impressions_series_stops_at_the_retirement(tmp_path: Path) -> None:
    # end_time T07:00+0000 closes the Pacific day before it
    points = [
        {"value": 310, "end_time": "2025-04-21T07:00:00+0000"},
        {"value": 320, "end_time": "2025-04-22T07:00:00+0000"},
    ]
    doc = {
        "data": [
            {
                "name": "impressions",
                "period": "day",
                "values": points,
                "id": f"{OWN}/insights/impressions/day",
            }
        ]
    }
    path = tmp_path / "user_insights.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    items = list(instagram.parse_user_insights(path, context("instagram", "user_insights.json")))
    records, rejects, notes = split(items)
    assert rejects == []
    assert [r.values for r in records["account_daily"]] == [
        {
            "platform": "instagram",
            "account_id": OWN,
            "day": D(2025, 4, 20),
            "day_timezone": "America/Los_Angeles",
            "daily_views": 310,
        }
    ]
    assert [n.message for n in notes] == [
        "user_insights.json: insight metrics not used: impressions (retired 2025-04-21)"
    ]


# ---- the registry file is consistent


def test_registry_file_validates() -> None:
    entries = lineage.registry()
    assert lineage.validate(entries) == []
    assert {e.platform for e in entries} == {"instagram", "youtube", "tiktok", "snapchat"}


def test_no_field_has_overlapping_validity_on_one_surface() -> None:
    spans: dict[tuple[str, str, str], list[tuple[date, date]]] = {}
    for e in lineage.registry():
        key = (e.platform, e.surface, e.field)
        spans.setdefault(key, []).append((e.valid_from or D.min, e.valid_until or D.max))
    for key, ranges in spans.items():
        ranges.sort()
        for (_, end), (start, _) in itertools.pairwise(ranges):
            assert end <= start, key


_ENTRY = """
[[metric]]
platform = "instagram"
surface = "media_insights"
fields = ["impressions"]
metric = "views"
entity = "post_daily"
note = "n"
fact = "f"
confidence = "D"
"""


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            _ENTRY + "valid_until = 2025-04-21\n" + _ENTRY + "valid_from = 2025-04-20\n",
            "validity ranges overlap",
        ),
        (_ENTRY.replace('"impressions"', '"plays"') + _ENTRY, "both feed views with rank 1"),
        (_ENTRY + "valid_until = '2025-04-21'\n", "expected a date"),
        (_ENTRY.replace('"views"', '"viewz"'), "post_daily has no column 'viewz'"),
        (_ENTRY + "continuous = false\n", "a break needs valid_from or break_date"),
        (_ENTRY + "valid_from = 2025-04-21\nvalid_until = 2025-04-21\n", "is not before"),
    ],
)
def test_registry_problems_are_refused(text: str, problem: str) -> None:
    with pytest.raises(lineage.LineageError, match=problem):
        lineage.parse_registry(text)


def test_disjoint_ranges_of_one_field_are_accepted() -> None:
    text = _ENTRY + "valid_until = 2025-04-21\n" + _ENTRY + "valid_from = 2025-04-21\n"
    assert len(lineage.parse_registry(text)) == 2


# the registry must describe what the other platforms' parsers load (their tables, same day)
TODAY = D(2026, 11, 1)
PARSER_TABLES = [
    ("youtube", "analytics", {f: c for c, f in youtube.ANALYTICS_METRICS.items()}),
    ("youtube", "studio_table", {f: c for c, f in youtube.STUDIO_POST_METRICS.items()}),
    ("tiktok", "user_info", {f: c for c, f in tiktok.USER_DAILY.items()}),
    ("tiktok", "research_video", {f: c for c, f in tiktok.RESEARCH_VIDEO_DAILY.items()}),
    ("tiktok", "display_video", {f: c for c, f in tiktok.DISPLAY_VIDEO_DAILY.items()}),
    (
        "tiktok",
        "studio_overview",
        {f: c for c in tiktok.OVERVIEW_FLOWS for f in tiktok.OVERVIEW_COLUMNS[c]},
    ),
    (
        "tiktok",
        "studio_content",
        {f: c for c in tiktok.CONTENT_COUNTS for f in tiktok.CONTENT_COLUMNS[c]},
    ),
    ("snapchat", "stats_day", {f: c for c, fs in snapchat.DAY_METRICS.items() for f in fs}),
    ("snapchat", "stats_total", {f: c for c, fs in snapchat.TOTAL_METRICS.items() for f in fs}),
    (
        "snapchat",
        "stats_lifetime",
        {f: c for c, fs in snapchat.LIFETIME_METRICS.items() for f in fs},
    ),
    ("snapchat", "template", {f: c for c, f in snapchat.TEMPLATE_METRICS.items()}),
]


@pytest.mark.parametrize(("platform", "surface", "table"), PARSER_TABLES)
def test_registry_matches_parser_tables(platform: str, surface: str, table: dict[str, str]) -> None:
    got = {f: lineage.column_for(platform, f, TODAY, surface=surface) for f in table}
    assert got == table


def test_snapchat_view_ranks_follow_the_parser_order() -> None:
    order = snapchat.DAY_METRICS["daily_views"]
    assert lineage.outranked("snapchat", order, surface="stats_day") == set(order[1:])


# ---- the warehouse copy


def _warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    conn.execute("set TimeZone = 'UTC'")
    migrate(conn)
    return conn


def test_sync_fills_lineage_and_breaks_idempotently(tmp_path: Path) -> None:
    conn = _warehouse(tmp_path)
    entries = lineage.registry()
    changes = lineage.changes()
    assert lineage.sync(conn) == (len(entries), len(changes))
    # a row the registry no longer has is dropped; a second sync changes nothing
    conn.execute(
        "insert into meta.metric_breaks values ('stale', 'tiktok', 'x', 'views', null,"
        " date '2020-01-01', date '2020-01-01', false, 'x', 'n', 'f', 'U')"
    )
    assert lineage.sync(conn) == (len(entries), len(changes))
    counts = conn.execute(
        "select (select count(*) from meta.metric_lineage),"
        " (select count(*) from meta.metric_breaks)"
    ).fetchone()
    assert counts == (len(entries), len(changes))
    row = conn.execute(
        "select metric, entity, valid_from, valid_until, continuous, rank from meta.metric_lineage"
        " where platform = 'instagram' and surface = 'media_insights'"
        " and source_field = 'impressions'"
    ).fetchall()
    assert row == [("views", "post_daily", None, D(2025, 4, 21), True, 3)]


def test_sync_puts_back_a_row_that_differs(tmp_path: Path) -> None:
    conn = _warehouse(tmp_path)
    lineage.sync(conn)
    snapshot = "select * from meta.metric_lineage order by lineage_id"
    expected = conn.execute(snapshot).fetchall()
    # a row edited by hand differs from the registry, so the sync puts it back
    conn.execute(
        "update meta.metric_lineage set note = 'edited', rank = 9"
        " where lineage_id = (select min(lineage_id) from meta.metric_lineage)"
    )
    lineage.sync(conn)
    assert conn.execute(snapshot).fetchall() == expected


def test_metric_breaks_view(tmp_path: Path) -> None:
    conn = _warehouse(tmp_path)
    lineage.sync(conn)
    rows = conn.execute(
        "select platform, metric, break_date, continuous, switch_from, surfaces, confidence"
        " from marts.metric_breaks order by platform, metric, break_date"
    ).fetchall()
    assert rows == [
        ("instagram", "daily_views", D(2025, 4, 21), False, D(2025, 1, 21), "user_insights", "D"),
        (
            "instagram",
            "interactions",
            D(2023, 12, 11),
            False,
            D(2023, 9, 12),
            "media_insights",
            "D",
        ),
        ("instagram", "views", D(2025, 4, 21), False, D(2025, 1, 21), "media_insights", "D"),
        ("youtube", "daily_views", D(2025, 3, 31), False, D(2025, 3, 31), "analytics", "C"),
        ("youtube", "total_views", D(2025, 3, 31), False, D(2025, 3, 31), "channels_list", "D"),
        ("youtube", "total_views", D(2026, 8, 27), False, D(2026, 8, 27), "channels_list", "U"),
        (
            "youtube",
            "views",
            D(2025, 3, 31),
            False,
            D(2025, 3, 31),
            "studio_table, videos_list",
            "C",
        ),
        ("youtube", "views", D(2026, 8, 27), False, D(2026, 8, 27), "videos_list", "U"),
    ]
    note = conn.execute(
        "select note from marts.metric_breaks where platform = 'instagram' and metric = 'views'"
    ).fetchone()
    assert note is not None and "2025-04-21" in note[0]


# ---- each platform ships its own part of the registry


def test_a_platform_file_may_leave_its_platform_out() -> None:
    text = _ENTRY.replace('platform = "instagram"\n', "")
    (entry,) = lineage.parse_registry(text, platform="instagram")
    assert (entry.platform, entry.surface, entry.field) == (
        "instagram",
        "media_insights",
        "impressions",
    )
    with pytest.raises(lineage.LineageError, match="platform: expected a non-empty string"):
        lineage.parse_registry(text)


def test_a_platform_file_may_not_describe_another_platform() -> None:
    with pytest.raises(lineage.LineageError, match="'instagram' in the file of 'youtube'"):
        lineage.parse_registry(_ENTRY, platform="youtube")


def test_the_registry_is_gathered_from_every_platforms_declared_file() -> None:
    from ingest.platforms import platforms

    entries = lineage.registry()
    for name, declared in platforms().items():
        assert declared.lineage is not None, name
        own = lineage.parse_registry(lineage.read_resource(declared.lineage), platform=name)
        assert [e for e in entries if e.platform == name] == [
            dataclasses.replace(
                e, entry=e.entry + min(x.entry for x in entries if x.platform == name) - 1
            )
            for e in own
        ]
