"""The creators mapping: a CSV the user maintains that ties one person's accounts together.

Columns: ``creator_id``, ``platform`` and ``account_id`` or ``handle`` (either or both; an id
wins). The file is the whole mapping: loading it replaces the mapping before it, and the
creator rollups of every creator that gained or lost an account are rebuilt.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.backends import claim, retry_on_conflict, transaction
from ingest.config import Settings
from ingest.errors import IngestError, ParseError
from ingest.intake import expand_paths
from ingest.parsing import SNIFF_BYTES, Reject
from ingest.pipeline import LoadResult, new_load_id
from ingest.platforms import names as platform_names
from ingest.publish import record_quarantine
from ingest.redaction import redact
from ingest.refresh import refresh_marts
from ingest.sqlfiles import create_temp_table, drop_temp_tables, run_sql
from ingest.staging import QUARANTINE_SCHEMA
from ingest.warehouse import writer

FORMAT = "creators_mapping"
REQUIRED_COLUMNS = ("creator_id", "platform")
ACCOUNT_COLUMNS = ("account_id", "handle")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MappingRow:
    """One usable line of the mapping."""

    creator_id: str
    platform: str
    account_id: str | None
    handle: str | None
    line: int


@dataclass
class Mapping:
    """A parsed mapping file: usable rows and the lines that go to quarantine."""

    rows: list[MappingRow] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return len(self.rows) + len(self.rejects)


def _header(text: str) -> list[str]:
    first = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    return [name.strip().lower() for name in next(csv.reader([first]), [])]


def is_mapping(path: Path) -> bool:
    """True when the file's header names a creators mapping (read from its first bytes)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError:
        return False
    columns = _header(head.decode("utf-8", errors="replace"))
    return all(c in columns for c in REQUIRED_COLUMNS) and any(
        c in columns for c in ACCOUNT_COLUMNS
    )


def _clean(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def parse_mapping(path: Path, source: str | None = None) -> Mapping:
    """Read a mapping file; lines that cannot be used become rejects with a reason.

    Raises:
        ParseError: the file is empty, not UTF-8, or lacks the mapping's columns.
    """
    # a folder can be named after a query (`export?access_token=…`): shown masked, like any path
    shown = source or redact(str(path))
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(shown, f"not valid UTF-8 at byte {exc.start}") from exc
    if not text.strip():
        raise ParseError(shown, "the file is empty")
    reader = csv.DictReader(io.StringIO(text))
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in reader.fieldnames]
    if missing or not any(c in reader.fieldnames for c in ACCOUNT_COLUMNS):
        needed = ", ".join(missing) or "account_id or handle"
        raise ParseError(shown, f"not a creators mapping: missing column(s) {needed}", line=1)
    mapping = Mapping()
    claimed: dict[tuple[str, str, str], int] = {}
    for record in reader:
        line = reader.line_num
        raw = ",".join(v for v in record.values() if isinstance(v, str))
        if not any(_clean(v) for v in record.values() if isinstance(v, str)):
            continue  # blank lines in a hand-kept file are not errors
        creator_id = _clean(record.get("creator_id"))
        platform = (_clean(record.get("platform")) or "").lower()
        account_id = _clean(record.get("account_id"))
        handle = _clean(record.get("handle"))
        handle = handle.lstrip("@") or None if handle else None
        problem: tuple[str, str] | None = None
        if creator_id is None:
            problem = ("creator_id", "required value is missing")
        elif platform not in platform_names():
            known = ", ".join(platform_names())
            problem = ("platform", f"unknown platform {platform!r} (one of {known})")
        elif account_id is None and handle is None:
            problem = ("account_id", "give the account's id or its handle")
        else:
            key = (platform, "account_id", account_id or "")
            if account_id is None and handle is not None:
                key = (platform, "handle", handle.lower())
            if key in claimed:
                problem = (key[1], f"this account is already mapped on line {claimed[key]}")
            else:
                claimed[key] = line
        if problem:
            mapping.rejects.append(Reject(line=line, reason=problem[1], raw=raw, field=problem[0]))
            continue
        assert creator_id is not None
        mapping.rows.append(MappingRow(creator_id, platform, account_id, handle, line))
    return mapping


