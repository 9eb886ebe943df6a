"""Parse one landed file into a staged batch: canonical rows as Parquet, rejects as quarantine.

Staging never touches the warehouse, so many files can be parsed at once while the single
writer publishes. A batch is a folder ``<staging>/<run>.<platform>.<day>.<load_id>/`` holding
one Parquet file per entity and ``quarantine.parquet`` when a row was quarantined; a batch
handed to another process (the DAG's publish task) also gets ``batch.json``, which is all that
publishing needs. The name says whose batch it is (see
``BatchOwner``), so concurrent runs, even over the same bytes, never take each other's batches
for their own.

The module is long (past 600 lines) because the row rules, the Parquet writing and the batch
folder's life (naming, owners, scratch space, discarding) are one contract that the Python path
and the DuckDB stagers share; splitting it would spread that contract over several files.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.model import ENTITIES, Entity
from ingest.parsing import (
    Format,
    Item,
    NativeMember,
    NativeStaged,
    Note,
    ParseContext,
    Record,
    Reject,
    raw_json,
)

# re-exported: batches, publishing and audits know it as staging's
from ingest.parsing import StagedEntity as StagedEntity
from ingest.sqlfiles import in_memory, quote_identifier, read_sql

FLUSH_ROWS = 50_000
LINE_COLUMN = "_line"
# the source record's number in the batch; lines repeat across the members of an archive
RECORD_COLUMN = "_record"
# no platform of ours existed before this; earlier dates are broken values
EARLIEST_DAY = date(2005, 1, 1)
# clock skew allowed between a platform's "now" and ours
FUTURE_SKEW = timedelta(days=1)

_ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "DATE": pa.date32(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "BOOLEAN": pa.bool_(),
}
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "VARCHAR": (str,),
    "BIGINT": (int,),
    "INTEGER": (int,),
    "DATE": (date,),
    "TIMESTAMPTZ": (datetime,),
    "BOOLEAN": (bool,),
}
# a folder of another run untouched this long was left by a killed run: nothing will publish it
ABANDONED_AFTER = timedelta(days=2)
# the folder of a staging pass's shared files is named like a batch's, its load id so suffixed
PASS_SUFFIX = "-pass"
_RUN_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9-]+")
QUARANTINE_SCHEMA = pa.schema(
    [("line", pa.int64()), ("field", pa.string()), ("reason", pa.string()), ("raw", pa.string())]
)
QUARANTINE_FILE = "quarantine.parquet"


@lru_cache(maxsize=64)
def run_key(run_id: str) -> str:
    """A run id as a folder-name part: readable, without dots, distinct for distinct ids."""
    readable = _RUN_KEY_UNSAFE.sub("-", run_id).strip("-")[:48]
    return f"{readable}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class BatchOwner:
    """Who a staged batch belongs to: one run (a CLI invocation or a DAG run) on one platform's day.

    A run may remove only its own batches (those of an earlier, interrupted try of the same run),
    never another run's, even when both staged the same bytes.
    """

    run_id: str
    platform: str
    day: date

    @property
    def prefix(self) -> str:
        return f"{run_key(self.run_id)}.{self.platform}.{self.day.isoformat()}."

    def folder(self, staging_root: Path, load_id: str) -> Path:
        return staging_root / f"{self.prefix}{load_id}"

    def discard_batches(self, staging_root: Path) -> int:
        """Remove every batch folder of this owner, half-written ones included; how many."""
        if not staging_root.is_dir():
            return 0
        removed = 0
        for folder in staging_root.iterdir():
            if folder.is_dir() and folder.name.startswith(self.prefix):
                StagedBatch.discard_folder(folder)
                removed += 1
        return removed


@dataclass(frozen=True)
class BatchName:
    """What a batch folder's name says: its platform, day and load id."""

    platform: str
    day: str
    load_id: str

    @classmethod
    def parse(cls, folder: Path) -> BatchName | None:
        parts = folder.name.split(".")
        if len(parts) != 4:
            return None
        return cls(platform=parts[1], day=parts[2], load_id=parts[3])


