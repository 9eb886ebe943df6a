"""Marts: rebuild only the account-days that published loads touched, from ``sql/marts``."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from ingest import lineage
from ingest.backends import claim, current_snapshot, end_transaction, is_lake, retry_on_conflict
from ingest.config import Settings
from ingest.publish import MART_REACH_DAYS
from ingest.sqlfiles import execute, read_sql, run_sql
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
    conn.execute("begin transaction")
    try:
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
        _temp_table(conn, "affected_days", params)
        _temp_table(conn, "affected_creator_days", params)
        ranges = conn.execute("select count(*) from affected_days").fetchone()
        for mart in MARTS:
            _replace(conn, mart, params)
        if not is_lake(conn):
            # the BI copy replaces the same ranges (on DuckLake readers read the lake itself)
            run_sql(conn, "bi/record_pending_days")
            run_sql(conn, "bi/record_pending_creator_days")
        conn.execute("delete from meta.pending_mart_days")
        conn.execute("delete from meta.pending_creator_days")
        conn.execute("drop table affected_days")
        conn.execute("drop table affected_creator_days")
        conn.execute("commit")
    except BaseException:
        end_transaction(conn)
        raise
    return int(ranges[0]) if ranges else 0


def _temp_table(
    conn: duckdb.DuckDBPyConnection,
    name: str,
    params: dict[str, Any],
    *,
    folder: str = "transforms",
    model: str | None = None,
) -> None:
    sql = read_sql(f"{folder}/{model or name}")
    execute(conn, f"create or replace temp table {name} as {sql}", params)


def _scope(mart: Mart, days: str, creator_days: str) -> tuple[str, str]:
    """The table of ranges a mart's rows are replaced by, and how a row ``m`` matches a range ``a``.

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
    return affected, match


def _replace(conn: duckdb.DuckDBPyConnection, mart: Mart, params: dict[str, Any]) -> None:
    model = read_sql(f"marts/{mart.name}")
    if mart.replace_by == "stretch":
        # the stretch that holds the day before day_from is re-emitted with its new end, and
        # every later one replaced; the model reads the stored stretch, so it runs first
        _temp_table(conn, "tier_history_cuts", params)
        execute(conn, f"create or replace temp table mart_rows as {model}", params)
        conn.execute(
            f"delete from {mart.table} m using tier_history_cuts a"
            " where m.platform = a.platform and m.account_id = a.account_id"
            " and m.valid_from >= coalesce(a.prev_from, a.day_from)"
        )
        conn.execute(f"insert into {mart.table} by name select * from mart_rows")
        conn.execute("drop table mart_rows")
        conn.execute("drop table tier_history_cuts")
        return
    affected, match = _scope(mart, "affected_days", "affected_creator_days")
    for name in mart.inputs:
        _temp_table(conn, name, params)
    conn.execute(f"delete from {mart.table} m using {affected} a where {match}")
    execute(conn, f"insert into {mart.table} by name select * from ({model})", params)
    for name in mart.inputs:
        conn.execute(f"drop table {name}")


# small tables BI reads beside the marts: copied whole every time
BI_SIDE_TABLES = ("meta.loads", "meta.tier_rules", "meta.metric_breaks", "marts.metric_breaks")
BI_CATALOG = "bi_copy"


def publish_bi(conn: duckdb.DuckDBPyConnection, settings: Settings) -> Path | str:
    """Copy the marts (and load log) to the BI file and swap it in atomically.

    BI tools open only this copy, so they are never locked out by the writer and never see
    a half-published day: readers with the old file open keep reading the old snapshot.

    The new copy starts as a file copy of the current one, in which only the mart ranges
    rebuilt since (``meta.bi_pending_days``) are replaced, so a nightly publish costs the
    day's changes, not the history. When the current copy is missing, is not the one the
    warehouse last published, or the marts' columns changed, the copy is made whole instead.

    On DuckLake there is no copy: readers attach the lake read-only and every query reads
    one committed snapshot; this only names the snapshot the marts are at.
    """
    if is_lake(conn):
        return f"ducklake snapshot {current_snapshot(conn)}"
    target = settings.bi_warehouse
    target.parent.mkdir(parents=True, exist_ok=True)
    layout_row = run_sql(conn, "bi/marts_layout").fetchone()
    layout = str(layout_row[0]) if layout_row else ""
    state = conn.execute("select copy_id, marts_layout from meta.bi_copy_state").fetchone()
    copy_id = secrets.token_hex(8)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".bi-", suffix=".duckdb")
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        refreshed = (
            state is not None
            and state[1] == layout
            and target.is_file()
            and _refresh_copy(conn, target, tmp, str(state[0]), copy_id)
        )
        if not refreshed:
            tmp.unlink(missing_ok=True)
            Path(tmp_name + ".wal").unlink(missing_ok=True)
            _full_copy(conn, tmp, copy_id)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        Path(tmp_name + ".wal").unlink(missing_ok=True)
        raise
    # why: a crash before this commit leaves the warehouse naming the previous copy, so the
    # next publish finds a copy it does not know and rebuilds it whole: never a wrong delta
    conn.execute("begin transaction")
    try:
        conn.execute("delete from meta.bi_pending_days")
        conn.execute("delete from meta.bi_pending_creator_days")
        conn.execute("delete from meta.bi_copy_state")
        run_sql(conn, "bi/record_copy", {"copy_id": copy_id, "marts_layout": layout})
        conn.execute("commit")
    except BaseException:
        end_transaction(conn)
        raise
    return target