def apply_mapping(
    conn: duckdb.DuckDBPyConnection,
    rows: Iterable[MappingRow],
    *,
    load_id: str,
    observed_at: datetime,
) -> int:
    """Replace the stored mapping and queue the rollups it changes; return accounts changed.

    Runs inside the caller's transaction. Account marts do not depend on the mapping, so only
    the creators that gained or lost an account are queued (``meta.pending_creator_days``).
    """
    create_temp_table(conn, "mapping_before", "creators/mapping_before")
    run_sql(conn, "creators/clear_mapping")
    for row in rows:
        run_sql(
            conn,
            "creators/insert_creator",
            {
                "creator_id": row.creator_id,
                "platform": row.platform,
                "account_id": row.account_id,
                "handle": row.handle,
                "line": row.line,
                "load_id": load_id,
                "observed_at": observed_at,
            },
        )
    create_temp_table(conn, "changed_accounts", "creators/changed_accounts")
    run_sql(conn, "creators/queue_changed_creators", {"load_id": load_id})
    count = run_sql(conn, "creators/count_changed_accounts").fetchone()
    drop_temp_tables(conn, "changed_accounts", "mapping_before")
    return int(count[0]) if count else 0


def load_mapping(path: Path, settings: Settings, *, source: str | None = None) -> LoadResult:
    """``ingest load creators.csv``: replace the mapping, rebuild rollups, refresh the BI copy.

    Unusable lines go to quarantine; the other lines are loaded. A file that is not a mapping
    at all raises ParseError and leaves the warehouse untouched.
    """
    shown = redact(source or str(path))
    mapping = parse_mapping(path, shown)
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    load_id = new_load_id(sha256)
    started = datetime.now(UTC)

    def replace_mapping(conn: duckdb.DuckDBPyConnection, rejects: Path) -> int:
        with transaction(conn):
            claim(conn, "creators")
            run_sql(
                conn, "publish/record_load", _load_row(load_id, shown, sha256, mapping, started)
            )
            record_quarantine(conn, load_id=load_id, platform=None, source_file=shown, path=rejects)
            changed = apply_mapping(conn, mapping.rows, load_id=load_id, observed_at=started)
            run_sql(
                conn,
                "creators/record_changed_accounts",
                {"changed": changed, "load_id": load_id},
            )
        return changed

    with tempfile.TemporaryDirectory(prefix="creators-") as scratch, writer(settings) as conn:
        rejects = _write_rejects(Path(scratch) / "quarantine.parquet", mapping.rejects)
        # why: on DuckLake another writer may commit first; the mapping is then applied again
        changed = retry_on_conflict(
            conn, lambda: replace_mapping(conn, rejects), what=f"creators mapping {load_id}"
        )
        refresh_marts(conn, settings)
    return LoadResult(
        source=shown,
        platform=None,
        format=FORMAT,
        rows_read=mapping.rows_read,
        rows_loaded=len(mapping.rows),
        rows_quarantined=len(mapping.rejects),
        load_id=load_id,
        status="published",
        rows_updated=changed,
    )


def _load_row(
    load_id: str, source: str, sha256: str, mapping: Mapping, started: datetime
) -> dict[str, object]:
    return {
        "load_id": load_id,
        "platform": None,
        "format": FORMAT,
        "source_file": source,
        "source_sha256": sha256,
        "account_id": None,
        "status": "published",
        "rows_read": mapping.rows_read,
        "rows_loaded": len(mapping.rows),
        "rows_quarantined": len(mapping.rejects),
        "message": None,
        "notes": None,
        "started_at": started,
    }


def _write_rejects(path: Path, rejects: list[Reject]) -> Path:
    """The mapping's rejected lines as a quarantine Parquet file, as staging writes one."""
    rows = [{"line": r.line, "field": r.field, "reason": r.reason, "raw": r.raw} for r in rejects]
    pq.write_table(pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA), path)
    return path


def split_mappings(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """The mapping files among ``paths`` (folders expanded) and all the other files."""
    mappings: list[Path] = []
    others: list[Path] = []
    for path in expand_paths(paths):
        (mappings if is_mapping(path) else others).append(path)
    return mappings, others


def load_mappings(paths: Iterable[Path], settings: Settings) -> list[LoadResult]:
    """Load each mapping file; one that cannot be used is reported as failed, not raised."""
    results = []
    for path in paths:
        try:
            results.append(load_mapping(path, settings))
        except IngestError as exc:
            log.error("%s", exc)
            results.append(LoadResult(str(path), None, FORMAT, 0, 0, 0, None, "failed", str(exc)))
    return results
