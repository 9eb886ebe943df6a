"""The demo end to end, and the BI copy as a BI tool sees it."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import create_engine, inspect

from ingest.config import Settings
from ingest.demo import run_demo, write_demo_files
from ingest.warehouse import open_warehouse

END = date(2026, 9, 30)


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
    summary = run_demo(settings, out=home / "demo-data", creators=24, days=12, seed=7, end=END)
    assert "Accounts per tier" in summary
    return settings


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
