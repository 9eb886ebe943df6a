"""Publish a staged batch: one transaction merges it into core and records the load."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from ingest.backends import claim, is_lake, publish_scope, retry_on_conflict, transaction
from ingest.model import ENTITIES, LOAD_COLUMNS, Entity
from ingest.sqlfiles import execute, quote_identifier, read_sql, run_sql
from ingest.staging import StagedBatch, StagedEntity, staged_rows_sql

# dimensions before facts, so a failed fact merge never leaves orphans visible
PUBLISH_ORDER = ("accounts", "posts", "account_daily", "post_daily")
# a change on day D can move marts up to 27 days later (the trailing 28-day window)
MART_REACH_DAYS = 27
# a run of API pages is thousands of small files, and per-transaction costs (commit, index
# work, a statement per table) dominate them: batches are published many to a transaction,
# up to GROUP_BATCHES of them, in groups of at least GROUP_ROWS rows where there are as many.
# Why rows: a transaction that adds fewer rows to a table than DuckDB's row group (122,880)
# logs them whole in the WAL, which a checkpoint then writes again; more, and they go to the
# database file at once. Groups of 1,000 API pages of 100 rows spent 5.3-6.0 s of a
# 1M-row load committing, groups of 250,000 rows 1.5-1.8 s
GROUP_ROWS = 250_000
GROUP_BATCHES = 5_000


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
    # the batch's rows, made ``publish_source`` by the caller (``staged_source``)
    source = f"(select {', '.join(q(c) for c in staged.columns)} from publish_source)"
    params = {"load_id": batch.load_id, "observed_at": batch.observed_at}
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


def group_bounds(rows: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Given each batch's rows in order, the (start, end) slices of the groups to publish."""
    start = held = 0
    for end, batch_rows in enumerate(rows, start=1):
        held += batch_rows
        if held >= GROUP_ROWS or end - start >= GROUP_BATCHES:
            yield start, end
            start, held = end, 0
    if start < len(rows):
        yield start, len(rows)


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
            staged = batch.entities.get(name)
            if staged is None or not staged.rows:
                continue
            staged_source(conn, [(batch, staged)])
            try:
                totals += merge_entity(conn, ENTITIES[name], staged, batch)
                if ENTITIES[name].partition is not None:
                    run_sql(
                        conn, "publish/group_pending_mart_days", {"reach_days": MART_REACH_DAYS}
                    )
            finally:
                run_sql(conn, "publish/drop_group_source")
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
    if batch.quarantine_path:
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


def groupable(conn: duckdb.DuckDBPyConnection, batches: list[StagedBatch]) -> bool:
    """Whether ``publish_group`` may take these batches (it still checks their keys).

    Not on DuckLake, whose concurrent writers retry whole transactions (a group would turn one
    conflict into many files' work), and not when two batches are loads of the same bytes
    (their quarantines supersede each other in order).
    """
    if len(batches) < 2 or is_lake(conn):
        return False
    identities = {(b.platform, b.source_sha256, b.account, b.landing_day) for b in batches}
    return len(identities) == len(batches) and all(b.landing_day for b in batches)


def publish_group(
    conn: duckdb.DuckDBPyConnection,
    batches: list[StagedBatch],
    *,
    within: Callable[[], None] | None = None,
) -> list[MergeCounts]:
    """Publish many audited batches in one transaction: what ``publish`` does to each, at once.

    Each entity is merged with one statement per step for all the batches, every row carrying
    its load and observation time, so the result (core, history, quarantine, ``meta.loads``
    with exact per-load counts, pending mart ranges, audit results) is that of publishing them
    one by one. That holds where no key of an entity occurs in two of the batches; an entity
    whose keys do repeat across them is merged batch by batch, in order, in the same
    transaction. On any error nothing of the group is left behind. ``within`` runs last
    inside the transaction (the audit results are stored there).
    """
    with transaction(conn):
        per_load: dict[str, MergeCounts] = {b.load_id: MergeCounts() for b in batches}
        for name in PUBLISH_ORDER:
            members = [
                (b, b.entities[name])
                for b in batches
                if name in b.entities and b.entities[name].rows
            ]
            if not members:
                continue
            for load_id, counts in _merge_group(conn, ENTITIES[name], members).items():
                per_load[load_id] += counts
        totals = [per_load[b.load_id] for b in batches]
        _record_group(conn, batches, totals)
        if within is not None:
            within()
    return totals


