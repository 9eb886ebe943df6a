"""What the native stagers share: DuckDB parses high-volume formats, the parsers stay the reference.

A native stager (``ingest.parsing.NativeStager``, written in its platform's package) reads a
landed file with DuckDB, keeps the rows whose every field has the plain shape the platform
sends (an integer count, a string name) and writes their canonical columns to the staged
Parquet with ``COPY``. A row of any other shape (a count as a string, a float id, a timestamp
in the future) is handed to the format's Python row builder and row rules, so its result and
its quarantine reason are the reference's by construction. A file DuckDB cannot read the way
the reference does is left to the Python parser entirely: the stager returns ``None``.

This module holds what every such stager shares and names no platform: the canonical select
list, running reference rows through the row rules, settling both into the batch, and copying
an archive member while checking it the way the reference parser would.

The equivalence of both paths is tested in ``tests/perf/test_native_equivalence.py``.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest.limits import JSON_DOCUMENT_LIMIT
from ingest.model import ENTITIES, Entity
from ingest.parsing import (
    SHARED_LOAD_COLUMN,
    SHARED_ROW_COLUMN,
    Item,
    NativeMember,
    NativeStaged,
    Note,
    Record,
    StagedEntity,
)
from ingest.sqlfiles import quote_identifier
from ingest.staging import (
    EARLIEST_DAY,
    FUTURE_SKEW,
    LINE_COLUMN,
    QUARANTINE_FILE,
    RECORD_COLUMN,
    RawEntity,
    arrow_schema,
    first_reject,
    record_groups,
    repeats,
    settle,
    settled_columns,
    write_quarantine,
)

# a json object larger than this is not an api page; the reference parser refuses it
MAX_DOCUMENT_BYTES = JSON_DOCUMENT_LIMIT
INT32_LIMIT = 2**31
_COPY_CHUNK = 1024 * 1024

# staged rows of one entity, the quarantine rows, and the columns the rows provide per entity
Reference = tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]], dict[str, set[str]]]
# entity -> (a query giving its native rows through ``select_list``, the columns they provide)
Plans = dict[str, tuple[str, set[str]]]
# the column numbering the members of a group in its native rows and reference rows
MEMBER_COLUMN = "_member"
# rows per row group of a pass's shared file (about 40 pages of 100)
SHARED_ROW_GROUP = 4096


def select_list(entity: Entity, provided: Mapping[str, str], record: str = "line") -> str:
    """Every column of the entity in model order, typed as staging writes them.

    ``provided`` maps an entity column to the column of the source relation holding it; the
    others are null. ``record`` is the source column numbering the records (in one JSON
    document, its lines do).
    """
    parts = []
    for column in entity.columns:
        source = provided.get(column.name)
        expr = quote_identifier(source) if source is not None else "null"
        parts.append(f"cast({expr} as {column.sql_type}) as {quote_identifier(column.name)}")
    parts.append(f"cast(line as bigint) as {quote_identifier(LINE_COLUMN)}")
    parts.append(f"cast({quote_identifier(record)} as bigint) as {quote_identifier(RECORD_COLUMN)}")
    return ", ".join(parts)


def reference_rows(
    items: Iterable[Item],
    observed_at: datetime,
    record: Callable[[int, int], int] = lambda line, index: line,
) -> Reference:
    """Run the reference row builder's items through the staging row rules.

    ``record(line, index)`` numbers the index-th source record (from 0), by default by its
    line: the records of one JSON document.
    """
    accepted: dict[str, list[dict[str, Any]]] = {}
    columns: dict[str, set[str]] = {}
    rejects: list[dict[str, Any]] = []
    index = -1
    for group in record_groups(items):
        if isinstance(group[0], Note):
            continue
        index += 1
        rejected = first_reject(group, observed_at)
        if rejected is not None:
            rejects.append(rejected)
            continue
        for item in group:
            assert isinstance(item, Record)
            columns.setdefault(item.entity, set()).update(item.values)
            accepted.setdefault(item.entity, []).append(
                {**item.values, LINE_COLUMN: item.line, RECORD_COLUMN: record(item.line, index)}
            )
    return accepted, rejects, columns


def merge_references(first: Reference, second: Reference) -> Reference:
    """Two references as one: the rows of ``first``, then those of ``second``."""
    accepted = {k: list(v) for k, v in first[0].items()}
    for name, rows in second[0].items():
        accepted.setdefault(name, []).extend(rows)
    columns = {k: set(v) for k, v in first[2].items()}
    for name, names in second[2].items():
        columns.setdefault(name, set()).update(names)
    return accepted, first[1] + second[1], columns


def write_staged(
    conn: duckdb.DuckDBPyConnection,
    folder: Path,
    plans: Plans,
    reference: Reference,
    rows_read: int,
    notes: list[str] | None = None,
) -> NativeStaged:
    """Settle the native rows and the reference rows of each entity into the staged Parquet.

    The rows never pass through a raw file: each entity is a subquery over the native query
    and the reference rows, settled on the same connection (``staging.settle``), one ``COPY`` each.
    """
    accepted, rejects, ref_columns = reference
    parts: dict[str, RawEntity] = {}
    for name in [*plans, *(n for n in accepted if n not in plans)]:
        entity = ENTITIES[name]
        extra = accepted.get(name, [])
        query, columns = plans.get(name, ("", set()))
        sources = [query] if query else []
        ref_table = quote_identifier(f"ref_{name}")
        if extra:
            conn.register("ref_rows", pa.Table.from_pylist(extra, schema=arrow_schema(entity)))
            conn.execute(f"create or replace temp table {ref_table} as select * from ref_rows")
            conn.unregister("ref_rows")
            sources.append(f"select * from {ref_table}")
        # a subquery, not a view: a statement less to create it and one less to drop it
        raw = f"({' union all by name '.join(sources)})"
        # the rows and the repeated keys in one statement: settle need not count them again
        counted = conn.execute(f"select count(*), ({repeats(entity, raw)}) from {raw}").fetchone()
        if counted and counted[0]:
            parts[name] = RawEntity(
                entity, raw, columns | ref_columns.get(name, set()), bool(counted[1])
            )
    entities, duplicates = settle(conn, folder, parts)
    write_quarantine(rejects + duplicates, folder / QUARANTINE_FILE)
    return NativeStaged(
        rows_read=rows_read,
        rows_quarantined=len(rejects) + len(duplicates),
        entities=entities,
        notes=notes or [],
    )


def readable_page(member: NativeMember) -> bool:
    """Whether a group stager may read an API page natively: its day is plausible (else every
    row fails the day rule, which the reference says row by row) and its size a page's."""
    latest = member.ctx.observed_at + FUTURE_SKEW
    if not EARLIEST_DAY <= member.ctx.day <= latest.date():
        return False
    size = member.path.stat().st_size
    return 0 < size <= MAX_DOCUMENT_BYTES