def discard_abandoned(staging_root: Path, *, older_than: timedelta = ABANDONED_AFTER) -> int:
    """Remove batch folders of any run left untouched for ``older_than``; how many.

    A killed run's batches are never published by another run, so without this they would
    stay forever. A live run's folder is far younger; and were one removed, its publish would
    fail loudly, because a batch counts as done only when ``meta.loads`` says so. Only batch
    folders go: the indexes kept beside them (``published/``) change seldom, so their
    folders' times say nothing of their use.
    """
    if not staging_root.is_dir():
        return 0
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    for folder in staging_root.iterdir():
        if BatchName.parse(folder) is None:
            continue
        try:
            stale = folder.is_dir() and folder.stat().st_mtime < cutoff
        except FileNotFoundError:
            continue
        if stale:
            StagedBatch.discard_folder(folder)
            removed += 1
    return removed


@dataclass
class StagedBatch:
    """A parsed file ready for audit and publish; serialised as ``batch.json`` (``save``)."""

    load_id: str
    platform: str
    format: str
    source_file: str
    source_sha256: str
    account: str | None
    observed_at: str
    folder: str
    started_at: str
    rows_read: int = 0
    rows_quarantined: int = 0
    entities: dict[str, StagedEntity] = field(default_factory=dict)
    # empty when no row was quarantined: most API pages have none, and a file less per page
    # is a file less to write, read back and remove
    quarantine_path: str = ""
    notes: list[str] = field(default_factory=list)
    # the run that staged it and the landing day it was staged for (see ``BatchOwner``)
    run_id: str = ""
    day: str = ""
    # what a replay is compared by (see ``pipeline.published_before``); None when unknown
    parser_version: str | None = None
    landing_day: str | None = None
    # staged without parsing: these bytes were published by this load (``ingest.replays``)
    replay_of: str | None = None
    # parsed and published again even when the same bytes were published before
    reprocess: bool = False
    # the landed file it was staged from
    landed_path: str = ""
    # discarded by this process already: a load discards every batch again when it ends
    discarded: bool = field(default=False, compare=False, repr=False)

    @property
    def rows_loaded(self) -> int:
        return self.rows_read - self.rows_quarantined

    def save(self) -> None:
        """Write ``batch.json``, for a step that takes the batch on by its folder (the DAG's)."""
        folder = Path(self.folder)
        # a replay's batch has no files but this one, and no folder until it is saved
        folder.mkdir(parents=True, exist_ok=True)
        self.discarded = False  # it has a folder again
        # the fields are flat but for the entities: a shallow copy costs a fraction of asdict
        data = {**vars(self), "entities": {k: vars(e) for k, e in self.entities.items()}}
        del data["discarded"]
        (folder / "batch.json").write_text(json.dumps(data))

    @classmethod
    def open(cls, folder: Path) -> StagedBatch:
        data = json.loads((folder / "batch.json").read_text())
        data["entities"] = {k: StagedEntity(**v) for k, v in data["entities"].items()}
        return cls(**data)

    def discard(self) -> None:
        # why: a run of API pages discards thousands of folders; removing the files the batch
        # names and then the folder spares rmtree's listing of each. Anything else in it (a
        # ``batch.json``, a half-written file) makes rmdir fail, and rmtree removes the rest
        if self.discarded:
            return
        self.discarded = True
        for path in self._named_files():
            with suppress(FileNotFoundError):
                os.unlink(path)
        try:
            os.rmdir(self.folder)
        except FileNotFoundError:
            return  # a replay's batch mostly has no folder
        except OSError:
            self.discard_folder(self.folder)

    def _named_files(self) -> list[str]:
        named = [e.path for e in self.entities.values()]
        if self.quarantine_path:
            named.append(self.quarantine_path)
        # only files inside the batch's own folder are the batch's to remove
        return [p for p in named if os.path.dirname(p) == self.folder]

    @staticmethod
    def discard_folder(folder: str | Path) -> None:
        # why: staging that failed before making its folder left none, and removing none
        # costs rmtree an error (a replay's folderless batch ends in ``discard``)
        if os.path.isdir(folder):
            shutil.rmtree(folder, ignore_errors=True)


def discard_all(batches: Iterable[StagedBatch]) -> None:
    """Discard the batches, and the files their staging passes shared among them.

    A batch's own discard leaves a shared file to the other batches of its pass: call this
    once none of them is wanted any more (a load's end, a run's publish step).
    """
    passes: set[str] = set()
    for batch in batches:
        batch.discard()
        passes.update(os.path.dirname(e.path) for e in batch.entities.values() if e.shared)
    for folder in passes:
        StagedBatch.discard_folder(folder)


