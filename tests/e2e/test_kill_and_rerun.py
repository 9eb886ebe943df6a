"""A publish killed mid-transaction (SIGKILL), then retried or cleared, duplicates nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.conftest import staged_left
from tests.e2e.inbox import expected_rows, write_youtube_inbox

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 8, 3)

# stages YouTube's day, then publishes it and stops for good inside a publish transaction:
# one file to a transaction, half-way through the second file's (after its first entity was
# merged, before the commit); or the run's files in one group, after every entity was merged
# and the loads recorded, before the commit
_KILLED_PUBLISH = """
import json, sys, time
from datetime import date
from pathlib import Path
from ingest import pipeline, publish, runs
from ingest.config import Settings

settings = Settings.from_env()
staged = runs.stage_platform_day("youtube", date.fromisoformat(sys.argv[1]), settings)
Path(sys.argv[2]).write_text(json.dumps(staged.to_dict()))
merged = []
real_merge = publish.merge_entity
real_record_group = publish._record_group

def merge_then_hang(conn, entity, staged_entity, batch):
    counts = real_merge(conn, entity, staged_entity, batch)
    merged.append(batch.load_id)
    if len(set(merged)) == 2:
        Path(sys.argv[3]).write_text(batch.load_id)
        time.sleep(600)
    return counts

def record_group_then_hang(conn, batches, totals):
    real_record_group(conn, batches, totals)
    Path(sys.argv[3]).write_text(" ".join(b.load_id for b in batches))
    time.sleep(600)

if sys.argv[4] == "grouped":
    publish._record_group = record_group_then_hang
else:
    pipeline.groupable = lambda conn, batches: False
    publish.merge_entity = merge_then_hang
runs.publish_staged(staged.folders, settings)
"""


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"publisher exited early ({proc.returncode}):\n{out}\n{err}")
        if time.monotonic() > deadline:
            pytest.fail("publisher never reached the second batch")
        time.sleep(0.05)


def _duplicates(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    keys = {
        "core.accounts": "platform, account_id",
        "core.account_daily": "platform, account_id, day",
        "core.posts": "platform, post_id",
        "core.post_daily": "platform, post_id, day",
        "marts.creator_engagement_daily": "platform, account_id, day",
        "marts.creator_tier_daily": "platform, account_id, day",
    }
    found = {}
    for table, key in keys.items():
        sql = f"select count(*) - count(distinct ({key})) from {table}"
        found[table] = conn.execute(sql).fetchone()[0]
    return found


def batch_folders(settings: Any) -> list[str]:
    """The staged batches left in staging (the indexes beside them aside)."""
    return staged_left(settings.staging)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    from ingest.config import Settings

    for var in ("INGEST_LANDING", "INGEST_STAGING", "INGEST_INBOX"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("INGEST_WAREHOUSE", str(tmp_path / "warehouse" / "creators.duckdb"))
    write_youtube_inbox(tmp_path / "inbox", [DAY])
    return Settings.from_env()


@pytest.mark.parametrize("publishing", ["one_by_one", "grouped"])
def test_killed_publish_then_retry_and_clear_leave_no_duplicates(settings, tmp_path, publishing):
    from ingest import runs
    from ingest.staging import StagedBatch

    staged_file, hung_file = tmp_path / "staged.json", tmp_path / "hung"
    args = [DAY.isoformat(), str(staged_file), str(hung_file), publishing]
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_PUBLISH, *args],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_for(hung_file, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    hung_loads = hung_file.read_text().split()

    # what survived the kill: one file to a transaction, the first batch, committed, and
    # nothing of the second; a group, nothing at all
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        loads = dict(conn.execute("select load_id, status from meta.loads").fetchall())
    assert len(loads) == (1 if publishing == "one_by_one" else 0)
    assert set(loads.values()) <= {"published"} and not set(hung_loads) & set(loads)

    # an Airflow retry of the publish task: same staged folders, same load ids
    staged = json.loads(staged_file.read_text())
    interrupted = [
        StagedBatch.open(next(Path(f) for f in staged["folders"] if f.endswith(load)))
        for load in hung_loads
    ]
    day_rows = sum(StagedBatch.open(Path(f)).rows_loaded for f in staged["folders"])
    retried = runs.publish_day(DAY, [staged], settings)
    assert retried.ok, retried
    # the retry publishes what the kill interrupted, and reports a batch an earlier try
    # committed from its record (its folder is discarded once the run's publish ends): the
    # summary tells the whole day, and nothing is merged or recorded twice (below)
    assert sum(b.rows_loaded for b in interrupted) < day_rows or publishing == "grouped"
    assert retried.platforms["youtube"].rows_loaded == day_rows
    assert retried.platforms["youtube"].rows_read == 8
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        loads = conn.execute("select status, count(*) from meta.loads group by 1").fetchall()
    # the batch published before the kill was reported, not merged or recorded again
    assert loads == [("published", 2)]
    assert runs.refresh_marts(settings)["published"]

    # clearing the whole run: the day is re-derived from landing with new loads
    again = runs.run_day(DAY, settings, platforms=("youtube",))
    assert again.ok, again

    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        assert _duplicates(conn) == dict.fromkeys(_duplicates(conn), 0)
        for table, rows in expected_rows([DAY]).items():
            assert conn.execute(f"select count(*) from {table}").fetchone()[0] == rows, table
        statuses = conn.execute("select status, count(*) from meta.loads group by 1").fetchall()
        # 2 files, each published exactly once: the cleared rerun replays bytes already
        # published by the same parser, reported unchanged and not recorded again
        assert statuses == [("published", 2)]
        history = conn.execute(
            "select (select count(*) from core.account_daily_history)"
            " + (select count(*) from core.post_daily_history)"
        ).fetchone()[0]
    assert history == 0, "replaying unchanged values must not write history"
    assert not batch_folders(settings), "no staged batch may be left behind"


# stages YouTube's day and stops for good while staging the second file
_KILLED_STAGE = """
import sys, time
from datetime import date
from pathlib import Path
from ingest import pipeline, runs
from ingest.config import Settings