def stage_by_halves(
    members: Sequence[NativeMember],
    readable: Callable[[NativeMember], bool],
    stage_some: Callable[[dict[int, NativeMember]], dict[int, NativeStaged] | None],
) -> list[NativeStaged | None]:
    """A group stager's outline: per member its batch, or None for the per-file way.

    ``stage_some`` stages the members it is given (by number) in one pass, leaving out those
    it cannot stage natively, or gives None when DuckDB refuses the whole read (one file of it
    is not of the format's shape): the group is then halved until that file stands alone, so
    the others still stage together. Members not ``readable`` are never given to it.
    """
    results: list[NativeStaged | None] = [None] * len(members)
    pending = [{n: m for n, m in enumerate(members) if readable(m)}]
    while pending:
        candidates = pending.pop()
        if not candidates:
            continue
        staged = stage_some(candidates)
        if staged is not None:
            for number, batch in staged.items():
                results[number] = batch
        elif len(candidates) > 1:
            numbers = list(candidates)
            half = len(numbers) // 2
            pending.append({n: candidates[n] for n in numbers[:half]})
            pending.append({n: candidates[n] for n in numbers[half:]})
    return results


@contextmanager
def given_members(
    conn: duckdb.DuckDBPyConnection, columns: Mapping[str, pa.Array | list[Any]]
) -> Iterator[None]:
    """The members of a group as the relation ``given_members`` (one row each) while inside.

    A group stager's members statement types them into its own temp table from it: bound
    list parameters holding nulls are slow to type, a registered Arrow table is not.
    """
    conn.register("given_members", pa.table(dict(columns)))
    try:
        yield
    finally:
        conn.unregister("given_members")


@dataclass
class GroupMember:
    """What a group stager knows of one of its files once DuckDB has read them all.

    ``columns`` are the canonical columns its native rows provide, per entity of the plans.
    """

    member: NativeMember
    rows_read: int
    columns: dict[str, set[str]]
    reference: Reference = ({}, [], {})

    @property
    def folder(self) -> Path:
        return self.member.folder


