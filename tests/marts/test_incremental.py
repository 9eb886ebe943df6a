"""Incremental rebuilds and BI copies give what rebuilding and copying everything gives."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import duckdb

from ingest.bi_copy import publish_bi
from ingest.config import Settings
from ingest.transforms import MARTS, rebuild_marts
from ingest.warehouse import migrate, open_warehouse

from .helpers import account_day, pending

D0 = date(2026, 1, 1)
DAYS = 90
ACCOUNTS = ("a", "b", "c")


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def series(seed: int) -> dict[str, dict[int, int | None]]:
    """Followers that cross the nano/micro and micro/macro bounds back and forth, with gaps."""
    rng = random.Random(seed)
    out: dict[str, dict[int, int | None]] = {}
    for account, start in zip(ACCOUNTS, (4_000, 95_000, 5_100), strict=True):
        followers, days = start, {}
        for n in range(DAYS):
            followers = max(0, followers + rng.randint(-400, 420) * (1 + start // 20_000))
            if rng.random() < 0.1:
                continue  # not observed that day
            days[n] = None if rng.random() < 0.05 else followers
        out[account] = days
    return out


def rows(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple[object, ...]]:
    return sorted(conn.execute(f"select * from {table}").fetchall(), key=repr)


Series = dict[str, dict[int, int | None]]


def full_rebuild(tmp_path: Path, data: Series) -> duckdb.DuckDBPyConnection:
    conn = open_warehouse(tmp_path / "reference.duckdb")
    migrate(conn)
    for account, days in data.items():
        for n, followers in days.items():
            account_day(conn, account, day(n), followers)
        pending(conn, account, D0, day(DAYS + 27))
    rebuild_marts(conn)
    return conn


def test_day_by_day_rebuilds_and_a_restatement_match_one_full_rebuild(conn, tmp_path):
    data = series(7)
    # nightly: one day at a time, each rebuilt on its own
    for n in range(DAYS):
        for account, days in data.items():
            if n in days:
                account_day(conn, account, day(n), days[n])
                pending(conn, account, day(n), day(n + 27))
        if n % 9 == 0 or n == DAYS - 1:
            rebuild_marts(conn)
    # a restatement in the past flips a stretch of days across a tier bound
    for n in range(30, 36):
        data["a"][n] = 150_000
        conn.execute(
            "delete from core.account_daily where account_id = 'a' and day = $d", {"d": day(n)}
        )
        account_day(conn, "a", day(n), 150_000)
    pending(conn, "a", day(30), day(35 + 27))
    rebuild_marts(conn)
    reference = full_rebuild(tmp_path, data)
    try:
        for mart in MARTS:
            if mart.grain == "account":
                assert rows(conn, mart.table) == rows(reference, mart.table), mart.name
        assert conn.execute("select count(*) from marts.creator_tier_history").fetchone()[0] > 3
    finally:
        reference.close()


def bi_rows(settings: Settings, table: str) -> list[tuple[object, ...]]:
    reader = duckdb.connect(str(settings.bi_warehouse), read_only=True)
    try:
        return rows(reader, table)
    finally:
        reader.close()


def copy_id(settings: Settings) -> str:
    reader = duckdb.connect(str(settings.bi_warehouse), read_only=True)
    try:
        return str(reader.execute("select copy_id from meta.bi_copy_state").fetchone()[0])
    finally:
        reader.close()


def test_bi_copy_refreshed_in_place_equals_the_marts(conn, tmp_path):
    settings = Settings.from_env(tmp_path / "w.duckdb")
    data = series(11)
    published = []
    for n in range(0, DAYS, 10):
        for account, days in data.items():
            for m in range(n, n + 10):
                if m in days:
                    account_day(conn, account, day(m), days[m])
            pending(conn, account, day(n), day(n + 9 + 27))
        rebuild_marts(conn)
        if n != 20:  # a run whose marts audit failed publishes no copy: its ranges wait
            publish_bi(conn, settings)
            published.append(copy_id(settings))
            for mart in MARTS:
                assert bi_rows(settings, mart.table) == rows(conn, mart.table), (n, mart.name)
    assert len(set(published)) == len(published)
    assert conn.execute("select count(*) from meta.bi_pending_days").fetchone()[0] == 0
    assert not list(tmp_path.glob(".bi-*"))


def test_a_bi_copy_the_warehouse_did_not_publish_is_rebuilt_whole(conn, tmp_path):
    settings = Settings.from_env(tmp_path / "w.duckdb")
    account_day(conn, "a", day(0), 4_000)
    pending(conn, "a", day(0), day(27))
    rebuild_marts(conn)
    publish_bi(conn, settings)
    stale = tmp_path / "stale.duckdb"
    stale.write_bytes(settings.bi_warehouse.read_bytes())
    account_day(conn, "a", day(1), 6_000)
    pending(conn, "a", day(1), day(28))
    rebuild_marts(conn)
    publish_bi(conn, settings)
    # someone puts an older copy back: its pending ranges were already consumed
    settings.bi_warehouse.write_bytes(stale.read_bytes())
    account_day(conn, "a", day(2), 7_000)
    pending(conn, "a", day(2), day(29))
    rebuild_marts(conn)
    publish_bi(conn, settings)
    for mart in MARTS:
        assert bi_rows(settings, mart.table) == rows(conn, mart.table), mart.name
    assert len(bi_rows(settings, "marts.creator_tier_daily")) == 3


def test_a_changed_mart_layout_or_a_broken_copy_is_copied_whole(conn, tmp_path):
    settings = Settings.from_env(tmp_path / "w.duckdb")
    account_day(conn, "a", day(0), 4_000)
    pending(conn, "a", day(0), day(27))
    rebuild_marts(conn)
    publish_bi(conn, settings)
    # a migration adds a column to a mart: the copy in place lacks it
    conn.execute("alter table marts.creator_tier_daily add column note varchar default 'new'")
    publish_bi(conn, settings)
    assert bi_rows(settings, "marts.creator_tier_daily") == rows(conn, "marts.creator_tier_daily")
    assert bi_rows(settings, "marts.creator_tier_daily")[0][-1] == "new"
    # a copy that is not a database any more
    settings.bi_warehouse.write_bytes(b"not a duckdb file")
    account_day(conn, "a", day(1), 6_000)
    pending(conn, "a", day(1), day(28))
    rebuild_marts(conn)
    publish_bi(conn, settings)
    for mart in MARTS:
        assert bi_rows(settings, mart.table) == rows(conn, mart.table), mart.name
    assert not list(tmp_path.glob(".bi-*"))


def record_load(conn: duckdb.DuckDBPyConnection, load_id: str, status: str = "published") -> None:
    conn.execute(
        "insert into meta.loads (load_id, platform, status, rows_read, rows_loaded,"
        " rows_quarantined, started_at) values ($id, 'tiktok', $status, 1, 1, 0, now())",
        {"id": load_id, "status": status},
    )


def test_the_load_log_in_the_bi_copy_follows_new_changed_and_removed_loads(conn, tmp_path):
    settings = Settings.from_env(tmp_path / "w.duckdb")
    for n in range(3):
        record_load(conn, f"load{n}")
    publish_bi(conn, settings)
    # a night adds a load, changes one and removes one; the copy is refreshed in place
    record_load(conn, "load3", "failed")
    conn.execute("update meta.loads set rows_updated = 7, message = 'x' where load_id = 'load1'")
    conn.execute("delete from meta.loads where load_id = 'load2'")
    before = copy_id(settings)
    publish_bi(conn, settings)
    assert bi_rows(settings, "meta.loads") == rows(conn, "meta.loads")
    assert copy_id(settings) != before
    # a migration adds a column: the table cannot be matched row by row and is copied whole
    conn.execute("alter table meta.loads add column bench_note varchar default 'n'")
    record_load(conn, "load4")
    publish_bi(conn, settings)
    assert bi_rows(settings, "meta.loads") == rows(conn, "meta.loads")
    assert bi_rows(settings, "meta.loads")[0][-1] == "n"