def staged_rows_sql(members: Sequence[tuple[str, StagedEntity]]) -> tuple[str, dict[str, Any]]:
    """A query of the staged rows of these (load id, staged entity) pairs, and its parameters.

    Each row carries its load id in ``SHARED_LOAD_COLUMN`` and its position among its load's
    rows in ``file_row_number``. A batch's own file is told apart by its name, a pass's
    shared file by its load column; a shared file is read once however many loads it holds.
    The pairs are of one entity (their files' columns are alike).
    """
    own = [(load_id, e.path) for load_id, e in members if not e.shared]
    shared = [(load_id, e.path) for load_id, e in members if e.shared]
    parts: list[str] = []
    params: dict[str, Any] = {}
    if own:
        parts.append(read_sql("staging/own_rows"))
        params.update(own_paths=[p for _, p in own], own_load_ids=[lid for lid, _ in own])
    if shared:
        parts.append(read_sql("staging/shared_rows"))
        params.update(
            shared_paths=list(dict.fromkeys(p for _, p in shared)),
            shared_load_ids=[lid for lid, _ in shared],
        )
    if not parts:
        raise ValueError("no staged files to read")
    return " union all by name ".join(f"({part}\n)" for part in parts), params


def arrow_schema(entity: Entity) -> pa.Schema:
    fields = [pa.field(c.name, _ARROW_TYPES[c.sql_type]) for c in entity.columns]
    return pa.schema(
        [*fields, pa.field(LINE_COLUMN, pa.int64()), pa.field(RECORD_COLUMN, pa.int64())]
    )


def check_record(record: Record, entity: Entity, observed_at: datetime) -> tuple[str, str] | None:
    """Row rules from the model: required values, types, ranges. Returns (field, reason)."""
    latest = observed_at + FUTURE_SKEW
    for name, value in record.values.items():
        column = entity.column(name)
        if value is None:
            if column.required:
                return name, "required value is missing"
            continue
        if not _has_type(value, column.sql_type):
            return name, f"expected {column.sql_type}, got {type(value).__name__}"
        if column.sql_type == "VARCHAR" and not value.isascii() and not encodable(value):
            # JSON can carry lone surrogates ("\ud800"); Parquet and DuckDB cannot store them
            return name, "not valid Unicode text (a lone surrogate)"
        if column.non_negative and value < 0:
            return name, f"must not be negative, got {value}"
        if column.sql_type == "INTEGER" and not -(2**31) <= value < 2**31:
            return name, f"out of range for INTEGER: {value}"
        if column.sql_type == "DATE" and not EARLIEST_DAY <= value <= latest.date():
            return name, f"date {value} is out of range ({EARLIEST_DAY} to {latest.date()})"
        if column.sql_type == "TIMESTAMPTZ":
            if value.tzinfo is None:
                return name, "timestamp has no time zone"
            if not value.date() >= EARLIEST_DAY or value > latest:
                return name, f"timestamp {value.isoformat()} is out of range"
    for key in entity.primary_key:
        if record.values.get(key) is None:
            return key, "key value is missing"
    return None


def encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(text: str | None) -> str | None:
    """Text as Parquet can hold it: a lone surrogate (which a reason may quote from a JSON
    value) kept as its escape, like ``parsing.raw_json`` keeps it."""
    if text is None or text.isascii() or encodable(text):
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _has_type(value: Any, sql_type: str) -> bool:
    # bool is an int in Python; a flag must not pass for a count
    if isinstance(value, bool) and sql_type != "BOOLEAN":
        return False
    return isinstance(value, _PY_TYPES[sql_type])


class _ParquetRows:
    """Rows buffered and written to a Parquet file in bounded chunks; the file is created
    with its first row (a file with no rows, most pages' quarantine, is never written)."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.schema = schema
        self.buffer: list[dict[str, Any]] = []
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None

    def append(self, row: dict[str, Any]) -> None:
        self.buffer.append(row)
        if len(self.buffer) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        table = pa.Table.from_pylist(self.buffer, schema=self.schema)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, self.schema)
        self._writer.write_table(table)
        self.rows += len(self.buffer)
        self.buffer.clear()

    def close(self, *, flush: bool = True) -> None:
        """Close the file, first writing what is buffered unless ``flush`` is False."""
        if flush:
            self.flush()
        if self._writer is not None:
            self._writer.close()


class _EntityWriter(_ParquetRows):
    """Buffers rows of one entity and writes them to Parquet in bounded chunks."""

    def __init__(self, entity: Entity, path: Path) -> None:
        super().__init__(path, arrow_schema(entity))
        self.entity = entity
        self.columns: set[str] = set()

    def add(self, record: Record, number: int) -> None:
        self.columns.update(record.values)
        row = dict(record.values)
        row[LINE_COLUMN] = record.line
        row[RECORD_COLUMN] = number
        self.append(row)


def record_groups(items: Iterable[Item]) -> Iterator[list[Item]]:
    """Consecutive items of one source line: a record's rows travel together."""
    group: list[Item] = []
    line: int | None = None
    for item in items:
        if isinstance(item, Note):
            yield [item]
            continue
        if group and item.line != line:
            yield group
            group = []
        group.append(item)
        line = item.line
    if group:
        yield group


