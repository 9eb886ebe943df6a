"""The load path: land, parse and stage each file; then audit, publish and rebuild marts."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from ingest.config import Settings
from ingest.errors import IngestError, ParseError
from ingest.http import redact
from ingest.landing import LandedFile, land_file
from ingest.model import PLATFORMS
from ingest.parsing import ParseContext
from ingest.platforms import registry
from ingest.publish import MergeCounts, publish
from ingest.staging import StagedBatch, stage
from ingest.transforms import publish_bi, rebuild_marts
from ingest.validation import (
    AuditReport,
    audit_batches,
    audit_marts,
    gate_batches,
    pending_marts,
    store_results,
)
from ingest.warehouse import writer

log = logging.getLogger(__name__)


@dataclass
class LoadResult:
    """What happened to one input file; the ``--json`` output of ``ingest load``."""

    source: str
    platform: str | None
    format: str | None
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    load_id: str | None
    status: str
    message: str | None = None
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def new_load_id(sha256: str) -> str:
    """Sortable by time, unique per attempt, tied to the content it loads."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{stamp}-{sha256[:10]}-{secrets.token_hex(3)}"


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given, and the files inside given folders (sorted, hidden ones skipped)."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(p.startswith(".") for p in child.parts):
                    yield child
        else:
            yield path


def stage_file(
    path: Path,
    settings: Settings,
    *,
    platform: str | None = None,
    account: str | None = None,
    day: date | None = None,
    source: str | None = None,
) -> StagedBatch:
    """Detect, land and parse one file into a staged batch. Never opens the warehouse.

    Raises:
        ParseError: the file cannot be used; nothing is staged.
    """
    shown = redact(source or str(path))
    if not path.is_file():
        raise ParseError(shown, "no such file")
    fmt = registry((platform,) if platform else PLATFORMS).detect(path, shown, platform)
    if fmt.needs_account and not account:
        raise ParseError(
            shown, f"{fmt.platform} {fmt.name} files do not name their account: pass --account"
        )
    landed = land_file(
        path,
        settings.landing,
        platform=fmt.platform,
        day=day or datetime.now(UTC).date(),
        account=account,
        format=fmt.name,
    )
    return stage_landed(landed, settings, source=shown, account=account)


def stage_landed(
    landed: LandedFile,
    settings: Settings,
    *,
    source: str | None = None,
    account: str | None = None,
) -> StagedBatch:
    """Parse a file already in the landing zone (a fresh one, or a replay of day D).

    The format and account come from its manifest unless given; the snapshot day is the
    landing day, and the observation time is when the bytes were first received.
    """
    shown = source or landed.source_name
    if landed.format:
        fmt = registry((landed.platform,)).get(landed.platform, landed.format, shown)
    else:
        fmt = registry((landed.platform,)).detect(landed.path, shown, landed.platform)
    ctx = ParseContext(
        source=shown,
        platform=fmt.platform,
        account=account or landed.account,
        observed_at=landed.fetched_at,
        day=landed.day,
    )
    load_id = new_load_id(landed.sha256)
    try:
        return stage(
            landed.path,
            fmt,
            ctx,
            staging_root=settings.staging,
            load_id=load_id,
            source_sha256=landed.sha256,
        )
    except BaseException:
        StagedBatch.discard_folder(settings.staging / load_id)
        raise


def publish_audited(
    conn: duckdb.DuckDBPyConnection,
    batches: list[StagedBatch],
    audits: list[AuditReport],
    settings: Settings,
) -> list[LoadResult]:
    """Gate and publish audited batches on an open writer, one transaction each.

    A batch failing a critical expectation is recorded as ``failed`` and not published. Safe to
    repeat after a crash: a batch whose load is already recorded as finished is reported and
    discarded, never merged or quarantined twice. Marts are left to the caller.
    """
    results: list[LoadResult] = []
    fresh = []
    for batch, audit in zip(batches, audits, strict=True):
        earlier = finished_load(conn, batch)
        if earlier is not None:
            log.info("load %s was finished by an earlier try", batch.load_id)
            results.append(earlier)
            batch.discard()
        else:
            fresh.append((batch, audit))
    if fresh:
        gate_batches(conn, [b for b, _ in fresh], [a for _, a in fresh], settings)
    for batch, audit in fresh:
        if not audit.passed:
            results.append(load_result(batch, "failed", MergeCounts(), audit.message()))
        else:
            counts = publish(conn, batch)
            store_results(conn, audit)
            results.append(load_result(batch, "published", counts))
        batch.discard()
    return results


def finished_load(conn: duckdb.DuckDBPyConnection, batch: StagedBatch) -> LoadResult | None:
    """The recorded outcome of a batch's load, if an earlier try already finished it."""
    row = conn.execute(
        "select status, message, rows_inserted, rows_updated, rows_unchanged from meta.loads"
        " where load_id = $load_id and status in ('published', 'failed')",
        {"load_id": batch.load_id},
    ).fetchone()
    if row is None:
        return None
    counts = MergeCounts(row[2] or 0, row[3] or 0, row[4] or 0)
    return load_result(batch, str(row[0]), counts, row[1])


def publish_batches(batches: list[StagedBatch], settings: Settings) -> list[LoadResult]:
    """Audit, then publish staged batches (one transaction each), rebuild marts and the BI copy.

    Marts failing a critical expectation keep the BI copy at its last good state.
    """
    if not batches:
        return []
    # gx runs once for all batches, before the writer lock is taken; only the volume check
    # (per delivery) needs the warehouse
    audits = audit_batches(batches, settings)
    with writer(settings) as conn:
        results = publish_audited(conn, batches, audits, settings)
        pending = pending_marts(conn)
        rebuild_marts(conn)
        if audit_marts(conn, pending, settings).passed:
            publish_bi(conn, settings)
    return results


def load_files(
    paths: Iterable[Path],
    settings: Settings,
    *,
    platform: str | None = None,
    account: str | None = None,
    day: date | None = None,
) -> list[LoadResult]:
    """``ingest load``: every file is one load, published whole or not at all.

    A file that cannot be parsed is reported and skipped; the others still load.
    """
    results: list[LoadResult] = []
    staged: list[StagedBatch] = []
    for path in expand_paths(paths):
        try:
            staged.append(stage_file(path, settings, platform=platform, account=account, day=day))
        except IngestError as exc:
            log.error("%s", exc)
            shown = redact(str(path))
            results.append(LoadResult(shown, platform, None, 0, 0, 0, None, "failed", str(exc)))
    results.extend(publish_batches(staged, settings))
    return results


def load_result(
    batch: StagedBatch, status: str, counts: MergeCounts | None = None, message: str | None = None
) -> LoadResult:
    """What happened to a staged batch, as ``ingest load --json`` reports it."""
    counts = counts or MergeCounts()
    return LoadResult(
        source=batch.source_file,
        platform=batch.platform,
        format=batch.format,
        rows_read=batch.rows_read,
        rows_loaded=batch.rows_loaded,
        rows_quarantined=batch.rows_quarantined,
        load_id=batch.load_id,
        status=status,
        message=message,
        rows_inserted=counts.inserted,
        rows_updated=counts.updated,
        rows_unchanged=counts.unchanged,
    )
