"""Marts: rebuild only the account-days that published loads touched, from ``sql/marts``."""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ingest.config import Settings
from ingest.sqlfiles import execute, read_sql


@dataclass(frozen=True)
class Mart:
    """A mart table and the grain its rows are replaced at: ``day`` or whole ``account``."""

    name: str
    replace_by: str

    @property
    def table(self) -> str:
        return f"marts.{self.name}"


# in dependency order: the tier history reads the daily tiers
MARTS: tuple[Mart, ...] = (
    Mart("creator_engagement_daily", "day"),
    Mart("creator_tier_daily", "day"),
    Mart("creator_tier_history", "account"),
)


def tier_rules() -> tuple[str, list[dict[str, Any]]]:
    """The default rule version and all versions' tiers, from ``tier_rules.toml``."""
    data = tomllib.loads((Path(__file__).parent / "tier_rules.toml").read_text())
    rows = []
    for version, spec in data["versions"].items():
        for rank, tier in enumerate(spec["tiers"]):
            rows.append(
                {
                    "rule_version": version,
                    "tier": tier["tier"],
                    "min_followers": tier["min"],
                    "max_followers": tier.get("max"),
                    "rank": rank,
                }
            )
    return data["default"], rows


def sync_tier_rules(conn: duckdb.DuckDBPyConnection) -> str:
    """Make ``meta.tier_rules`` hold the configured versions; return the default version."""
    default, rows = tier_rules()
    conn.executemany(
        "insert or replace into meta.tier_rules values"
        " ($rule_version, $tier, $min_followers, $max_followers, $rank)",
        rows,
    )
    return default


def rebuild_marts(conn: duckdb.DuckDBPyConnection, rule_version: str | None = None) -> int:
    """Rebuild the marts for every pending account-day range in one transaction.

    Returns the number of account ranges rebuilt. Pending ranges are consumed in the same
    transaction, so a crash leaves them pending for the next run.
    """
    conn.execute("begin transaction")
    try:
        default = sync_tier_rules(conn)
        conn.execute(
            "create or replace temp table affected_days as"
            " select platform, account_id, min(day_from) as day_from, max(day_to) as day_to"
            " from meta.pending_mart_days group by platform, account_id"
        )
        ranges = conn.execute("select count(*) from affected_days").fetchone()
        params = {"rule_version": rule_version or default}
        for mart in MARTS:
            _replace(conn, mart, params)
        conn.execute("delete from meta.pending_mart_days")
        conn.execute("drop table affected_days")
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return int(ranges[0]) if ranges else 0


def _replace(conn: duckdb.DuckDBPyConnection, mart: Mart, params: dict[str, Any]) -> None:
    match = "m.platform = a.platform and m.account_id = a.account_id"
    if mart.replace_by == "day":
        match += " and m.day between a.day_from and a.day_to"
    conn.execute(f"delete from {mart.table} m using affected_days a where {match}")
    model = read_sql(f"marts/{mart.name}")
    execute(conn, f"insert into {mart.table} by name select * from ({model})", params)


def publish_bi(conn: duckdb.DuckDBPyConnection, settings: Settings) -> Path:
    """Copy the marts (and load log) to the BI file and swap it in atomically.

    BI tools open only this copy, so they are never locked out by the writer and never see
    a half-published day: readers with the old file open keep reading the old snapshot.
    """
    target = settings.bi_warehouse
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".bi-", suffix=".duckdb")
    os.close(fd)
    os.unlink(tmp_name)
    literal = "'" + tmp_name.replace("'", "''") + "'"
    conn.execute(f"attach {literal} as bi_copy")
    try:
        for schema in ("marts", "meta"):
            conn.execute(f"create schema bi_copy.{schema}")
        for mart in MARTS:
            conn.execute(f"create table bi_copy.{mart.table} as select * from {mart.table}")
        for table in ("meta.loads", "meta.tier_rules"):
            conn.execute(f"create table bi_copy.{table} as select * from {table}")
    finally:
        conn.execute("detach bi_copy")
    os.replace(tmp_name, target)
    return target