def _merge_group(
    conn: duckdb.DuckDBPyConnection,
    entity: Entity,
    members: list[tuple[StagedBatch, StagedEntity]],
) -> dict[str, MergeCounts]:
    q = quote_identifier  # every name spliced below is a table or column of the model
    keys = entity.primary_key
    staged_source(conn, members)
    try:
        repeated = execute(
            conn,
            f"select count(*) from (select 1 from publish_source group by"
            f" {', '.join(q(k) for k in keys)} having count(*) > 1)",
        ).fetchone()
        counts: dict[str, MergeCounts] = {}
        if repeated and repeated[0]:
            # a key in several batches (an account on every page of its media, a post on every
            # day of a backfill): merged in rounds, the n-th occurrence of every key in round
            # n, so each key meets its batches in order as publishing them one by one would
            for round_members in _rounds(conn, entity, members):
                merged = _merge_members(conn, entity, round_members, source="publish_round")
                for load_id, found in merged.items():
                    counts[load_id] = counts.get(load_id, MergeCounts()) + found
        else:
            counts = _merge_members(conn, entity, members)
        if entity.partition is not None:
            run_sql(conn, "publish/group_pending_mart_days", {"reach_days": MART_REACH_DAYS})
        return counts
    finally:
        run_sql(conn, "publish/drop_group_source")


def staged_source(
    conn: duckdb.DuckDBPyConnection, members: list[tuple[StagedBatch, StagedEntity]]
) -> None:
    """The staged rows of one entity of these batches as the temp table ``publish_source``,
    each row with its load (``_load_id``) and that load's observation time (``_observed_at``)."""
    rows, params = staged_rows_sql([(b.load_id, staged) for b, staged in members])
    execute(
        conn,
        f"create or replace temp table publish_source as with staged as ({rows})"
        f" {read_sql('publish/group_source')}",
        {
            **params,
            "load_ids": [b.load_id for b, _ in members],
            "observed_ats": [b.observed_at for b, _ in members],
        },
    )


def _merge_members(
    conn: duckdb.DuckDBPyConnection,
    entity: Entity,
    members: list[tuple[StagedBatch, StagedEntity]],
    *,
    source: str = "publish_source",
) -> dict[str, MergeCounts]:
    """Merge the rows of these batches in ``source``, whose keys are all distinct."""
    counts: dict[str, MergeCounts] = {}
    # the batches' staged columns may differ (a page without captions): merge each set
    by_columns: dict[tuple[str, ...], list[str]] = {}
    for batch, staged in members:
        by_columns.setdefault(tuple(staged.columns), []).append(batch.load_id)
    for columns, load_ids in by_columns.items():
        counts.update(_merge_columns(conn, entity, list(columns), load_ids, source))
    return counts


def _rounds(
    conn: duckdb.DuckDBPyConnection,
    entity: Entity,
    members: list[tuple[StagedBatch, StagedEntity]],
) -> Iterator[list[tuple[StagedBatch, StagedEntity]]]:
    """Per round, the batches with rows in it, the round's rows made ``publish_round``.

    A batch's rows have distinct keys, so round n holds the n-th batch (in order) of every key:
    within a round keys are distinct, across rounds each key keeps its batches' order.
    """
    keys = ", ".join(quote_identifier(k) for k in entity.primary_key)
    order = {batch.load_id: number for number, (batch, _) in enumerate(members)}
    execute(
        conn,
        "create or replace temp table publish_source as select s.*,"
        f" row_number() over (partition by {keys} order by o.position) as _round"
        " from publish_source s join (select unnest(cast($load_ids as varchar[])) as load_id,"
        " unnest(cast($positions as integer[])) as position) o on o.load_id = s._load_id",
        {"load_ids": list(order), "positions": list(order.values())},
    )
    by_round: dict[int, set[str]] = {}
    for round_number, load_id in run_sql(conn, "publish/round_loads").fetchall():
        by_round.setdefault(int(round_number), set()).add(str(load_id))
    try:
        for round_number in sorted(by_round):
            run_sql(conn, "publish/round_source", {"round": round_number})
            yield [(b, staged) for b, staged in members if b.load_id in by_round[round_number]]
    finally:
        run_sql(conn, "publish/drop_round")


