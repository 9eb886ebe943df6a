"""``dag.test()`` of the nightly DAG on a temporary warehouse fed by a YouTube inbox."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import duckdb
import pytest

from tests.conftest import FIXTURES, staged_left
from tests.dags.conftest import DAGS
from tests.e2e.inbox import expected_rows, write_youtube_inbox

DAY = date(2026, 9, 14)


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A warehouse path and an inbox beside it, named through the environment only."""
    for var in ("INGEST_LANDING", "INGEST_STAGING", "INGEST_INBOX"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("INGEST_WAREHOUSE", str(tmp_path / "warehouse" / "creators.duckdb"))
    write_youtube_inbox(tmp_path / "inbox", [DAY])
    return tmp_path


@pytest.fixture(scope="module")
def nightly(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / "creator_metrics_nightly.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.dags["creator_metrics_nightly"]


def _counts(path) -> dict[str, int]:
    tables = [*expected_rows([DAY]), "marts.creator_engagement_daily", "marts.creator_tier_daily"]
    with duckdb.connect(str(path), read_only=True) as conn:
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def _test_run(dag, day: date):
    # a manual run's interval is the day before its logical date: this run owns `day`
    run = dag.test(logical_date=datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC))
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    return run


def test_nightly_run_publishes_marts_and_is_idempotent(nightly, workspace):
    _test_run(nightly, DAY)

    warehouse = workspace / "warehouse" / "creators.duckdb"
    first = _counts(warehouse)
    for table, rows in expected_rows([DAY]).items():
        assert first[table] == rows, table
    assert first["marts.creator_engagement_daily"] == 2
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        days = conn.execute("select distinct day from marts.creator_tier_daily").fetchall()
        tiers = dict(
            conn.execute("select account_id, tier from marts.creator_tier_daily").fetchall()
        )
    assert days == [(DAY,)]
    assert set(tiers.values()) == {"micro"}
    # BI reads its own copy, swapped in by the last task
    bi = workspace / "warehouse" / "creators_bi.duckdb"
    with duckdb.connect(str(bi), read_only=True) as conn:
        assert conn.execute("select count(*) from marts.creator_tier_daily").fetchone()[0] == 2

    # the same day again: landing is a no-op, the same bytes are not published again
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        loads = conn.execute("select * from meta.loads order by all").fetchall()
    _test_run(nightly, DAY)
    assert _counts(warehouse) == first
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert conn.execute("select * from meta.loads order by all").fetchall() == loads
    # published batches are discarded; what stays is the indexes beside them
    left = staged_left(workspace / "staging")
    assert not left, "published batches must be discarded"


def test_a_new_rejection_fails_the_check_after_the_good_data_is_published(nightly, workspace):
    studio = FIXTURES / "youtube" / "Content 2026-08-04_2026-08-31 Rounded Micro.zip"
    poisoned = workspace / "inbox" / "youtube" / DAY.isoformat() / "UCstudio0000000000000001"
    poisoned.mkdir(parents=True)
    shutil.copyfile(studio, poisoned / "Content 2026-09-01_2026-09-31 Studio.zip")

    run = nightly.test(
        logical_date=datetime.combine(DAY + timedelta(days=1), datetime.min.time(), UTC)
    )
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["check_day"] == "failed", states
    assert {s for t, s in states.items() if t != "check_day"} == {"success"}, states
    bi = workspace / "warehouse" / "creators_bi.duckdb"
    with duckdb.connect(str(bi), read_only=True) as conn:
        assert conn.execute("select count(*) from marts.creator_tier_daily").fetchone()[0] == 2
        [(message,)] = conn.execute(
            "select message from meta.loads where status = 'rejected'"
        ).fetchall()
    assert "Content 2026-09-01_2026-09-31 Studio.zip" in message
    failures = failure_log_entries(workspace)
    assert any(
        e["task_id"] == "check_day" and "Content 2026-09-01_2026-09-31 Studio.zip" in e["error"]
        for e in failures
    ), failures

    # a rerun of the day knows the file: it is skipped and the check passes
    _test_run(nightly, DAY)


def failure_log_entries(workspace) -> list[dict]:
    from ingest.config import Settings
    from ingest.runs import failure_log

    log = failure_log(Settings.from_env())
    assert log.is_relative_to(workspace)
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_failure_callback_records_the_failure(nightly, workspace):
    from ingest.config import Settings
    from ingest.runs import failure_log

    callback = nightly.get_task("publish_staged_batches").on_failure_callback
    callback = callback[0] if isinstance(callback, list) else callback
    ti = SimpleNamespace(
        dag_id=nightly.dag_id, task_id="publish_staged_batches", run_id="manual__x", try_number=2
    )
    callback({"ti": ti, "exception": RuntimeError("warehouse is busy")})

    log = failure_log(Settings.from_env())
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert entries[-1]["task_id"] == "publish_staged_batches"
    assert entries[-1]["try_number"] == 2
    assert entries[-1]["error"] == "RuntimeError: warehouse is busy"
    assert log.is_relative_to(workspace)


def test_a_backfilled_run_pulls_series_endpoints_only(nightly, workspace, monkeypatch):
    from tests.extract.fakes import FakeSnapchat

    token = "snapDAGtestTOKEN0123456789"
    api = FakeSnapchat(token)
    url = api.start()
    try:
        host, port = url.removeprefix("http://").split(":")
        connection = {
            "conn_type": "http",
            "host": host,
            "port": int(port),
            "schema": "http",
            "password": token,
            "extra": {"accounts": list(api.profiles)},
        }
        monkeypatch.setenv("AIRFLOW_CONN_SNAPCHAT_DEFAULT", json.dumps(connection))
        monkeypatch.setenv("INGEST_HTTP_BASE_DELAY", "0.001")
        # far past the grace after the day's end: what a backfill of that day runs
        backfilled = datetime.now(UTC).date() - timedelta(days=20)
        run = _test_run(nightly, backfilled)
    finally:
        api.stop()
    assert api.calls("/stats") and not api.calls("/public/v1/")
    pulls = [
        ti.xcom_pull(task_ids="pull_platform_day", map_indexes=ti.map_index)
        for ti in run.get_task_instances()
        if ti.task_id == "pull_platform_day"
    ]
    [pulled] = [p for p in pulls if p["platform"] == "snapchat"]
    assert [s.split(" ")[0] for s in pulled["skipped"]] == ["public_profiles"]


def test_a_connection_without_accounts_pulls_the_tracked_ones(nightly, workspace, monkeypatch):
    from ingest import accounts
    from ingest.config import Settings
    from tests.extract.fakes import FakeSnapchat

    token = "snapDAGtrackedTOKEN0123456789"
    api = FakeSnapchat(token)
    url = api.start()
    tracked, untracked = list(api.profiles)[:2], list(api.profiles)[2:]
    accounts.add(Settings.from_env(), "snapchat", tracked)
    try:
        host, port = url.removeprefix("http://").split(":")
        connection = {
            "conn_type": "http",
            "host": host,
            "port": int(port),
            "schema": "http",
            "password": token,
        }
        monkeypatch.setenv("AIRFLOW_CONN_SNAPCHAT_DEFAULT", json.dumps(connection))
        monkeypatch.setenv("INGEST_HTTP_BASE_DELAY", "0.001")
        monkeypatch.delenv("INGEST_CREATORS", raising=False)
        run = _test_run(nightly, datetime.now(UTC).date() - timedelta(days=20))
    finally:
        api.stop()
    asked = [r.path for r in api.calls("/stats")]
    assert asked and untracked
    assert all(any(p in path for p in tracked) for path in asked)
    assert not any(p in path for p in untracked for path in asked)
    pulls = [
        ti.xcom_pull(task_ids="pull_platform_day", map_indexes=ti.map_index)
        for ti in run.get_task_instances()
        if ti.task_id == "pull_platform_day"
    ]
    [pulled] = [p for p in pulls if p["platform"] == "snapchat"]
    assert pulled["accounts"] == len(tracked) and pulled["accounts_complete"] == len(tracked)
    # the platforms with nothing tracked were skipped, each saying how to add accounts
    others = [p for p in pulls if p["platform"] != "snapchat"]
    assert others and all(p["skipped"] is True for p in others)
    assert all("ingest accounts add" in p["reason"] for p in others)


def _mart_events(run_id: str) -> list[str]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session

    with create_session() as session:
        events = session.query(AssetEvent).filter(AssetEvent.source_run_id == run_id).all()
        return sorted(e.asset.name for e in events)


def test_mart_assets_are_announced_only_when_a_bi_copy_was_published(nightly, workspace):
    from ingest.transforms import MARTS

    run = _test_run(nightly, DAY)
    assert _mart_events(run.run_id) == sorted(m.table for m in MARTS)

    # mart rows that break their suite: the audit fails, BI keeps its copy, nobody is told
    warehouse = workspace / "warehouse" / "creators.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(
            "insert into core.account_daily (platform, account_id, day, followers, load_id,"
            " observed_at) values ('youtube', 'UCbroken', $d, -5, 'test', current_timestamp)",
            {"d": DAY},
        )
        conn.execute(
            "insert into meta.pending_mart_days values ('youtube', 'UCbroken', $d, $d, 'test')",
            {"d": DAY},
        )
    # the check task would fail the run, after its retries; here only its input matters
    held = nightly.test(
        logical_date=datetime.combine(DAY + timedelta(days=1), datetime.min.time(), UTC),
        mark_success_pattern="^check_day$",
    )
    tis = {ti.task_id: ti for ti in held.get_task_instances()}
    assert tis["refresh_marts"].state == "success"
    marts = tis["refresh_marts"].xcom_pull(task_ids="refresh_marts")
    assert not marts["passed"] and not marts["published"]
    assert tis["announce_marts"].state == "skipped"
    assert _mart_events(held.run_id) == []
