"""A replay never moves a row to another day: days come from the file and its manifest only."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest import runs
from ingest.config import Settings
from ingest.pipeline import load_files
from tests.conftest import FIXTURES

STUDIO = FIXTURES / "youtube" / "Content 2026-08-04_2026-08-31 Rounded Micro.zip"
CHANNEL = "UCroundedMicroChannel0002"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING", "INGEST_INBOX"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")


def days(settings: Settings, table: str, key: str) -> list[tuple[object, ...]]:
    conn = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return conn.execute(f"select {key}, day from core.{table} order by all").fetchall()
    finally:
        conn.close()


def replay(day: date, platform: str, settings: Settings) -> None:
    summary = runs.run_day(day, settings, platforms=(platform,))
    assert summary.ok, str(summary)


def test_a_studio_export_in_a_dated_folder_keeps_its_window_day_on_replay(settings, tmp_path):
    # the folder's name holds another window; only the file's own name is the export's
    folder = tmp_path / "exports 2026-01-01_2026-01-31"
    folder.mkdir()
    export = folder / STUDIO.name
    shutil.copy(STUDIO, export)
    filed = date(2026, 9, 2)
    [result] = load_files([export], settings, account=CHANNEL, day=filed)
    assert result.status == "published", result.message
    first = days(settings, "post_daily", "post_id")
    assert first and {day for _, day in first} == {date(2026, 8, 31)}
    replay(filed, "youtube", settings)
    assert days(settings, "post_daily", "post_id") == first


def test_a_studio_label_one_day_past_the_load_day_keeps_its_year_on_replay(settings, tmp_path):
    # Studio wrote the export a zone ahead of UTC: its newest label is the day after the one
    # the file is loaded for
    export = tmp_path / "Overview.csv"
    export.write_text(
        "Date,Video Views,Profile Views,Likes,Comments,Shares\n"
        "November 8,100,1,10,1,0\n"
        "November 9,110,2,11,2,1\n"
        "November 10,120,3,12,3,2\n"
        "November 11,130,4,13,4,3\n"
    )
    filed = date(2026, 11, 10)
    [result] = load_files([export], settings, account="creator.one", day=filed)
    assert result.status == "published", result.message
    first = days(settings, "account_daily", "account_id")
    assert [day for _, day in first] == [date(2026, 11, d) for d in (8, 9, 10, 11)]
    replay(filed, "tiktok", settings)
    assert days(settings, "account_daily", "account_id") == first