def _merge_columns(
    conn: duckdb.DuckDBPyConnection,
    entity: Entity,
    columns: list[str],
    load_ids: list[str],
    rows_from: str,
) -> dict[str, MergeCounts]:
    """``merge_entity`` for the rows of ``load_ids`` in ``rows_from`` (a temp table of the
    group's rows), giving ``columns``."""
    q = quote_identifier
    keys = entity.primary_key
    values = [c for c in columns if c not in keys]
    target = f"core.{q(entity.name)}"
    history = f"core.{q(entity.name + '_history')}"
    on = " and ".join(f"t.{q(k)} = s.{q(k)}" for k in keys)
    facts = entity.partition is not None

    def differs(col: str) -> str:
        change = f"t.{q(col)} is distinct from s.{q(col)}"
        return change if facts else f"(s.{q(col)} is not null and {change})"

    changed = " or ".join(differs(c) for c in values) or "false"
    newer = "t.observed_at <= s._observed_at"
    source = (
        f"(select {', '.join(q(c) for c in columns)}, _load_id, _observed_at"
        f" from {rows_from} where _load_id in (select unnest(cast($load_ids as varchar[]))))"
    )
    params = {"load_ids": load_ids}
    found = execute(
        conn,
        f"select s._load_id, count(*), count(*) filter (where t.{q(keys[0])} is null),"
        f" count(*) filter (where t.{q(keys[0])} is not null and {newer} and ({changed}))"
        f" from {source} s left join {target} t on {on} group by s._load_id",
        params,
    ).fetchall()
    counts = {
        str(load_id): MergeCounts(int(ins), int(upd), int(total) - int(ins) - int(upd))
        for load_id, total, ins, upd in found
    }
    inserted = sum(c.inserted for c in counts.values())
    updated = sum(c.updated for c in counts.values())
    rows = inserted + updated + sum(c.unchanged for c in counts.values())
    if entity.history and updated:
        execute(
            conn,
            f"insert into {history} select t.*, s._load_id, current_timestamp"
            f" from {target} t join {source} s on {on} where {newer} and ({changed})",
            params,
        )
    assign = ", ".join(
        f"{q(c)} = s.{q(c)}" if facts else f"{q(c)} = coalesce(s.{q(c)}, t.{q(c)})" for c in values
    )
    insert_cols = [*columns, *LOAD_COLUMNS]
    insert_values = [f"s.{q(c)}" for c in columns] + ["s._load_id", "s._observed_at"]
    update = (
        f" when matched and {newer} and ({changed}) then update set {assign},"
        " load_id = s._load_id, observed_at = s._observed_at"
        if values
        else ""
    )
    names = ", ".join(q(c) for c in insert_cols)
    if not inserted and not updated:
        pass  # a replay of rows already held: the MERGE would change nothing
    elif inserted == rows:
        execute(
            conn,
            f"insert into {target} ({names}) select {', '.join(insert_values)} from {source} s",
            params,
        )
    else:
        execute(
            conn,
            f"merge into {target} t using {source} s on {on}{update}"
            f" when not matched then insert ({names}) values ({', '.join(insert_values)})",
            params,
        )
    return counts


def _record_group(
    conn: duckdb.DuckDBPyConnection, batches: list[StagedBatch], totals: list[MergeCounts]
) -> None:
    """``record_batch`` and ``finish_load`` for a group: loads, identities, quarantines."""
    loads = {
        "load_ids": [b.load_id for b in batches],
        "platforms": [b.platform for b in batches],
        "formats": [b.format for b in batches],
        "source_files": [b.source_file for b in batches],
        "source_sha256s": [b.source_sha256 for b in batches],
        "account_ids": [b.account for b in batches],
        "rows_read": [b.rows_read for b in batches],
        "rows_loaded": [b.rows_loaded for b in batches],
        "rows_quarantined": [b.rows_quarantined for b in batches],
        "inserted": [c.inserted for c in totals],
        "updated": [c.updated for c in totals],
        "unchanged": [c.unchanged for c in totals],
        "notes": ["\n".join(b.notes) or None for b in batches],
        "started_ats": [b.started_at for b in batches],
        "finished": datetime.now(UTC),
        "parser_versions": [b.parser_version for b in batches],
        "landing_days": [b.landing_day for b in batches],
    }
    run_sql(conn, "publish/record_loads", loads)
    run_sql(conn, "publish/supersede_quarantines", loads)
    quarantined = [b for b in batches if b.quarantine_path]
    if quarantined:
        run_sql(
            conn,
            "publish/record_quarantines",
            {
                "paths": [b.quarantine_path for b in quarantined],
                "load_ids": [b.load_id for b in quarantined],
                "platforms": [b.platform for b in quarantined],
                "source_files": [b.source_file for b in quarantined],
            },
        )
