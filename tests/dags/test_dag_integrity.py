"""Every DAG file imports cleanly, quickly and without heavy imports, and follows our policies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dags.conftest import DAGS, PLUGINS, ROOT

DAG_FILES = sorted(p for p in DAGS.rglob("*.py") if not p.name.startswith("_"))
IDS = [str(p.relative_to(ROOT)) for p in DAG_FILES]

# the target is 0.3 s; the bound is generous so a busy CI machine does not flake
PARSE_TARGET_S = 0.3
PARSE_BOUND_S = 3.0
# importing any of these at parse time costs every scheduler loop, so they belong in tasks
HEAVY_MODULES = (
    "duckdb",
    "pandas",
    "pyarrow",
    "great_expectations",
    "requests",
    "numpy",
    "pydantic_settings",
    "ingest.settings",
    "ingest.pipeline",
    "ingest.runs",
    "ingest.warehouse",
    "ingest.transforms",
    "ingest.staging",
    "creator_metrics",
)
# tasks that open the warehouse for writing: they must share the one-slot pool; nothing else may
WAREHOUSE_TASKS = {
    "creator_metrics_nightly": {"publish_staged_batches", "refresh_marts"},
}
WAREHOUSE_POOL = "warehouse"

_IMPORT_PROBE = """
import importlib.util, json, sys, time
import airflow.sdk  # the baseline every DAG pays; only what the file adds is ours
before = set(sys.modules)
path = sys.argv[1]
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("dag_under_test", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "added": sorted(set(sys.modules) - before)}))
"""


def test_dags_folder_has_files():
    assert DAG_FILES, f"no DAG files under {DAGS}"


@pytest.fixture(scope="module")
def dagbag(airflow_home):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def _dags_of(dagbag, path: Path) -> list:
    return [dag for dag in dagbag.dags.values() if Path(dag.fileloc) == path]


@pytest.mark.parametrize("path", DAG_FILES, ids=IDS)
def test_imports_without_errors(dagbag, path):
    errors = {
        k: v for k, v in dagbag.import_errors.items() if Path(DAGS, k) == path or k == str(path)
    }
    assert not errors, errors
    assert _dags_of(dagbag, path), f"{path.name} defines no DAG"


@pytest.mark.parametrize("path", DAG_FILES, ids=IDS)
def test_parse_time(dagbag, path):
    stats = [s for s in dagbag.dagbag_stats if Path(s.file) == path or Path(DAGS, s.file) == path]
    assert stats, f"no parse statistics for {path}"
    seconds = stats[0].duration.total_seconds()
    flag = "" if seconds <= PARSE_TARGET_S else f" (over the {PARSE_TARGET_S} s target)"
    print(f"\nparse time {path.relative_to(ROOT)}: {seconds:.3f} s{flag}")
    assert seconds < PARSE_BOUND_S


@pytest.mark.parametrize("path", DAG_FILES, ids=IDS)
def test_no_heavy_imports_at_parse_time(airflow_home, path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PLUGINS), str(ROOT)])}
    probe = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    report = json.loads(probe.stdout.strip().splitlines()[-1])
    print(f"\nfresh-process import {path.relative_to(ROOT)}: {report['seconds']:.3f} s")
    heavy = [
        m for m in report["added"] if any(m == h or m.startswith(h + ".") for h in HEAVY_MODULES)
    ]
    assert not heavy, f"{path.name} imports at parse time: {heavy}"


@pytest.mark.parametrize("path", DAG_FILES, ids=IDS)
def test_dag_policies(dagbag, path):
    for dag in _dags_of(dagbag, path):
        assert dag.tags, f"{dag.dag_id} has no tags"
        assert dag.catchup is False, f"{dag.dag_id} must set catchup=False"
        assert dag.max_active_runs == 1, f"{dag.dag_id}: one warehouse writer, one run at a time"
        for t in dag.tasks:
            assert t.retries >= 1, f"{dag.dag_id}.{t.task_id} has no retries"
            assert t.retry_exponential_backoff, f"{dag.dag_id}.{t.task_id} retries without backoff"
            assert t.on_failure_callback, f"{dag.dag_id}.{t.task_id} records no failure"


@pytest.mark.parametrize("path", DAG_FILES, ids=IDS)
def test_warehouse_writers_share_the_pool(dagbag, path):
    for dag in _dags_of(dagbag, path):
        assert dag.dag_id in WAREHOUSE_TASKS, f"declare {dag.dag_id}'s warehouse tasks here"
        writers = WAREHOUSE_TASKS[dag.dag_id]
        assert writers <= set(dag.task_ids), writers - set(dag.task_ids)
        for t in dag.tasks:
            if t.task_id in writers:
                assert t.pool == WAREHOUSE_POOL, f"{t.task_id} writes outside the pool"
            else:
                # staging must stay parallel: the one-slot pool would serialise it
                assert t.pool != WAREHOUSE_POOL, f"{t.task_id} needlessly holds the pool"


def test_nightly_dag_shape(dagbag):
    from ingest.platforms import names as platform_names
    from ingest.transforms import MARTS

    dag = dagbag.dags["creator_metrics_nightly"]
    stage = dag.get_task("stage_platform_day")
    publish = dag.get_task("publish_staged_batches")
    assert publish.task_id in stage.downstream_task_ids
    assert list(stage.op_kwargs_expand_input.value["platform"]) == list(platform_names())
    refresh = dag.get_task("refresh_marts")
    assert {"announce_marts", "check_day"} <= refresh.downstream_task_ids
    # the assets announce exactly the marts the BI copy publishes, and only the announcing
    # task has them: the check task must run (and fail) whether or not they are announced
    outlets = {a.name for a in dag.get_task("announce_marts").outlets}
    assert outlets == {m.table for m in MARTS}
    assert [t.task_id for t in dag.tasks if t.outlets] == ["announce_marts"]
    # daily in UTC, with data intervals: the run for day D owns [D, D+1)
    assert dag.timetable.expression == "0 0 * * *"
    assert str(dag.timetable.timezone) == "UTC"
    assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"
