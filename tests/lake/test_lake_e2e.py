"""The same demo, end to end, on the DuckDB file and on DuckLake: the marts must be equal."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest import backends
from ingest.config import Settings
from ingest.creators import load_mapping
from ingest.demo import run_demo, write_demo_files
from ingest.demo.creators import MAPPING_FILE
from ingest.export import export_marts
from ingest.report import write_report
from ingest.transforms import MARTS
from ingest.validation import revalidate
from ingest.warehouse import open_bi, open_warehouse, writer

CREATORS = 8
DAYS = 6
END = date(2026, 3, 10)
SEED = 11

# columns that name the load or the moment of the run, which necessarily differ between runs
VOLATILE = {
    "load_id",
    "replaced_by_load_id",
    "replaced_at",
    "quarantined_at",
    "checked_at",
    "started_at",
    "finished_at",
    "source_file",
}
COMPARED = [
    *(m.table for m in MARTS),
    "core.accounts",
    "core.account_daily",
    "core.posts",
    "core.post_daily",
    "core.account_daily_history",
    "core.post_daily_history",
    "core.creators",
    "quarantine.rows",
    "meta.tier_rules",
]


# the mapping's observation time is when it was loaded
VOLATILE_IN = {"core.creators": {"observed_at"}}


def contents(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple[Any, ...]]:
    """Every row of ``table`` without the volatile columns, sorted (a multiset: dups count)."""
    schema, name = table.split(".")
    columns = [
        c
        for (c,) in conn.execute(
            "select column_name from information_schema.columns"
            " where table_catalog = current_database() and table_schema = $s"
            " and table_name = $t order by ordinal_position",
            {"s": schema, "t": name},
        ).fetchall()
        if c not in VOLATILE and c not in VOLATILE_IN.get(table, set())
    ]
    assert columns, f"{table} has no columns"
    listed = ", ".join(f'"{c}"' for c in columns)
    rows = conn.execute(f"select {listed} from {table}").fetchall()
    return sorted(rows, key=repr)


def _difference(got: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> dict[str, Any]:
    """What a table holds that it should not and lacks that it should, for a failure to name."""
    extra = [row for row in got if row not in expected]
    missing = [row for row in expected if row not in got]
    return {"rows": (len(got), len(expected)), "extra": extra[:5], "missing": missing[:5]}


def snapshot(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {table: contents(conn, table) for table in COMPARED}


@pytest.fixture(scope="module")
def file_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[Any, ...]]]:
    home = tmp_path_factory.mktemp("file")
    settings = Settings.from_env(home / "warehouse" / "creators.duckdb")
    run_demo(settings, out=home / "demo-data", creators=CREATORS, days=DAYS, seed=SEED, end=END)
    conn = open_warehouse(settings.warehouse, read_only=True)
    try:
        return snapshot(conn)
    finally:
        conn.close()


def test_demo_on_ducklake_gives_the_same_marts_as_on_the_file(
    file_run: dict[str, list[tuple[Any, ...]]], lake_settings: Settings, tmp_path: Path
):
    summary = run_demo(
        lake_settings, out=tmp_path / "demo-data", creators=CREATORS, days=DAYS, seed=SEED, end=END
    )
    assert "Accounts per tier" in summary
    assert "password" not in summary
    conn = open_bi(lake_settings)
    try:
        assert backends.is_lake(conn)
        lake = snapshot(conn)
        loads = conn.execute("select status, count(*) from meta.loads group by all").fetchall()
        leases = dict(conn.execute("select scope, claims from meta.write_leases").fetchall())
    finally:
        conn.close()
    for table in COMPARED:
        assert lake[table] == file_run[table], f"{table} differs between the backends"
    for mart in MARTS:
        assert lake[mart.table], f"{mart.table} is empty: the comparison proves nothing"
    assert dict(loads).get("published", 0) > 4
    assert "publishing" not in dict(loads)
    # every publish and every rebuild went through its lease
    assert leases["marts"] >= 2 and leases["creators"] == 1
    assert (
        sum(v for k, v in leases.items() if k.startswith("publish:"))
        == dict(loads)["published"] - 1
    )  # the creators mapping is a load too, under its own lease

    # the readers' side of the contract: the report renders from the lake, and the audit of a
    # load can be replayed from it
    report = write_report(lake_settings, tmp_path / "report.html")
    assert "<svg" in report.read_text() or "<img" in report.read_text()
    conn = open_bi(lake_settings)
    try:
        [(load_id,)] = conn.execute(
            "select load_id from meta.loads where platform = 'youtube' and status = 'published'"
            " order by load_id limit 1"
        ).fetchall()
    finally:
        conn.close()
    assert revalidate(load_id, lake_settings).passed
    # and `ingest export` writes every mart from the lake, each file with the mart's rows
    exported = {e.mart: e for e in export_marts(lake_settings, tmp_path / "exports")}
    for mart in MARTS:
        name = mart.table.split(".", 1)[1]
        assert exported[name].rows == len(lake[mart.table]) > 0
        written = duckdb.sql(f"select count(*) from read_parquet('{exported[name].path}')")
        assert written.fetchone() == (len(lake[mart.table]),)


def test_a_rerun_on_the_lake_changes_nothing_and_migrations_apply_once(
    lake_settings: Settings, tmp_path: Path
):
    run_demo(lake_settings, out=tmp_path / "a", creators=3, days=2, seed=2, end=END)
    current = [*(m.table for m in MARTS), "core.accounts", "core.account_daily", "core.post_daily"]
    with writer(lake_settings) as conn:
        before = {t: contents(conn, t) for t in current}
        migrated = conn.execute("select count(*) from meta.schema_migrations").fetchone()
    run_demo(lake_settings, out=tmp_path / "a", creators=3, days=2, seed=2, end=END)
    with writer(lake_settings) as conn:
        assert {t: contents(conn, t) for t in current} == before
        assert conn.execute("select count(*) from meta.schema_migrations").fetchone() == migrated
        # the keys the file backend enforces with primary keys hold on the lake too
        for table, key in (
            ("core.account_daily", "platform, account_id, day"),
            ("core.post_daily", "platform, post_id, day"),
            ("core.accounts", "platform, account_id"),
            ("meta.loads", "load_id"),
            ("meta.tier_rules", "rule_version, tier"),
        ):
            dup = conn.execute(
                f"select count(*) from (select {key} from {table} group by all having count(*) > 1)"
            ).fetchone()
            assert dup == (0,), f"duplicate keys in {table}"


READ_STATE = """
with