def write_staged_group(
    conn: duckdb.DuckDBPyConnection, plans: dict[str, str], members: dict[int, GroupMember]
) -> dict[int, NativeStaged]:
    """``write_staged`` for many files at once: per member, the batch ``write_staged`` writes.

    ``plans`` give per entity a query of the native rows of every member, each row with its
    member number in ``MEMBER_COLUMN`` after the ``select_list`` columns. A member whose keys
    repeat within it is settled alone (``staging.settle``, as one file would be); the others,
    nearly always all, are read with one query per entity and each member's rows written to
    its batch folder (``_write_members``).
    """
    if not members:
        return {}
    raws = _group_relations(conn, plans, members)
    # (member, entity) -> rows; members with a key repeated inside them
    rows: dict[tuple[int, str], int] = {}
    repeating: set[int] = set()
    for name, raw in raws.items():
        keys = ", ".join(quote_identifier(k) for k in ENTITIES[name].primary_key)
        for member, count, repeated in conn.execute(
            f"select {MEMBER_COLUMN}, sum(n), max(n) > 1 from (select {MEMBER_COLUMN},"
            f" count(*) as n from {raw} group by {MEMBER_COLUMN}, {keys}) group by all"
        ).fetchall():
            rows[(int(member), name)] = int(count)
            if repeated:
                repeating.add(int(member))
    staged: dict[int, NativeStaged] = {}
    for number in sorted(repeating):
        staged[number] = _write_member_alone(conn, raws, number, members[number])
    together = sorted(set(members) - repeating)
    paths: dict[tuple[int, str], Path] = {}
    if together:
        paths = _write_members(conn, raws, together, members)
    for number in together:
        member = members[number]
        rejects = member.reference[1]
        write_quarantine(rejects, member.folder / QUARANTINE_FILE)
        entities = {
            name: StagedEntity(
                entity=name,
                path=str(paths[(number, name)]),
                columns=_columns(name, member),
                rows=rows[(number, name)],
                shared=paths[(number, name)].parent != member.folder,
            )
            for name in raws
            if rows.get((number, name))
        }
        staged[number] = NativeStaged(member.rows_read, len(rejects), entities)
    return staged


def _group_relations(
    conn: duckdb.DuckDBPyConnection, plans: dict[str, str], members: dict[int, GroupMember]
) -> dict[str, str]:
    """Per entity, SQL naming the native rows and the reference rows of every member."""
    raws: dict[str, str] = {}
    names = [*plans, *{n: None for m in members.values() for n in m.reference[0] if n not in plans}]
    for name in names:
        entity = ENTITIES[name]
        extra = [
            {**row, MEMBER_COLUMN: number}
            for number, member in members.items()
            for row in member.reference[0].get(name, [])
        ]
        sources = [plans[name]] if name in plans else []
        if extra:
            schema = arrow_schema(entity).append(pa.field(MEMBER_COLUMN, pa.int64()))
            ref_table = quote_identifier(f"ref_{name}")
            conn.register("ref_rows", pa.Table.from_pylist(extra, schema=schema))
            conn.execute(f"create or replace temp table {ref_table} as select * from ref_rows")
            conn.unregister("ref_rows")
            sources.append(f"select * from {ref_table}")
        if sources:
            raws[name] = f"({' union all by name '.join(sources)})"
    return raws


def _columns(name: str, member: GroupMember) -> list[str]:
    provided = member.columns.get(name, set()) | member.reference[2].get(name, set())
    return [c for c in ENTITIES[name].column_names if c in provided]


def _write_member_alone(
    conn: duckdb.DuckDBPyConnection, raws: dict[str, str], number: int, member: GroupMember
) -> NativeStaged:
    parts = {
        name: RawEntity(
            ENTITIES[name],
            f"(select * exclude ({MEMBER_COLUMN}) from {raw} where {MEMBER_COLUMN} = {number})",
            set(_columns(name, member)),
        )
        for name, raw in raws.items()
    }
    # an entity this member has no rows of is left out, as ``write_staged`` leaves it out
    counted = {
        name: conn.execute(f"select count(*) from {part.relation}").fetchone()
        for name, part in parts.items()
    }
    parts = {name: part for name, part in parts.items() if (counted[name] or (0,))[0]}
    member.folder.mkdir(exist_ok=True)  # a pass's batch has no folder until it needs one
    entities, duplicates = settle(conn, member.folder, parts)
    rejects = member.reference[1]
    write_quarantine(rejects + duplicates, member.folder / QUARANTINE_FILE)
    return NativeStaged(member.rows_read, len(rejects) + len(duplicates), entities)