def stage(
    landed_path: Path,
    fmt: Format,
    ctx: ParseContext,
    *,
    staging_root: Path,
    load_id: str,
    source_sha256: str,
    owner: BatchOwner | None = None,
    save: bool = True,
) -> StagedBatch:
    """Parse a landed file into a staged batch, applying the row rules.

    Every source record ends up either staged or in quarantine with its reason:
    ``rows_read = rows_loaded + rows_quarantined`` by construction. With an ``owner`` the
    folder is named after it; without, after the load id alone. Without ``save``, writing
    ``batch.json`` is left to the caller (once, after adding what it knows of the batch).
    """
    batch = _new_batch(fmt, ctx, staging_root, load_id, source_sha256, owner)
    folder = Path(batch.folder)
    native = fmt.native(landed_path, ctx, folder) if fmt.native is not None else None
    if native is not None:
        return _finish_native(batch, native, save=save)
    writers: dict[str, _EntityWriter] = {}
    quarantine = _ParquetRows(folder / QUARANTINE_FILE, QUARANTINE_SCHEMA)
    try:
        for group in record_groups(fmt.parse(landed_path, ctx)):
            if isinstance(group[0], Note):
                batch.notes.append(group[0].message)
                continue
            batch.rows_read += 1
            rejected = first_reject(group, ctx.observed_at)
            if rejected is not None:
                quarantine.append(rejected)
                batch.rows_quarantined += 1
                continue
            for item in group:
                assert isinstance(item, Record)
                if item.entity not in writers:
                    writers[item.entity] = _EntityWriter(
                        ENTITIES[item.entity], folder / f"{item.entity}.raw.parquet"
                    )
                writers[item.entity].add(item, batch.rows_read)
        for writer in writers.values():
            writer.close()
        quarantine.flush()
    finally:
        # on an error what is buffered is dropped with the batch: only the files are closed
        quarantine.close(flush=False)
        for writer in writers.values():
            writer.close(flush=False)
    _settle_duplicates(batch, writers)
    batch.quarantine_path = quarantine_path(folder, batch.rows_quarantined)
    if save:
        batch.save()
    return batch


def _new_batch(
    fmt: Format,
    ctx: ParseContext,
    staging_root: Path,
    load_id: str,
    source_sha256: str,
    owner: BatchOwner | None,
    *,
    make_folder: bool = True,
) -> StagedBatch:
    """An empty batch, and its folder unless ``make_folder`` is off (whoever writes into it
    then makes it: most pages of a staging pass write nothing of their own)."""
    folder = owner.folder(staging_root, load_id) if owner else staging_root / load_id
    if make_folder:
        folder.mkdir(parents=True, exist_ok=True)
    return StagedBatch(
        load_id=load_id,
        platform=fmt.platform,
        format=fmt.name,
        source_file=ctx.source,
        source_sha256=source_sha256,
        account=ctx.account,
        observed_at=ctx.observed_at.isoformat(),
        folder=str(folder),
        started_at=datetime.now(UTC).isoformat(),
        run_id=owner.run_id if owner else "",
        day=owner.day.isoformat() if owner else "",
    )


@dataclass(frozen=True)
class StageRequest:
    """One landed file to stage in a group, and the load it will be."""

    landed_path: Path
    ctx: ParseContext
    load_id: str
    source_sha256: str
    owner: BatchOwner


