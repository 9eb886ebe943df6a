"""Publish a staged batch: one transaction merges it into core and records the load."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from ingest.backends import claim, publish_scope, retry_on_conflict, transaction
from ingest.model import ENTITIES, LOAD_COLUMNS, Entity
from ingest.sqlfiles import execute, quote_identifier, run_sql
from ingest.staging import StagedBatch, StagedEntity

# dimensions before facts, so a failed fact merge never leaves orphans visible
PUBLISH_ORDER = ("accounts", "posts", "account_daily", "post_daily")
# a change on day D can move marts up to 27 days later (the trailing 28-day window)
MART_REACH_DAYS = 27


@dataclass(frozen=True)
class MergeCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: MergeCounts) -> MergeCounts:
        return MergeCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


def merge_entity(
    conn: duckdb.DuckDBPyConnection, entity: Entity, staged: StagedEntity, batch: StagedBatch
) -> MergeCounts:
    """MERGE one staged entity into its core table, keeping replaced values in history.

    Only the columns the source provides are written. A row changes only when a provided value
    differs and this observation is not older than the stored one; facts replace values (NULL
    means hidden), dimensions keep a stored value where the source has none.

    One aggregate over the source joined to the target counts new and changed rows in one
    pass; the rows about to be replaced go to history only when there are any; then one MERGE.
    (MERGE ... RETURNING merge_action would give the counts for free on a file, but DuckLake
    does not implement RETURNING, and both backends run the same SQL.)

    The statements are built from the model: only its table and column names are spliced
    (quoted), every value is bound.
    """
    q = quote_identifier  # every name spliced below is a table or column of the model
    keys = entity.primary_key
    values = [c for c in staged.columns if c not in keys]
    target = f"core.{q(entity.name)}"
    history = f"core.{q(entity.name + '_history')}"
    on = " and ".join(f"t.{q(k)} = s.{q(k)}" for k in keys)
    facts = entity.partition is not None

    def differs(col: str) -> str:
        change = f"t.{q(col)} is distinct from s.{q(col)}"
        return change if facts else f"(s.{q(col)} is not null and {change})"

    changed = " or ".join(differs(c) for c in values) or "false"
    newer = "t.observed_at <= $observed_at"
    source = f"(select {', '.join(q(c) for c in staged.columns)} from read_parquet($path))"
    params = {"load_id": batch.load_id, "observed_at": batch.observed_at, "path": staged.path}
    counts = execute(
        conn,
        f"select count(*), count(*) filter (where t.{q(keys[0])} is null),"
        f" count(*) filter (where t.{q(keys[0])} is not null and {newer} and ({changed}))"
        f" from {source} s left join {target} t on {on}",
        params,
    ).fetchone()
    total, inserted, updated = (int(c) for c in counts) if counts else (0, 0, 0)
    if entity.history and updated:
        execute(
            conn,
            f"insert into {history} select t.*, $load_id, current_timestamp"
            f" from {target} t join {source} s on {on} where {newer} and ({changed})",
            params,
        )
    assign = ", ".join(
        f"{q(c)} = s.{q(c)}" if facts else f"{q(c)} = coalesce(s.{q(c)}, t.{q(c)})" for c in values
    )
    insert_cols = [*staged.columns, *LOAD_COLUMNS]
    insert_values = [f"s.{q(c)}" for c in staged.columns] + ["$load_id", "$observed_at"]
    update = (
        f" when matched and {newer} and ({changed}) then update set {assign},"
        " load_id = $load_id, observed_at = $observed_at"
        if values
        else ""
    )
    columns = ", ".join(q(c) for c in insert_cols)
    if not inserted and not updated:
        pass  # a replay of rows already held: the MERGE would change nothing
    elif inserted == total:
        # none of the rows is held yet (a first load): a plain insert does what MERGE would
        execute(
            conn,
            f"insert into {target} ({columns}) select {', '.join(insert_values)} from {source} s",
            params,
        )
    else:
        execute(
            conn,
            f"merge into {target} t using {source} s on {on}{update}"
            f" when not matched then insert ({columns}) values ({', '.join(insert_values)})",
            params,
        )
    return MergeCounts(inserted, updated, staged.rows - inserted - updated)


def publish(conn: duckdb.DuckDBPyConnection, batch: StagedBatch) -> MergeCounts:
    """Publish an audited batch in one transaction; on any error nothing of it stays.

    On DuckLake another writer may commit first; a conflicting commit is retried (bounded,
    with backoff) from the start, so the merge counts are those of the attempt that committed.
    """
    return retry_on_conflict(
        conn, lambda: _publish_once(conn, batch), what=f"publish of load {batch.load_id}"
    )


def _publish_once(conn: duckdb.DuckDBPyConnection, batch: StagedBatch) -> MergeCounts:
    with transaction(conn):
        claim(conn, publish_scope(batch.platform))
        record_batch(conn, batch, status="publishing")
        totals = MergeCounts()
        for name in PUBLISH_ORDER:
            if name in batch.entities and batch.entities[name].rows:
                totals += merge_entity(conn, ENTITIES[name], batch.entities[name], batch)
        for name in ("account_daily", "post_daily"):
            if name in batch.entities and batch.entities[name].rows:
                run_sql(
                    conn,
                    "publish/pending_mart_days",
                    {
                        "path": batch.entities[name].path,
                        "load_id": batch.load_id,
                        "reach_days": MART_REACH_DAYS,
                    },
                )
        finish_load(conn, batch.load_id, "published", totals)
    return totals


def record_load(
    conn: duckdb.DuckDBPyConnection, batch: StagedBatch, *, status: str, message: str | None = None
) -> None:
    run_sql(
        conn,
        "publish/record_load",
        {
            "load_id": batch.load_id,
            "platform": batch.platform,
            "format": batch.format,
            "source_file": batch.source_file,
            "source_sha256": batch.source_sha256,
            "account_id": batch.account,
            "status": status,
            "rows_read": batch.rows_read,
            "rows_loaded": batch.rows_loaded,
            "rows_quarantined": batch.rows_quarantined,
            "message": message,
            "notes": "\n".join(batch.notes) or None,
            "started_at": batch.started_at,
        },
    )


def record_batch(
    conn: duckdb.DuckDBPyConnection, batch: StagedBatch, *, status: str, message: str | None = None
) -> None:
    """Record a staged batch's load, its replay identity and its quarantined rows.

    Call inside the transaction that publishes the batch, or that records it as blocked.
    """
    record_load(conn, batch, status=status, message=message)
    record_identity(conn, batch)
    record_quarantine(
        conn,
        load_id=batch.load_id,
        platform=batch.platform,
        source_file=batch.source_file,
        path=batch.quarantine_path,
    )


def record_identity(conn: duckdb.DuckDBPyConnection, batch: StagedBatch) -> None:
    """Record what a replay compares a load by; its quarantine replaces earlier loads' of it.

    Call inside the transaction that records the load, before its quarantine rows go in.
    """
    if batch.landing_day is None:
        return  # staged without a landing day (an API pull loading as it goes)
    identity = {
        "load_id": batch.load_id,
        "platform": batch.platform,
        "source_sha256": batch.source_sha256,
        "account_id": batch.account,
        "landing_day": date.fromisoformat(batch.landing_day),
        "parser_version": batch.parser_version,
    }
    run_sql(conn, "publish/record_load_identity", identity)
    run_sql(conn, "publish/supersede_quarantine", identity)


def finish_load(
    conn: duckdb.DuckDBPyConnection, load_id: str, status: str, counts: MergeCounts
) -> None:
    run_sql(
        conn,
        "publish/finish_load",
        {
            "status": status,
            "inserted": counts.inserted,
            "updated": counts.updated,
            "unchanged": counts.unchanged,
            "finished": datetime.now(UTC),
            "load_id": load_id,
        },
    )


def record_quarantine(
    conn: duckdb.DuckDBPyConnection,
    *,
    load_id: str,
    platform: str | None,
    source_file: str,
    path: str | Path,
) -> None:
    """Add a load's quarantined rows, staged as Parquet at ``path``, to ``quarantine.rows``.

    Every quarantine (a published load's, a blocked load's, a creators mapping's) goes in
    this way; call inside the transaction that records the load.
    """
    run_sql(
        conn,
        "quarantine/record_rows",
        {"load_id": load_id, "platform": platform, "source_file": source_file, "path": str(path)},
    )
