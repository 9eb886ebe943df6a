"""Marts: rebuild only the account-days that published loads touched, from ``sql/marts``."""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ingest import lineage
from ingest.backends import claim, current_snapshot, end_transaction, is_lake, retry_on_conflict
from ingest.config import Settings
from ingest.publish import MART_REACH_DAYS
from ingest.sqlfiles import execute, read_sql, run_sql


@dataclass(frozen=True)
class Mart:
    """A mart table and how a rebuild replaces its rows.

    Args:
        name: the table in ``marts`` and the model in ``sql/marts``.
        replace_by: ``day`` (the affected day range), ``from_day`` (every day from the first
            affected one on: the model carries state forward) or ``account`` (whole history).
        grain: ``account`` rows are keyed by platform and account and replaced for
            ``affected_days``; ``creator`` rows by creator for ``affected_creator_days``.
    """

    name: str
    replace_by: str
    grain: str = "account"

    @property
    def table(self) -> str:
        return f"marts.{self.name}"


# in dependency order: the tier history reads the daily tiers, creator rollups read both
# account marts
MARTS: tuple[Mart, ...] = (
    Mart("creator_engagement_daily", "day"),
    Mart("creator_tier_daily", "from_day"),
    Mart("creator_tier_history", "account"),
    Mart("follower_anomalies_daily", "day"),
    Mart("creator_daily", "from_day", grain="creator"),
)

# follower-spike flags (anomaly_spike_mad_v1): trailing baseline of daily follower changes
SPIKE_WINDOW_DAYS = 28
SPIKE_MIN_CHANGES = 14
SPIKE_THRESHOLD = 5.0
# a follower change on day D moves spike baselines up to D + window + 1; pending ranges already
# reach MART_REACH_DAYS past the last loaded day
EXTRA_REACH_DAYS = max(0, SPIKE_WINDOW_DAYS + 1 - MART_REACH_DAYS)


def tier_rules() -> tuple[str, list[dict[str, Any]]]:
    """The default rule version and all versions' tiers, from ``tier_rules.toml``."""
    default, rows, _ = _read_tier_rules()
    return default, rows


def tier_hysteresis() -> dict[str, float]:
    """Each rule version's hysteresis margin in percent (0 where none is configured)."""
    return _read_tier_rules()[2]


def _read_tier_rules() -> tuple[str, list[dict[str, Any]], dict[str, float]]:
    data = tomllib.loads((Path(__file__).parent / "tier_rules.toml").read_text())
    rows = []
    margins: dict[str, float] = {}
    for version, spec in data["versions"].items():
        margin = float(spec.get("hysteresis_pct", 0))
        if not 0 <= margin < 50:
            raise ValueError(f"tier rule {version}: hysteresis_pct must be in [0, 50)")
        margins[version] = margin
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
    return data["default"], rows, margins


def sync_tier_rules(conn: duckdb.DuckDBPyConnection) -> str:
    """Make ``meta.tier_rules`` hold the configured versions; return the default version."""
    default, rows, margins = _read_tier_rules()
    conn.executemany(
        # merge, not insert-or-replace: DuckLake tables have no primary key to replace by
        "merge into meta.tier_rules t using (select $rule_version as rule_version, $tier as tier,"
        " $min_followers as min_followers, $max_followers as max_followers, $rank as rank,"
        " $hysteresis_pct as hysteresis_pct) s"
        " on t.rule_version = s.rule_version and t.tier = s.tier"
        " when matched then update set min_followers = s.min_followers,"
        " max_followers = s.max_followers, rank = s.rank, hysteresis_pct = s.hysteresis_pct"
        " when not matched then insert (rule_version, tier, min_followers, max_followers, rank,"
        " hysteresis_pct) values (s.rule_version, s.tier, s.min_followers, s.max_followers,"
        " s.rank, s.hysteresis_pct)",
        [{**row, "hysteresis_pct": margins[row["rule_version"]]} for row in rows],
    )
    return default


def rebuild_marts(conn: duckdb.DuckDBPyConnection, rule_version: str | None = None) -> int:
    """Rebuild the marts for every pending account-day range in one transaction.

    Creators whose accounts are affected (or whose mapping changed) get their rollups rebuilt
    too. Returns the number of account ranges rebuilt. Pending ranges are consumed in the same
    transaction, so a crash leaves them pending for the next run. On DuckLake a rebuild that
    conflicts with another writer's commit runs again from that writer's state.
    """
    return retry_on_conflict(
        conn, lambda: _rebuild_marts_once(conn, rule_version), what="marts rebuild"
    )


def _rebuild_marts_once(conn: duckdb.DuckDBPyConnection, rule_version: str | None) -> int:
    conn.execute("begin transaction")
    try:
        # why: on DuckLake two rebuilds that only insert would both commit; the claim makes
        # them conflict so the second one rebuilds from the first one's result
        claim(conn, "marts")
        default = sync_tier_rules(conn)
        lineage.sync(conn)
        run_sql(conn, "transforms/sync_account_creators")
        params: dict[str, Any] = {
            "rule_version": rule_version or default,
            "extra_reach_days": EXTRA_REACH_DAYS,
            "spike_window_days": SPIKE_WINDOW_DAYS,
            "spike_min_changes": SPIKE_MIN_CHANGES,
            "spike_threshold": SPIKE_THRESHOLD,
        }
        _temp_table(conn, "affected_days", params)
        _temp_table(conn, "affected_creator_days", params)
        ranges = conn.execute("select count(*) from affected_days").fetchone()
        for mart in MARTS:
            _replace(conn, mart, params)
        conn.execute("delete from meta.pending_mart_days")
        conn.execute("delete from meta.pending_creator_days")
        conn.execute("drop table affected_days")
        conn.execute("drop table affected_creator_days")
        conn.execute("commit")
    except BaseException:
        end_transaction(conn)
        raise
    return int(ranges[0]) if ranges else 0


def _temp_table(conn: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> None:
    model = read_sql(f"transforms/{name}")
    execute(conn, f"create or replace temp table {name} as {model}", params)


def _replace(conn: duckdb.DuckDBPyConnection, mart: Mart, params: dict[str, Any]) -> None:
    if mart.grain == "creator":
        affected, match = "affected_creator_days", "m.creator_id = a.creator_id"
    else:
        affected, match = "affected_days", "m.platform = a.platform and m.account_id = a.account_id"
    if mart.replace_by == "day":
        match += " and m.day between a.day_from and a.day_to"
    elif mart.replace_by == "from_day":
        match += " and m.day >= a.day_from"
    conn.execute(f"delete from {mart.table} m using {affected} a where {match}")
    model = read_sql(f"marts/{mart.name}")
    execute(conn, f"insert into {mart.table} by name select * from ({model})", params)


def publish_bi(conn: duckdb.DuckDBPyConnection, settings: Settings) -> Path | str:
    """Copy the marts (and load log) to the BI file and swap it in atomically.

    BI tools open only this copy, so they are never locked out by the writer and never see
    a half-published day: readers with the old file open keep reading the old snapshot.

    On DuckLake there is no copy: readers attach the lake read-only and every query reads
    one committed snapshot; this only names the snapshot the marts are at.
    """
    if is_lake(conn):
        return f"ducklake snapshot {current_snapshot(conn)}"
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
        for table in ("meta.loads", "meta.tier_rules", "meta.metric_breaks", "marts.metric_breaks"):
            conn.execute(f"create table bi_copy.{table} as select * from {table}")
    finally:
        conn.execute("detach bi_copy")
    os.replace(tmp_name, target)
    return target
