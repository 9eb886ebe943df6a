"""Runs side by side over identical bytes: each run's staged batches are its own, none is lost."""

from __future__ import annotations

import os
import shutil
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest import replays, runs
from ingest.config import Settings
from tests.conftest import staged_left
from tests.e2e.inbox import CHANNELS, VIDEOS_PER_CHANNEL, write_youtube_inbox

DAYS = [date(2026, 7, 1), date(2026, 7, 2)]
ROWS_PER_DAY = len(CHANNELS) * (1 + VIDEOS_PER_CHANNEL)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for var in ("INGEST_LANDING", "INGEST_STAGING", "INGEST_INBOX"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("INGEST_WAREHOUSE", str(tmp_path / "warehouse" / "creators.duckdb"))
    # both days received the very same bytes (a snapshot that did not change overnight)
    write_youtube_inbox(tmp_path / "inbox", DAYS, content_of=DAYS[0])
    return Settings.from_env()


def _rows_per_day(settings: Settings) -> dict[str, dict[date, int]]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        return {
            table: dict(conn.execute(f"select day, count(*) from {table} group by day").fetchall())
            for table in ("core.account_daily", "core.post_daily")
        }


def _published_loads(settings: Settings) -> dict[str, int]:
    """Published loads per landing day (the day is part of the source name a run records)."""
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        rows = conn.execute(
            "select split_part(source_file, '/', 2), count(*) from meta.loads"
            " where status = 'published' group by 1"
        ).fetchall()
    return dict(rows)


def test_a_run_staging_the_same_bytes_for_another_day_keeps_the_first_runs_batches(settings):
    first = runs.stage_platform_day("youtube", DAYS[0], settings)
    # a second run stages the same bytes for the next day before the first one publishes
    second = runs.stage_platform_day("youtube", DAYS[1], settings)
    assert len(first.folders) == len(second.folders) == 2

    for day, staged in zip(DAYS, (first, second), strict=True):
        summary = runs.publish_day(day, [staged.to_dict()], settings)
        assert summary.ok, summary
        assert summary.platforms["youtube"].rows_loaded == ROWS_PER_DAY, summary

    assert _rows_per_day(settings) == {
        "core.account_daily": dict.fromkeys(DAYS, len(CHANNELS)),
        "core.post_daily": dict.fromkeys(DAYS, len(CHANNELS) * VIDEOS_PER_CHANNEL),
    }
    assert _published_loads(settings) == {d.isoformat(): 2 for d in DAYS}
    assert not batch_folders(settings)


def batch_folders(settings: Settings) -> set[str]:
    return set(staged_left(settings.staging))


def test_a_retry_replaces_only_its_own_runs_batches(settings):
    # an Airflow run and an `ingest run` of the same day, at the same time
    dag_run = runs.stage_platform_day("youtube", DAYS[0], settings, run_id="scheduled__d0")
    cli_run = runs.stage_platform_day("youtube", DAYS[0], settings, run_id="cli-1")
    # the DAG run's stage task is retried: its first try's batches go, the CLI run's stay
    retried = runs.stage_platform_day("youtube", DAYS[0], settings, run_id="scheduled__d0")
    left = batch_folders(settings)
    assert left == {Path(f).name for f in cli_run.folders + retried.folders}
    assert not left & {Path(f).name for f in dag_run.folders}

    for staged in (retried, cli_run):
        summary = runs.publish_day(DAYS[0], [staged.to_dict()], settings)
        assert summary.ok, summary
    rows = _rows_per_day(settings)
    assert rows["core.account_daily"] == {DAYS[0]: len(CHANNELS)}
    # the second run's batches hold the bytes the first published: reported unchanged, and
    # not recorded again
    assert _published_loads(settings) == {DAYS[0].isoformat(): 2}


def test_a_batch_gone_without_a_record_in_meta_loads_fails_the_day(settings):
    staged = runs.stage_platform_day("youtube", DAYS[0], settings)
    lost = Path(staged.folders[0])
    shutil.rmtree(lost)

    summary = runs.publish_day(DAYS[0], [staged.to_dict()], settings)

    assert not summary.ok
    assert len(summary.failures) == 1
    assert "never published" in summary.failures[0]
    assert lost.name.rsplit(".", 1)[-1] in summary.failures[0]
    # the batch still there was published
    assert _published_loads(settings) == {DAYS[0].isoformat(): 1}


def test_a_batch_published_by_an_earlier_try_is_not_published_again(settings):
    staged = runs.stage_platform_day("youtube", DAYS[0], settings)
    assert runs.publish_day(DAYS[0], [staged.to_dict()], settings).ok
    # the publish task runs again over the same XCom: its folders are gone, meta.loads has them
    again = runs.publish_day(DAYS[0], [staged.to_dict()], settings)
    assert again.ok, again
    assert _published_loads(settings) == {DAYS[0].isoformat(): 2}


def test_batches_abandoned_by_a_killed_run_are_removed_and_live_ones_kept(settings):
    from ingest.staging import ABANDONED_AFTER, BatchOwner

    killed = BatchOwner("cli-killed", "youtube", DAYS[0]).folder(settings.staging, "a-b-c")
    live = BatchOwner("backfill__live", "youtube", DAYS[0]).folder(settings.staging, "d-e-f")
    # the replay index beside the batches: its folder changes only when a platform is new
    index = replays.index_path(settings, "youtube", "2026-06-01")
    for folder in (killed, live, index.parent):
        folder.mkdir(parents=True)
    for folder in (killed, live):
        (folder / "batch.json").write_text("{}")
    index.write_text("")
    old = time.time() - ABANDONED_AFTER.total_seconds() - 60
    for folder in (killed, index.parent.parent):
        os.utime(folder, (old, old))

    staged = runs.stage_platform_day("youtube", DAYS[0], settings)

    assert not killed.exists()
    assert live.exists()
    assert index.exists()
    assert batch_folders(settings) == {
        live.name,
        *(Path(f).name for f in staged.folders),
    }