def _attach_copy(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    literal = "'" + str(path).replace("'", "''") + "'"
    conn.execute(f"attach {literal} as {BI_CATALOG}")


def _full_copy(conn: duckdb.DuckDBPyConnection, path: Path, copy_id: str) -> None:
    """A new BI file at ``path`` holding every mart and side table whole."""
    _attach_copy(conn, path)
    try:
        for schema in ("marts", "meta"):
            conn.execute(f"create schema {BI_CATALOG}.{schema}")
        for mart in MARTS:
            conn.execute(f"create table {BI_CATALOG}.{mart.table} as select * from {mart.table}")
        for table in BI_SIDE_TABLES:
            conn.execute(f"create table {BI_CATALOG}.{table} as select * from {table}")
        conn.execute(
            f"create table {BI_CATALOG}.meta.bi_copy_state as"
            " select $copy_id as copy_id, current_timestamp as published_at",
            {"copy_id": copy_id},
        )
    finally:
        conn.execute(f"detach {BI_CATALOG}")


def _refresh_copy(
    conn: duckdb.DuckDBPyConnection, current: Path, path: Path, expected_id: str, copy_id: str
) -> bool:
    """Copy the current BI file to ``path`` and replace the rebuilt ranges in it, in one go.

    Returns False (leaving ``path`` to be discarded) when the current file is not the copy
    ``expected_id`` the warehouse last published.
    """
    shutil.copyfile(current, path)
    try:
        _attach_copy(conn, path)
    except duckdb.Error as exc:
        log.warning("the BI copy cannot be opened (%s); copying the marts whole", exc)
        return False
    try:
        try:
            row = conn.execute(f"select copy_id from {BI_CATALOG}.meta.bi_copy_state").fetchone()
        except duckdb.CatalogException:
            row = None
        if row is None or row[0] != expected_id:
            log.info("the BI copy is not the one last published; copying the marts whole")
            return False
        _temp_table(conn, "bi_days", {}, folder="bi", model="pending_days")
        _temp_table(conn, "bi_creator_days", {}, folder="bi", model="pending_creator_days")
        _temp_table(conn, "bi_tier_cuts", {}, folder="bi", model="tier_history_cuts")
        # an unchanged table is left alone: rewriting it would cost its copy a checkpoint
        changed = [t for t in BI_SIDE_TABLES if not _same_rows(conn, t, f"{BI_CATALOG}.{t}")]
        conn.execute("begin transaction")
        try:
            for mart in MARTS:
                affected, match = _scope(mart, "bi_days", "bi_creator_days")
                if mart.replace_by == "stretch":
                    affected = "bi_tier_cuts"
                    match += " and m.valid_from >= a.cut"
                target = f"{BI_CATALOG}.{mart.table}"
                conn.execute(f"delete from {target} m using {affected} a where {match}")
                # one range per account or creator: the join repeats no row
                conn.execute(
                    f"insert into {target} select m.* from {mart.table} m, {affected} a"
                    f" where {match}"
                )
            for table in changed:
                conn.execute(f"drop table {BI_CATALOG}.{table}")
                conn.execute(f"create table {BI_CATALOG}.{table} as select * from {table}")
            conn.execute(
                f"update {BI_CATALOG}.meta.bi_copy_state"
                " set copy_id = $copy_id, published_at = current_timestamp",
                {"copy_id": copy_id},
            )
            conn.execute("commit")
        except BaseException:
            end_transaction(conn)
            raise
    finally:
        conn.execute(f"detach {BI_CATALOG}")
        conn.execute("drop table if exists bi_days")
        conn.execute("drop table if exists bi_creator_days")
        conn.execute("drop table if exists bi_tier_cuts")
    return True


def _same_rows(conn: duckdb.DuckDBPyConnection, table: str, copy: str) -> bool:
    """Whether two small tables hold the same rows (False when they cannot be compared)."""
    try:
        row = conn.execute(
            f"select (select count(*) from {table}) = (select count(*) from {copy})"
            f" and not exists (select * from {table} except all select * from {copy})"
        ).fetchone()
    except duckdb.Error:
        return False
    return bool(row and row[0])
