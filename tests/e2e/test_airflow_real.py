"""A real Airflow (API server, scheduler, DAG processor) runs the nightly DAG and a backfill.

Everything lives in a temporary AIRFLOW_HOME on free loopback ports, with the metadata in a
database of the session's throwaway PostgreSQL, as in production: on SQLite a CLI command that
meets the scheduler's lock deletes the runs it half-created, which kills the scheduler
(ObjectDeletedError). Every process is started in its own process group and killed with it at
the end.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import requests

from ingest.transforms import MARTS
from tests.e2e.inbox import CHANNELS, VIDEOS_PER_CHANNEL, expected_rows, write_youtube_inbox
from tests.postgres import Postgres

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
DAG_ID = "creator_metrics_nightly"
TRIGGERED_DAY = date(2026, 10, 10)
BACKFILL_DAYS = [date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3)]
RUN_TIMEOUT_S = 150
# concurrent trials: a 5-day backfill, 3 runs at a time, beside an `ingest run` of the next day;
# one in the suite (a trial costs about as much as the test above), more in `make drill`
CONCURRENT_TRIALS = int(os.environ.get("DRILL_AIRFLOW_TRIALS", "1"))
CONCURRENT_DAYS = 5
# a bound for a stuck scheduler, not a timing check: a busy 2-core machine needs a few minutes
CONCURRENT_TIMEOUT_S = 1500

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Airflow:
    home: Path
    env: dict[str, str]
    api: str
    warehouse: Path
    logs: Path
    procs: list[subprocess.Popen] = field(default_factory=list)

    def get(self, path: str, **params: object) -> dict:
        response = requests.get(f"{self.api}/api/v2{path}", params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def send(self, method: str, path: str, body: dict) -> dict:
        response = requests.request(method, f"{self.api}/api/v2{path}", json=body, timeout=30)
        assert response.ok, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [str(VENV_BIN / "airflow"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"airflow {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def dead(self) -> list[str]:
        """The components that have exited: a dead scheduler would leave runs queued forever."""
        return [" ".join(map(str, p.args[1:])) for p in self.procs if p.poll() is not None]

    def tail(self) -> str:
        """The end of each component's log and the errors of failed task tries, for reports."""
        parts = []
        for log in sorted(self.logs.glob("*.log")):
            parts.append(f"--- {log.name}\n" + log.read_text(errors="replace")[-2000:])
        for log in sorted((self.home / "logs").rglob("attempt=*.log")):
            errors = [
                line for line in log.read_text(errors="replace").splitlines() if "rror" in line
            ]
            if errors:
                parts.append(f"--- {log.relative_to(self.home)}\n" + "\n".join(errors)[-1500:])
        return "\n".join(parts)