def _write_members(
    conn: duckdb.DuckDBPyConnection,
    raws: dict[str, str],
    numbers: list[int],
    members: dict[int, GroupMember],
) -> dict[tuple[int, str], Path]:
    """One query per entity for all these members; where each member's rows were written.

    Members that name the pass's folder and their load (all of a pass of ``stage_group``)
    share one file per entity there: each row carries its load and its position among that
    load's rows (``StagedEntity.shared``). Any other member's rows are split in Arrow and
    written straight into its batch folder. Such a file is only ever read whole: without
    dictionaries and column statistics it takes half the time to write and is no larger.
    """
    # member numbers are the stager's own counters, never input
    chosen = ", ".join(str(int(n)) for n in numbers)
    given = [members[n].member for n in numbers]
    shared = given[0].shared if len(given) > 1 else None
    if any(m.shared != shared or not m.load_id for m in given):
        shared = None
    written: dict[tuple[int, str], Path] = {}
    for name, raw in raws.items():
        columns = ", ".join(quote_identifier(c) for c in settled_columns(ENTITIES[name]))
        table = conn.execute(
            f"select {columns}, {MEMBER_COLUMN} from {raw} where {MEMBER_COLUMN} in ({chosen})"
        ).to_arrow_table()
        # a stable sort: each member's rows keep the order the query gave them
        table = table.take(pc.sort_indices(table, sort_keys=[(MEMBER_COLUMN, "ascending")]))
        runs = pc.run_end_encode(table.column(MEMBER_COLUMN).combine_chunks())
        held = [int(n) for n in runs.values.to_pylist()]
        table = table.drop_columns([MEMBER_COLUMN])
        if not held:
            continue
        if shared is not None:
            # a pass's members are disjoint from any other pass's: the lowest names the file
            path = shared / f"{name}.{min(numbers)}.parquet"
            # why: a publish of one load (DuckLake's, one per page) filters the file by its
            # load; row groups sorted by load, with its range in their statistics, let DuckDB
            # skip all but that load's (4.3 against 8.5 ms a page of a 500-page pass)
            pq.write_table(
                _with_loads(table, runs, members),
                path,
                row_group_size=SHARED_ROW_GROUP,
                write_statistics=[SHARED_LOAD_COLUMN],
            )
            written.update({(n, name): path for n in held})
            continue
        start = 0
        for end, number in zip(runs.run_ends.to_pylist(), held, strict=True):
            members[number].folder.mkdir(exist_ok=True)
            path = members[number].folder / f"{name}.parquet"
            pq.write_table(
                table.slice(start, end - start), path, use_dictionary=False, write_statistics=False
            )
            written[(number, name)] = path
            start = end
    return written


def _with_loads(
    table: pa.Table, runs: pa.RunEndEncodedArray, members: dict[int, GroupMember]
) -> pa.Table:
    """The rows of several members (in runs, one per member) with each row's load and its
    position among its load's rows, ordered by load."""
    ends = runs.run_ends
    starts = pa.concat_arrays([pa.array([0], ends.type), ends.slice(0, len(ends) - 1)])
    load_ids = pa.array([members[int(n)].member.load_id for n in runs.values.to_pylist()])

    def per_row(values: pa.Array) -> pa.Array:
        return pc.run_end_decode(pa.RunEndEncodedArray.from_arrays(ends, values))

    position = pc.subtract(
        pa.array(range(len(table)), pa.int64()), per_row(starts.cast(pa.int64()))
    )
    table = table.append_column(SHARED_LOAD_COLUMN, per_row(load_ids))
    table = table.append_column(SHARED_ROW_COLUMN, position)
    return table.sort_by([(SHARED_LOAD_COLUMN, "ascending"), (SHARED_ROW_COLUMN, "ascending")])


def copy_checked(member: Any, dest: Path) -> tuple[int, bytes] | None:
    """Copy a stream (an archive member) to ``dest``, checking it as the reference CSV reader would.

    Returns its physical lines as Python's csv module counts them, and its head (up to 4 KiB);
    None when it is not strict UTF-8 or holds a NUL (the reference refuses both).
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    terminators = 0
    head = b""
    last = b""
    with dest.open("wb") as out:
        while chunk := member.read(_COPY_CHUNK):
            if not head:
                head = chunk[:4096]
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return None
            if b"\x00" in chunk:
                return None
            terminators += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if last == b"\r" and chunk[:1] == b"\n":
                terminators -= 1  # a \r\n split between two chunks
            last = chunk[-1:]
            out.write(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    if len(head) < 4096 and len(head) < dest.stat().st_size:
        return None
    lines = terminators + (1 if last not in (b"", b"\n", b"\r") else 0)
    return lines, head