def stage_group(
    fmt: Format, requests: Sequence[StageRequest], *, staging_root: Path
) -> list[StagedBatch | None]:
    """Stage many files of one format with its group stager, in one pass over them.

    Each file staged gets the batch ``stage`` would give it (``batch.json`` is the caller's
    to write); a file the group stager leaves alone gets None and no folder, for the caller
    to stage the per-file way.
    """
    assert fmt.native_group is not None
    # why: a page whose rows go to the pass's shared files writes nothing of its own, and
    # 10,000 folders made and removed again cost a 1M-row pull seconds of file-system work
    batches = [
        _new_batch(fmt, r.ctx, staging_root, r.load_id, r.source_sha256, r.owner, make_folder=False)
        for r in requests
    ]
    # the pass's shared files: a folder named like its first batch's, so that the sweeps of
    # a run's batches and of abandoned ones take it too (``discard_all`` removes it)
    shared = requests[0].owner.folder(staging_root, f"{requests[0].load_id}{PASS_SUFFIX}")
    try:
        shared.mkdir(parents=True)
        members = [
            NativeMember(r.landed_path, r.ctx, Path(b.folder), r.load_id, shared)
            for r, b in zip(requests, batches, strict=True)
        ]
        staged = fmt.native_group(members)
    except BaseException:
        for batch in batches:
            batch.discard()
        StagedBatch.discard_folder(shared)
        raise
    with suppress(OSError):
        shared.rmdir()  # nothing was written to it (every page was left alone)
    done: list[StagedBatch | None] = []
    for batch, native in zip(batches, staged, strict=True):
        if native is None:
            batch.discard()
            done.append(None)
        else:
            done.append(_finish_native(batch, native, save=False))
    return done


def _finish_native(batch: StagedBatch, native: NativeStaged, *, save: bool) -> StagedBatch:
    """A batch from a native stager, whose entities are already settled like the Python path's."""
    batch.rows_read = native.rows_read
    batch.rows_quarantined = native.rows_quarantined
    batch.notes.extend(native.notes)
    batch.entities.update(native.entities)
    batch.quarantine_path = quarantine_path(Path(batch.folder), native.rows_quarantined)
    if save:
        batch.save()
    return batch


def first_reject(group: list[Item], observed_at: datetime) -> dict[str, Any] | None:
    for item in group:
        if isinstance(item, Reject):
            return {
                "line": item.line,
                "field": storable(item.field),
                "reason": storable(item.reason),
                "raw": storable(item.raw),
            }
    for item in group:
        assert isinstance(item, Record)
        problem = check_record(item, ENTITIES[item.entity], observed_at)
        if problem is not None:
            name, reason = problem
            return {
                "line": item.line,
                "field": name,
                "reason": f"{name}: {reason}",
                "raw": raw_json(item.values),
            }
    return None


def _settle_duplicates(batch: StagedBatch, writers: dict[str, _EntityWriter]) -> None:
    """Settle the Python path's raw Parquet files into the batch (see ``settle``)."""
    parts = {
        name: RawEntity(
            writer.entity, f"read_parquet({sql_text(str(writer.path))})", writer.columns
        )
        for name, writer in writers.items()
        if writer.rows
    }
    with scratch() as conn:
        entities, duplicates = settle(conn, Path(batch.folder), parts)
    for writer in writers.values():
        writer.path.unlink(missing_ok=True)
    batch.entities.update(entities)
    if duplicates:
        _append_rejects(Path(batch.folder) / QUARANTINE_FILE, duplicates)
        batch.rows_quarantined += len(duplicates)


@dataclass
class RawEntity:
    """One entity's rows before duplicate keys are settled.

    ``relation`` is SQL naming them on the settling connection (a temp table,
    ``read_parquet(...)`` or a parenthesised query) with the columns of
    ``arrow_schema(entity)`` in that order.
    """

    entity: Entity
    relation: str
    columns: set[str]
    # whether some key occurs more than once, when the caller already asked (see ``repeats``)
    repeated: bool | None = None


def repeats(entity: Entity, relation: str) -> str:
    """SQL counting the keys of ``entity`` that occur more than once in ``relation``."""
    keys = ", ".join(entity.primary_key)
    # names from the model
    return f"select count(*) from (select 1 from {relation} group by {keys} having count(*) > 1)"


def settled_columns(entity: Entity) -> list[str]:
    """The columns of a settled entity's Parquet file, in the order ``settle`` writes them."""
    if entity.partition is None:
        return [*entity.column_names, LINE_COLUMN, RECORD_COLUMN]
    values = [c for c in entity.column_names if c not in entity.primary_key]
    return [*entity.primary_key, *values, LINE_COLUMN, RECORD_COLUMN]