loads as (
    select load_id, status, rows_quarantined from meta.loads
),

facts as (
    select load_id, count(*) as n
    from (
        select load_id from core.account_daily
        union all
        select load_id from core.account_daily_history
        union all
        select load_id from core.post_daily
        union all
        select load_id from core.post_daily_history
    )
    group by load_id
),

quarantined as (
    select load_id, count(*) as n from quarantine.rows group by load_id
)

select
    coalesce(loads.load_id, facts.load_id, quarantined.load_id) as load_id,
    loads.status,
    coalesce(facts.n, 0) as fact_rows,
    coalesce(quarantined.n, 0) as quarantined_rows,
    loads.rows_quarantined
from loads
full join facts on loads.load_id = facts.load_id
full join quarantined on coalesce(loads.load_id, facts.load_id) = quarantined.load_id
"""
MART_DUPLICATES = (
    "select count(*) from (select platform, account_id, day from marts.creator_tier_daily"
    " group by all having count(*) > 1)"
)


def read_state(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[Any, ...]]:
    """Per load, in one statement (one snapshot): status, fact rows ever written, quarantine."""
    return {row[0]: row[1:] for row in conn.execute(READ_STATE).fetchall()}


def test_two_concurrent_writers_and_a_reader_on_ducklake(
    file_run: dict[str, list[tuple[Any, ...]]],
    lake_warehouse: tuple[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    for var in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING", "INGEST_LAKE_DATA_PATH"):
        monkeypatch.delenv(var, raising=False)
    warehouse, data_path = lake_warehouse
    settings = Settings.from_env(warehouse, data_path)
    files = write_demo_files(
        tmp_path / "demo-data", creators=CREATORS, days=DAYS, seed=SEED, end=END
    )
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            [
                {
                    "path": str(f.path),
                    "platform": f.platform,
                    "day": f.day.isoformat(),
                    "fetched_at": f.fetched_at.isoformat(),
                    "account": f.account,
                }
                for f in files
            ]
        )
    )
    # as in the demo, the mapping first (this also creates the lake and migrates it)
    load_mapping(tmp_path / "demo-data" / MAPPING_FILE, settings)

    reads: list[dict[str, tuple[Any, ...]]] = []
    problems: list[str] = []
    done = threading.Event()

    def reader() -> None:
        conn = open_bi(settings)
        try:
            while not done.is_set():
                state = read_state(conn)
                reads.append(state)
                for load_id, (status, facts, quarantined, expected_q) in state.items():
                    if status == "publishing":
                        problems.append(f"{load_id} seen half-way (status publishing)")
                    if facts and status != "published":
                        problems.append(f"{load_id}: {facts} fact rows but status {status}")
                    if status is not None and quarantined != expected_q:
                        problems.append(f"{load_id}: {quarantined} of {expected_q} quarantined")
                dup = conn.execute(MART_DUPLICATES).fetchone()
                if dup != (0,):
                    problems.append(f"duplicate mart rows: {dup}")
                if len(reads) % 10 == 0:
                    # why: a fresh attach must see the same guarantees as a long-lived one
                    conn.close()
                    conn = open_bi(settings)
                time.sleep(0.05)
        except Exception as exc:  # reported below: a failed read fails the test
            problems.append(f"reader failed: {exc!r}")
        finally:
            conn.close()

    thread = threading.Thread(target=reader)
    thread.start()
    script = Path(__file__).with_name("writer.py")
    writers = [
        subprocess.Popen(
            [sys.executable, str(script), str(manifest), warehouse, str(data_path), group, "2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for group in ("youtube,tiktok", "instagram,snapchat")
    ]
    try:
        outputs = [w.communicate(timeout=240) for w in writers]
    finally:
        for w in writers:
            if w.poll() is None:
                w.kill()
                w.wait()
        done.set()
        thread.join(timeout=60)
    for w, (out, err) in zip(writers, outputs, strict=True):
        assert w.returncode == 0, err[-3000:]
        results = [json.loads(line) for line in out.splitlines()]
        assert results and all(r["status"] == "published" for r in results), results

    assert not problems, problems[:10]
    conn = open_bi(settings)
    try:
        final = read_state(conn)
        lake = snapshot(conn)
    finally:
        conn.close()
    published = {k for k, v in final.items() if v[0] == "published"}
    assert len(reads) >= 5
    # the reader saw the writers at work, not only before or after them
    assert any(
        0 < len({k for k, v in r.items() if v[0] == "published"} - {None}) < len(published)
        for r in reads
    )
    # all or nothing: a load a reader saw had all of its rows, one it did not see had none
    for state in reads:
        for load_id, (status, facts, quarantined, _) in state.items():
            if status == "published":
                assert (facts, quarantined) == final[load_id][1:3], load_id
            else:
                assert (facts, quarantined) == (0, 0), load_id
    # nothing lost, nothing doubled: the same warehouse as one writer loading it all
    differing = {
        table: _difference(lake[table], file_run[table])
        for table in COMPARED
        if lake[table] != file_run[table]
    }
    assert not differing, f"differs from the single-writer run: {differing}"
