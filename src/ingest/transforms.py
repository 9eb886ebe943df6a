"""Marts: rebuild only the account-days that published loads touched, from ``sql/marts``.

The BI copy of the rebuilt marts is published by :mod:`ingest.bi_copy`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import duckdb

from ingest import lineage
from ingest.backends import claim, is_lake, retry_on_conflict, transaction
from ingest.publish import MART_REACH_DAYS
from ingest.sqlfiles import (
    create_temp_table,
    drop_temp_tables,
    execute,
    quote_identifier,
    read_sql,
    run_sql,
)
from ingest.tiers import load_rules

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mart:
    """A mart table and how a rebuild replaces its rows.

    Args:
        name: the table in ``marts`` and the model in ``sql/marts``.
        replace_by: ``day`` (the affected day range), ``from_day`` (every day from the first
            affected one on: the model carries state forward) or ``stretch`` (validity
            intervals from the one holding the day before the first affected day on).
        grain: ``account`` rows are keyed by platform and account and replaced for
            ``affected_days``; ``creator`` rows by creator for ``affected_creator_days``.
        inputs: models in ``sql/transforms`` the mart's model reads, made temporary tables
            first (a table's true size steers the planner where a CTE's estimate misleads it).
    """

    name: str
    replace_by: str
    grain: str = "account"
    inputs: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        return f"marts.{self.name}"

    @property
    def relation(self) -> str:
        """The table as SQL text (quoted), for statements built per mart."""
        return f"marts.{quote_identifier(self.name)}"


# in dependency order: the tier history reads the daily tiers, creator rollups read both
# account marts (creator_daily reads creator_account_daily); the daily tiers seed their walk
# from the tier history as it stood before this rebuild (the stretches before day_from, which
# the rebuild keeps)
MARTS: tuple[Mart, ...] = (
    Mart("creator_engagement_daily", "day", inputs=("engagement_window_posts",)),
    Mart("creator_tier_daily", "from_day"),
    Mart("creator_tier_history", "stretch"),
    Mart("follower_anomalies_daily", "day"),
    Mart("creator_account_daily", "from_day", grain="creator"),
    Mart("creator_daily", "from_day", grain="creator"),
)

# follower-spike flags (anomaly_spike_mad_v1): trailing baseline of daily follower changes
SPIKE_WINDOW_DAYS = 28
SPIKE_MIN_CHANGES = 14
SPIKE_THRESHOLD = 5.0
# a follower change on day D moves spike baselines up to D + window + 1; pending ranges already
# reach MART_REACH_DAYS past the last loaded day
EXTRA_REACH_DAYS = max(0, SPIKE_WINDOW_DAYS + 1 - MART_REACH_DAYS)
# creator totals (followers_as_of_v1): an account's latest known count counts toward its
# creator's total for this many days after it was observed; creator rollups are rebuilt from
# the first affected day on, so the days a count carries into are always rebuilt with it
FOLLOWERS_WINDOW_DAYS = 14


def sync_tier_rules(conn: duckdb.DuckDBPyConnection) -> str:
    """Make ``meta.tier_rules`` hold the configured versions; return the default version."""
    rules = load_rules()
    conn.executemany(
        read_sql("transforms/sync_tier_rules"),
        rules.table_rows(),
    )
    return rules.default


def rebuild_marts(conn: duckdb.DuckDBPyConnection, rule_version: str | None = None) -> int:
    """Rebuild the marts for every pending account-day range in one transaction.

    Creators whose accounts are affected (or whose mapping changed) get their rollups rebuilt
    too. Returns the number of account ranges rebuilt. Pending ranges are consumed in the same
    transaction, so a crash leaves them pending for the next run; in that transaction they
    become held (``meta.mart_audit_holds``) until an audit passes them, and the ranges already
    held are rebuilt again (see ``ingest.refresh``). On DuckLake a rebuild that conflicts with
    another writer's commit runs again from that writer's state.
    """
    return retry_on_conflict(
        conn, lambda: _rebuild_marts_once(conn, rule_version), what="marts rebuild"
    )


def _rebuild_marts_once(conn: duckdb.DuckDBPyConnection, rule_version: str | None) -> int:
    with transaction(conn):
        # why: on DuckLake two rebuilds that only insert would both commit; the claim makes
        # them conflict so the second one rebuilds from the first one's result
        claim(conn, "marts")
        default = sync_tier_rules(conn)
        lineage.sync(conn)
        run_sql(conn, "transforms/sync_account_creators")
        run_sql(conn, "gate/rebuild_held")
        run_sql(conn, "gate/hold_pending")
        params: dict[str, Any] = {
            "rule_version": rule_version or default,
            "extra_reach_days": EXTRA_REACH_DAYS,
            "spike_window_days": SPIKE_WINDOW_DAYS,
            "spike_min_changes": SPIKE_MIN_CHANGES,
            "spike_threshold": SPIKE_THRESHOLD,
            "followers_window_days": FOLLOWERS_WINDOW_DAYS,
        }
        create_temp_table(conn, "affected_days", "transforms/affected_days", params)
        create_temp_table(conn, "affected_creator_days", "transforms/affected_creator_days", params)
        ranges = run_sql(conn, "transforms/count_affected_ranges").fetchone()
        for mart in MARTS:
            _replace(conn, mart, params)
        if not is_lake(conn):
            # the BI copy replaces the same ranges (on DuckLake readers read the lake itself)
            run_sql(conn, "bi/record_pending_days")
            run_sql(conn, "bi/record_pending_creator_days")
        run_sql(conn, "transforms/clear_pending_ranges")
        drop_temp_tables(conn, "affected_days", "affected_creator_days")
    return int(ranges[0]) if ranges else 0


def mart_scope(mart: Mart, days: str, creator_days: str) -> tuple[str, str]:
    """The table of ranges a mart's rows are replaced by, and how a row ``m`` matches a range ``a``.

    ``days`` and ``creator_days`` name temporary tables of account and creator ranges.
    ``stretch`` marts are matched by account here (whole account); the rebuild narrows them.
    """
    if mart.grain == "creator":
        affected, match = creator_days, "m.creator_id = a.creator_id"
    else:
        affected, match = days, "m.platform = a.platform and m.account_id = a.account_id"
    if mart.replace_by == "day":
        match += " and m.day between a.day_from and a.day_to"
    elif mart.replace_by == "from_day":
        match += " and m.day >= a.day_from"
    return quote_identifier(affected), match


def _replace(conn: duckdb.DuckDBPyConnection, mart: Mart, params: dict[str, Any]) -> None:
    # the statements are built per mart: only the mart's table and its match are spliced
    if mart.replace_by == "stretch":
        # the stretch that holds the day before day_from is re-emitted with its new end, and
        # every later one replaced; the model reads the stored stretch, so it runs first
        create_temp_table(
            conn, "tier_history_rebuild_from", "transforms/tier_history_rebuild_from", params
        )
        create_temp_table(conn, "mart_rows", f"marts/{mart.name}", params)
        conn.execute(
            f"delete from {mart.relation} m using tier_history_rebuild_from a"
            " where m.platform = a.platform and m.account_id = a.account_id"
            " and m.valid_from >= coalesce(a.prev_from, a.day_from)"
        )
        conn.execute(f"insert into {mart.relation} by name select * from mart_rows")
        drop_temp_tables(conn, "mart_rows", "tier_history_rebuild_from")
        return
    affected, match = mart_scope(mart, "affected_days", "affected_creator_days")
    model = read_sql(f"marts/{mart.name}")
    for name in mart.inputs:
        create_temp_table(conn, name, f"transforms/{name}", params)
    conn.execute(f"delete from {mart.relation} m using {affected} a where {match}")
    execute(conn, f"insert into {mart.relation} by name select * from ({model})", params)
    drop_temp_tables(conn, *mart.inputs)