def _wait(what: str, check, timeout: float, airflow: Airflow | None = None):
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if airflow and airflow.dead():
            pytest.fail(f"{airflow.dead()} exited while waiting for {what}\n{airflow.tail()}")
        try:
            last = check()
        except (requests.RequestException, KeyError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(1)
    detail = airflow.tail() if airflow else ""
    pytest.fail(f"timed out waiting for {what} (last: {last!r})\n{detail}")


def _stop(procs: list[subprocess.Popen]) -> None:
    # each component forks workers (executor, gunicorn/uvicorn, parsers): kill whole groups
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory, postgres: Postgres) -> Iterator[Airflow]:
    home = tmp_path_factory.mktemp("airflow_real")
    data = home / "data"
    write_youtube_inbox(data / "inbox", [TRIGGERED_DAY, *BACKFILL_DAYS])
    port = _free_port()
    api = f"http://127.0.0.1:{port}"
    warehouse = data / "warehouse" / "creators.duckdb"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "INGEST_"))},
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": (
            f"postgresql+psycopg2://postgres@127.0.0.1:{postgres.port}/"
            + postgres.new_database("airflow")
        ),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": api,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(32),
        # only the runs this test asks for: no run for "yesterday" when the DAG is unpaused
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "INGEST_WAREHOUSE": str(warehouse),
        # an `ingest run` beside the DAG runs shares the one writer: wait for it, never fail
        "INGEST_BUSY_TIMEOUT": "600",
    }
    logs = home / "component-logs"
    logs.mkdir()
    af = Airflow(home, env, api, warehouse, logs)
    af.cli("db", "migrate")

    procs = af.procs
    try:
        for component in ("api-server", "scheduler", "dag-processor"):
            out = (logs / f"{component}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [str(VENV_BIN / "airflow"), component],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            out.close()
        _wait("the API server", lambda: af.get("/monitor/health"), 90, af)
        _wait("the DAG to be parsed", lambda: af.get(f"/dags/{DAG_ID}"), 90, af)
        af.send("POST", "/pools", {"name": "warehouse", "slots": 1})
        af.send("PATCH", f"/dags/{DAG_ID}", {"is_paused": False})
        yield af
    finally:
        _stop(procs)


def _finished(af: Airflow, run_id: str) -> dict | None:
    run = af.get(f"/dags/{DAG_ID}/dagRuns/{run_id}")
    return run if run["state"] in ("success", "failed") else None


def _task_states(af: Airflow, run_id: str) -> dict[str, str]:
    tis = af.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")["task_instances"]
    return {f"{ti['task_id']}[{ti['map_index']}]": ti["state"] for ti in tis}


def _core_days(warehouse: Path) -> dict[date, int]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = conn.execute(
            "select day, count(*) from marts.creator_engagement_daily group by day"
        ).fetchall()
    return dict(rows)


def test_trigger_then_backfill(airflow: Airflow):
    af = airflow
    started = time.monotonic()

    # a manual run's interval is the day before its logical date
    logical = (TRIGGERED_DAY + timedelta(days=1)).isoformat() + "T00:00:00Z"
    run = af.send("POST", f"/dags/{DAG_ID}/dagRuns", {"logical_date": logical})
    assert run["data_interval_start"].startswith(TRIGGERED_DAY.isoformat())
    done = _wait("the triggered run", lambda: _finished(af, run["dag_run_id"]), RUN_TIMEOUT_S, af)
    assert done["state"] == "success", (_task_states(af, run["dag_run_id"]), af.tail())
    print(f"\ntriggered run finished after {time.monotonic() - started:.1f} s")
    assert _core_days(af.warehouse) == {TRIGGERED_DAY: 2}
    # a new BI copy was published: the marts are announced, once each, by the announcing task
    events = af.get("/assets/events", source_dag_id=DAG_ID, source_run_id=run["dag_run_id"])
    announced = sorted(
        (e["source_task_id"], e["uri"].rsplit("/", 1)[-1]) for e in events["asset_events"]
    )
    assert announced == sorted(("announce_marts", m.name) for m in MARTS), events

    af.cli(
        "backfill",
        "create",
        "--dag-id",
        DAG_ID,
        "--from-date",
        BACKFILL_DAYS[0].isoformat(),
        "--to-date",
        BACKFILL_DAYS[-1].isoformat(),
        "--max-active-runs",
        "3",
    )

    def backfill_done() -> list[dict] | None:
        runs = af.get(f"/dags/{DAG_ID}/dagRuns", run_type="backfill")["dag_runs"]
        if len(runs) == len(BACKFILL_DAYS) and all(
            r["state"] in ("success", "failed") for r in runs
        ):
            return runs
        return None

    runs = _wait("the backfill", backfill_done, RUN_TIMEOUT_S * 2, af)
    states = {r["dag_run_id"]: r["state"] for r in runs}
    assert set(states.values()) == {"success"}, (states, af.tail())
    assert sorted(r["data_interval_start"][:10] for r in runs) == [
        d.isoformat() for d in BACKFILL_DAYS
    ]
    print(f"backfill finished after {time.monotonic() - started:.1f} s")

    loaded = [TRIGGERED_DAY, *BACKFILL_DAYS]
    assert _core_days(af.warehouse) == {d: 2 for d in loaded}
    with duckdb.connect(str(af.warehouse), read_only=True) as conn:
        for table, rows in expected_rows(loaded).items():
            assert conn.execute(f"select count(*) from {table}").fetchone()[0] == rows, table
        failed = conn.execute("select count(*) from meta.loads where status <> 'published'")
        assert failed.fetchone()[0] == 0
    bi = af.warehouse.with_name("creators_bi.duckdb")
    with duckdb.connect(str(bi), read_only=True) as conn:
        days = conn.execute("select count(distinct day) from marts.creator_tier_daily").fetchone()
    assert days[0] == len(loaded)


def _no_backfill_running(af: Airflow) -> bool:
    # Airflow allows one running backfill per DAG, and marks one complete only on a later
    # scheduler loop after its last run finished: a new one created before that is refused
    backfills = af.get("/backfills", dag_id=DAG_ID, limit=100)["backfills"]
    return all(b["completed_at"] for b in backfills)


def _backfill_runs(af: Airflow, days: list[date]) -> list[dict] | None:
    """The backfill's runs of ``days`` once every one of them has finished."""
    runs = af.get(f"/dags/{DAG_ID}/dagRuns", run_type="backfill", limit=100)["dag_runs"]
    mine = [r for r in runs if date.fromisoformat(r["data_interval_start"][:10]) in days]
    if len(mine) == len(days) and all(r["state"] in ("success", "failed") for r in mine):
        return mine
    return None


def _day_counts(warehouse: Path, days: list[date]) -> dict[date, tuple[int, int, int]]:
    """Per day: account-day rows, post-day rows, published loads of the day's landed files."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return {
            day: conn.execute(
                "select (select count(*) from core.account_daily where day = $day),"
                " (select count(*) from core.post_daily where day = $day),"
                " (select count(*) from meta.loads where status = 'published'"
                "  and source_file like $files)",
                {"day": day, "files": f"youtube/{day.isoformat()}/%"},
            ).fetchone()
            for day in days
        }


@pytest.mark.timeout(CONCURRENT_TIMEOUT_S + 300)
@pytest.mark.parametrize("trial", range(CONCURRENT_TRIALS))
def test_concurrent_backfill_and_run_over_identical_bytes_keep_every_day(airflow: Airflow, trial):
    af = airflow
    started = time.monotonic()
    first = date(2026, 11, 1) + timedelta(days=10 * trial)
    days = [first + timedelta(days=n) for n in range(CONCURRENT_DAYS)]
    neighbour = days[-1] + timedelta(days=1)
    inbox = af.warehouse.parent.parent / "inbox"
    # the same bytes landed on four backfill days and on the neighbouring day
    write_youtube_inbox(inbox, [*days[:-1], neighbour], content_of=first)
    write_youtube_inbox(inbox, days[-1:])
    _wait("earlier backfills to complete", lambda: _no_backfill_running(af), RUN_TIMEOUT_S, af)

    out = (af.logs / f"ingest-run-{trial}.log").open("wb")
    cli = subprocess.Popen(
        [str(VENV_BIN / "ingest"), "run", "--date", neighbour.isoformat()],
        env=af.env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    out.close()
    try:
        af.cli(
            "backfill",
            "create",
            "--dag-id",
            DAG_ID,
            "--from-date",
            days[0].isoformat(),
            "--to-date",
            days[-1].isoformat(),
            "--max-active-runs",
            "3",
        )
        runs = _wait("the backfill", lambda: _backfill_runs(af, days), CONCURRENT_TIMEOUT_S, af)
        cli.wait(timeout=CONCURRENT_TIMEOUT_S)
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)
            cli.wait(timeout=10)
    print(f"\ntrial {trial} finished after {time.monotonic() - started:.1f} s")

    states = {r["dag_run_id"]: r["state"] for r in runs}
    assert set(states.values()) == {"success"}, (states, af.tail())
    log = (af.logs / f"ingest-run-{trial}.log").read_text(errors="replace")
    assert cli.returncode == 0, log
    # every day's rows present exactly once, each of its two files published exactly once
    counts = _day_counts(af.warehouse, [*days, neighbour])
    expected = (len(CHANNELS), len(CHANNELS) * VIDEOS_PER_CHANNEL, 2)
    assert counts == dict.fromkeys([*days, neighbour], expected), log