def settle(
    conn: duckdb.DuckDBPyConnection, folder: Path, parts: dict[str, RawEntity]
) -> tuple[dict[str, StagedEntity], list[dict[str, Any]]]:
    """Resolve keys that occur more than once in the batch; write ``<entity>.parquet`` files.

    Daily facts: rows of one key that complement each other (each column has at most one
    value among them, as when two members of an export archive give different metrics of
    the same day) are combined into one row. Rows that contradict each other, or repeat
    each other exactly, are not: every record after the first goes to quarantine, naming
    the line it repeats. Dimension rows
    (accounts, posts) repeat legitimately (one per post of an account): the last wins.

    Only keys that occur more than once are looked at row by row, so a batch without
    repeats costs one aggregate per entity. Returns the staged entities and the quarantine
    rows of the duplicate records, in record order.
    """
    # record -> (its line, entity, line of the first record with the same key)
    duplicates: dict[int, tuple[int, str, int]] = {}
    repeated_keys: set[str] = set()
    for name, part in parts.items():
        entity = part.entity
        keys = ", ".join(entity.primary_key)
        repeated = part.repeated
        if repeated is None:
            counted = conn.execute(repeats(entity, part.relation)).fetchone()
            repeated = bool(counted and counted[0])
        if not repeated:
            continue
        repeated_keys.add(name)
        if entity.partition is None:
            continue
        values = [c for c in entity.column_names if c not in entity.primary_key]
        conflict = " or ".join(f"count(distinct {c}) over w > 1" for c in values) or "false"
        # an exact repeat adds nothing: it is a duplicate, not a complement
        identical = f"count(distinct hash({', '.join(values)})) over w = 1" if values else "true"
        same_key = " and ".join(f"r.{k} is not distinct from d.{k}" for k in entity.primary_key)
        found = conn.execute(
            f"select {RECORD_COLUMN}, {LINE_COLUMN}, first_line from ("
            f" select {RECORD_COLUMN}, {LINE_COLUMN}, ({conflict} or {identical}) as repeated,"
            f" first_value({LINE_COLUMN}) over (w order by {RECORD_COLUMN}) as first_line,"
            f" row_number() over (w order by {RECORD_COLUMN}) as seen"
            f" from {part.relation} r semi join (select {keys} from {part.relation}"
            f" group by {keys} having count(*) > 1) d on {same_key}"
            f" window w as (partition by {keys})"
            ") where seen > 1 and repeated"
        ).fetchall()
        for number, line, first in found:
            duplicates.setdefault(number, (line, name, first))
    if duplicates:
        # one list parameter: executemany costs about a millisecond a row
        conn.execute(
            "create or replace temp table dup_records as"
            " select unnest(cast($records as bigint[])) as record",
            {"records": list(duplicates)},
        )
    keep = f"{RECORD_COLUMN} not in (select record from dup_records)" if duplicates else "true"
    entities: dict[str, StagedEntity] = {}
    try:
        for name, part in parts.items():
            entity = part.entity
            keys = ", ".join(entity.primary_key)
            values = [c for c in entity.column_names if c not in entity.primary_key]
            if name not in repeated_keys:
                columns = ", ".join(settled_columns(entity))
                query = f"select {columns} from {part.relation} where {keep}"
            elif entity.partition is None:
                query = (
                    f"select * from {part.relation} where {keep}"
                    f" qualify row_number() over (partition by {keys}"
                    f" order by {RECORD_COLUMN} desc) = 1"
                )
            else:
                # what is left per key has at most one value per column: max() is that value
                combined = ", ".join(f"max({c}) as {c}" for c in values)
                query = (
                    f"select {keys}, {combined}, min({LINE_COLUMN}) as {LINE_COLUMN},"
                    f" min({RECORD_COLUMN}) as {RECORD_COLUMN}"
                    f" from {part.relation} where {keep} group by {keys}"
                    f" order by min({RECORD_COLUMN})"
                )
            final = folder / f"{name}.parquet"
            written = conn.execute(
                f"copy ({query}) to {sql_text(str(final))} (format parquet)"
            ).fetchone()
            entities[name] = StagedEntity(
                entity=name,
                path=str(final),
                columns=[c for c in entity.column_names if c in part.columns],
                rows=int(written[0]) if written else 0,
            )
    finally:
        if duplicates:
            conn.execute("drop table if exists dup_records")
    rejects = [
        {
            "line": line,
            "field": None,
            "reason": f"duplicate {entity} key: the same key was first seen at line {first}",
            "raw": None,
        }
        for _, (line, entity, first) in sorted(duplicates.items())
    ]
    return entities, rejects