real_stage = pipeline.stage_landed
calls = []

def stage_then_hang(landed, settings, **kwargs):
    calls.append(landed)
    if len(calls) == 2:
        Path(sys.argv[2]).write_text("hung")
        time.sleep(600)
    return real_stage(landed, settings, **kwargs)

pipeline.stage_landed = stage_then_hang
runs.stage_platform_day(
    "youtube", date.fromisoformat(sys.argv[1]), Settings.from_env(), run_id=sys.argv[3]
)
"""
# clearing a task keeps its DAG run, so the retry stages under the same run id
RUN_ID = "manual__2026-08-04T00:00:00+00:00"


def test_killed_stage_then_cleared_leaves_only_the_new_batches(settings, tmp_path):
    from ingest import runs

    hung_file = tmp_path / "hung"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_STAGE, DAY.isoformat(), str(hung_file), RUN_ID],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        _wait_for(hung_file, proc)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    left = batch_folders(settings)
    assert len(left) == 1, "the first file's batch was staged before the kill"

    staged = runs.stage_platform_day("youtube", DAY, settings, run_id=RUN_ID)
    assert staged.files == 2 and not staged.failures
    assert sorted(Path(f).name for f in staged.folders) == batch_folders(settings), (
        "the killed attempt's batch must be gone, the new ones kept"
    )
    assert left[0] not in {Path(f).name for f in staged.folders}

    summary = runs.publish_day(DAY, [staged.to_dict()], settings)
    assert summary.ok and summary.platforms["youtube"].rows_loaded == 8
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        assert _duplicates(conn) == dict.fromkeys(_duplicates(conn), 0)
        for table, rows in expected_rows([DAY]).items():
            assert conn.execute(f"select count(*) from {table}").fetchone()[0] == rows, table
