"""The demo end to end, and the BI copy as a BI tool sees it."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from sqlalchemy import create_engine, inspect

from ingest import progress
from ingest.config import Settings
from ingest.demo import WRITERS, run_demo, write_demo_files
from ingest.platforms import registry
from ingest.warehouse import open_warehouse

END = date(2026, 9, 30)
# the end-to-end demo's window crosses New Year, as TikTok Studio's year-less dates must
DEMO_END = date(2026, 1, 4)
DEMO_DAYS = 8
DEMO_CREATORS = 16
DEMO_START = DEMO_END - timedelta(days=DEMO_DAYS - 1)

# registered formats the demo does not produce, with the reason; keep this list short
NOT_IN_DEMO: dict[tuple[str, str], str] = {}

# the rows the demo breaks on purpose, and nothing else, end in quarantine
DELIBERATE_QUARANTINE = (
    "expected a count, got '12,3a'",  # youtube studio: a garbled number in Table data.csv
    "Public profile not found",  # snapchat: a tracked profile deleted mid-window
)


def digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_demo_files_are_deterministic_from_the_seed(tmp_path: Path):
    write_demo_files(tmp_path / "a", creators=6, days=5, seed=3, end=END)
    write_demo_files(tmp_path / "b", creators=6, days=5, seed=3, end=END)
    write_demo_files(tmp_path / "c", creators=6, days=5, seed=4, end=END)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("demo")
    settings = Settings.from_env(home / "warehouse" / "creators.duckdb")
    events: list[progress.Event] = []
    with progress.listening(events.append):
        summary = run_demo(
            settings,
            out=home / "demo-data",
            creators=DEMO_CREATORS,
            days=DEMO_DAYS,
            seed=7,
            end=DEMO_END,
        )
    assert "Accounts per tier" in summary
    # the demo tells its steps through the progress channel the CLI shows, as a load does
    files = len(list((home / "demo-data").rglob("*.*"))) - 1  # the creators mapping aside
    assert {"land", "stage", "audit", "publish", "marts", "bi_copy"} <= {e.step for e in events}
    assert max(e.done for e in events if e.step == "land") == files
    assert max(e.done for e in events if e.step == "stage") == files
    return settings


def query(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    """Read the warehouse itself (core and quarantine are not in the BI copy)."""
    conn = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_demo_fills_several_tiers_and_quarantines_the_broken_rows(demo: Settings):
    conn = duckdb.connect(str(demo.bi_warehouse), read_only=True)
    try:
        tiers = conn.execute(
            "select count(distinct tier) from marts.creator_tier_daily where tier is not null"
        ).fetchone()
        assert tiers[0] > 1
        loads = conn.execute(
            "select sum(rows_read), sum(rows_loaded), sum(rows_quarantined) from meta.loads"
        ).fetchone()
        assert loads[0] == loads[1] + loads[2]
        assert loads[2] > 0
    finally:
        conn.close()


def test_bi_copy_stays_readable_while_the_writer_holds_the_warehouse(demo: Settings):
    writer = open_warehouse(demo.warehouse)
    try:
        reader = duckdb.connect(str(demo.bi_warehouse), read_only=True)
        assert reader.execute("select count(*) from marts.creator_engagement_daily").fetchone()[0]
        reader.close()
    finally:
        writer.close()


def test_sqlalchemy_inspector_lists_the_marts_with_their_columns(demo: Settings):
    engine = create_engine(f"duckdb:///{demo.bi_warehouse}", connect_args={"read_only": True})
    try:
        inspector = inspect(engine)
        tables = set(inspector.get_table_names(schema="marts"))
        assert {"creator_engagement_daily", "creator_tier_daily", "creator_tier_history"} <= tables
        columns = {c["name"] for c in inspector.get_columns("creator_tier_daily", schema="marts")}
        assert {
            "platform",
            "account_id",
            "handle",
            "day",
            "followers",
            "tier",
            "tier_rule_version",
        } <= columns
    finally:
        engine.dispose()


def test_demo_loads_all_four_platforms_into_the_tier_mart(demo: Settings):
    platforms = set(WRITERS)
    assert platforms == {"instagram", "youtube", "tiktok", "snapchat"}
    assert {
        p
        for (p,) in query(
            demo, "select distinct platform from meta.loads where platform is not null"
        )
    } == platforms
    tiered = query(
        demo, "select distinct platform from marts.creator_tier_daily where tier is not null"
    )
    assert {p for (p,) in tiered} == platforms


def test_demo_exercises_every_registered_format(demo: Settings):
    loaded = set(
        query(demo, "select distinct platform, format from meta.loads where platform is not null")
    )
    registered = {(f.platform, f.name) for f in registry().formats}
    assert registered - loaded == set(NOT_IN_DEMO)
    assert loaded <= registered


def test_every_demo_load_publishes_and_accounts_for_its_rows(demo: Settings):
    loads = query(
        demo,
        "select source_file, status, rows_read, rows_loaded, rows_quarantined from meta.loads"
        " where platform is not null",
    )
    assert loads
    for source, status, read, loaded, quarantined in loads:
        assert status == "published", source
        assert read == loaded + quarantined, source
    reasons = [r for (r,) in query(demo, "select reason from quarantine.rows")]
    assert reasons
    assert all(any(mark in r for mark in DELIBERATE_QUARANTINE) for r in reasons), reasons
    assert {any(mark in r for r in reasons) for mark in DELIBERATE_QUARANTINE} == {True}


def test_year_less_studio_dates_land_in_the_window_across_new_year(demo: Settings):
    days = {
        day
        for (day,) in query(
            demo,
            "select distinct day from core.account_daily"
            " where platform = 'tiktok' and daily_views is not null",
        )
    }
    assert days == {DEMO_START + timedelta(days=n) for n in range(DEMO_DAYS)}
    assert {date(2025, 12, 31), date(2026, 1, 1)} <= days
    # studio's "undefined" follower count is NULL, not 0
    (zeros,) = query(
        demo,
        "select count(*) from core.account_daily where platform = 'tiktok' and followers = 0",
    )[0]
    assert zeros == 0


def test_demo_ids_and_text_survive_their_platform_quirks(demo: Settings, tmp_path: Path):
    tiktok_ids = [
        i for (i,) in query(demo, "select post_id from core.posts where platform = 'tiktok'")
    ]
    assert tiktok_ids and all(re.fullmatch(r"7\d{18}", i) for i in tiktok_ids)
    assert max(int(i) for i in tiktok_ids) > 2**53
    # the same world again: the ids in the research responses are the ids in core
    files = write_demo_files(tmp_path, creators=DEMO_CREATORS, days=DEMO_DAYS, seed=7, end=DEMO_END)
    written = {
        match
        for f in files
        if f.path.name.startswith("video_query_")
        for match in re.findall(r'"id": (\d+)', f.path.read_text(encoding="utf-8"))
    }
    assert written and written <= set(tiktok_ids)
    captions = [
        c
        for (c,) in query(
            demo,
            "select caption from core.posts where platform = 'instagram' and caption is not null",
        )
    ]
    assert any(not c.isascii() for c in captions)
    # meta's export encoding (each utf-8 byte as its own \u00XX) is repaired, not stored
    assert not [c for c in captions if re.search("[\u00c2-\u00c5\u00d0\u00d1][\u0080-\u00bf]", c)]
    hidden = query(
        demo,
        "select count(*), count(likes) from core.post_daily"
        " where platform = 'instagram' and likes_hidden",
    )[0]
    assert hidden[1] == 0