def _append_rejects(path: Path, extra: list[dict[str, Any]]) -> None:
    if not path.exists():
        write_quarantine(extra, path)
        return
    previous = path.with_suffix(".first.parquet")
    path.rename(previous)
    table = pa.concat_tables(
        [pq.read_table(previous), pa.Table.from_pylist(extra, schema=QUARANTINE_SCHEMA)]
    )
    pq.write_table(table, path)
    previous.unlink()


def write_quarantine(rows: list[dict[str, Any]], path: Path) -> None:
    """Write quarantine rows as ``path``; none, no file (see ``quarantine_path``)."""
    if rows:
        path.parent.mkdir(exist_ok=True)  # a pass's batch has no folder until it needs one
        pq.write_table(pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA), path)


def quarantine_path(folder: Path, rows_quarantined: int) -> str:
    """A batch's ``quarantine_path``: its folder's quarantine file, or empty when it has none."""
    return str(folder / QUARANTINE_FILE) if rows_quarantined else ""


def sql_text(value: str) -> str:
    """A SQL string literal, for file paths in table functions that take no parameters."""
    return "'" + value.replace("'", "''") + "'"


_LOCAL = threading.local()
# every live scratch connection, with the process that opened it, so that a stop can
# interrupt the DuckDB work running on other threads
_OPEN_SCRATCH: dict[int, tuple[int, duckdb.DuckDBPyConnection]] = {}
_OPEN_SCRATCH_LOCK = threading.Lock()
_SCRATCH_KEYS = itertools.count()


def interrupt_scratch() -> None:
    """Interrupt the DuckDB work on every thread's scratch connection (safe from any thread).

    The interrupted work raises ``duckdb.InterruptException`` in its own thread: a stop calls
    this so that staging threads end in moments instead of parsing on to the end.
    """
    with _OPEN_SCRATCH_LOCK:
        for pid, conn in _OPEN_SCRATCH.values():
            if pid == os.getpid():
                conn.interrupt()


class _Registration:
    """Kept in a thread's locals only: when the thread ends, it takes its connection off."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.key = next(_SCRATCH_KEYS)
        with _OPEN_SCRATCH_LOCK:
            _OPEN_SCRATCH[self.key] = (os.getpid(), conn)

    def __del__(self) -> None:
        with _OPEN_SCRATCH_LOCK:
            _OPEN_SCRATCH.pop(self.key, None)


@contextmanager
def scratch() -> Iterator[duckdb.DuckDBPyConnection]:
    """This thread's in-memory DuckDB connection for staging work, reused file after file.

    Opening a connection costs tens of milliseconds, a lot for a small API page. Temp tables
    and views made inside the outermost ``with`` are dropped when it ends; a connection
    inherited through ``fork`` is never used.
    """
    conn: duckdb.DuckDBPyConnection | None = getattr(_LOCAL, "conn", None)
    if conn is None or getattr(_LOCAL, "pid", None) != os.getpid():
        conn = in_memory()
        _LOCAL.conn, _LOCAL.pid, _LOCAL.depth = conn, os.getpid(), 0
        _LOCAL.registration = _Registration(conn)
    _LOCAL.depth += 1
    try:
        yield conn
    finally:
        _LOCAL.depth -= 1
        if _LOCAL.depth == 0:
            _clear(conn)


def _clear(conn: duckdb.DuckDBPyConnection) -> None:
    try:
        # one listing and one batch of drops: per statement costs count for small API pages
        found = conn.execute(
            "select 'view', view_name from duckdb_views() where temporary and not internal"
            " union all"
            " select 'table', table_name from duckdb_tables() where temporary and not internal"
        ).fetchall()
        drops = [
            f"drop {kind} if exists temp.main.{quote_identifier(name)}"
            for kind, name in sorted(found, key=lambda found: found[0] != "view")
        ]
        if drops:
            conn.execute("; ".join(drops))
    except duckdb.Error:
        # a connection that cannot even drop its temp tables is not reused
        _LOCAL.conn = _LOCAL.registration = None
        conn.close()
