"""The load path: land, parse and stage each file; then audit, publish and rebuild marts."""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol, TypeVar

import duckdb

from ingest.config import Settings
from ingest.errors import IngestError, ParseError, WarehouseBusyError
from ingest.intake import land_inputs
from ingest.landing import (
    LandedFile,
    read_landed,
)
from ingest.parsing import Format, ParseContext, parser_version
from ingest.platforms import registry
from ingest.progress import emit
from ingest.publish import MergeCounts, group_bounds, groupable, publish, publish_group
from ingest.refresh import MartsRefresh, refresh_marts
from ingest.rejections import (
    FileRejected,
    Rejection,
    earlier_rejection,
    forget_rejection,
    landed_format,
    record_rejections,
    reject,
)
from ingest.replays import note_published, published_load
from ingest.snapshots import SNAPSHOT, grace_from_env, snapshot_fits, why_not
from ingest.sqlfiles import run_sql
from ingest.staging import (
    BatchName,
    BatchOwner,
    StagedBatch,
    StageRequest,
    discard_all,
    interrupt_scratch,
    stage,
    stage_group,
)
from ingest.stops import stopped_by
from ingest.validation import (
    AuditReport,
    audit_batches,
    gate_batches,
    store_reports,
    store_results,
)
from ingest.warehouse import publishing_memory, writer

log = logging.getLogger(__name__)

# DuckDB parses and writes Parquet without holding the GIL: files stage side by side
STAGE_THREADS = max(1, min(4, os.cpu_count() or 1))
ABANDON_POLL_SECONDS = 0.2
# pages of one format staged in one pass at most: bounds the pass's memory (a page of 100
# videos is about 30 KB of JSON)
GROUP_FILES = 500
Item = TypeVar("Item")


class _Discardable(Protocol):
    def discard(self) -> None: ...


# what staging one item gives: a batch, or several (a chunk of files staged together)
Staged = TypeVar("Staged", bound=_Discardable)
# audit results stored by one insert when a group of loads is published together
RESULTS_PER_GROUP_STATEMENT = 5000
# outcomes of a file that leave nothing to do: published now, published before with the same
# bytes and parser (a replay), or rejected before by the same parser (skipped)
OK_STATUSES = ("published", "unchanged", "skipped")


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


def new_run_id() -> str:
    """An id for one run outside Airflow (an ``ingest`` command); a DAG run uses its own id."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"cli-{stamp}-{secrets.token_hex(4)}"


def stage_landed(
    landed: LandedFile,
    settings: Settings,
    *,
    source: str | None = None,
    account: str | None = None,
    run_id: str | None = None,
    save: bool = True,
) -> StagedBatch:
    """Parse a file already in the landing zone (a fresh one, or a replay of day D).

    The format and account come from its manifest unless given; the snapshot day is the
    landing day, and the observation time is when the bytes were first received. A snapshot
    the pipeline pulled itself is refused when its observation does not belong to the landing
    day (``ingest.snapshots``). Days come from the manifest and the file's own content only,
    never from the clock of the run, so every replay gives the days the first load gave. The
    batch belongs to ``run_id`` (a run of its own when not given) and to the landing day.
    Without ``save``, writing its ``batch.json`` is left to the caller (``staging.stage``).
    """
    fmt, ctx = _read_as(landed, source or landed.source_name, account)
    load_id = new_load_id(landed.sha256)
    owner = BatchOwner(run_id or new_run_id(), landed.platform, landed.day)
    try:
        return stage(
            landed.path,
            fmt,
            ctx,
            staging_root=settings.staging,
            load_id=load_id,
            source_sha256=landed.sha256,
            owner=owner,
            save=save,
        )
    except BaseException:
        StagedBatch.discard_folder(owner.folder(settings.staging, load_id))
        raise


def _read_as(landed: LandedFile, shown: str, account: str | None) -> tuple[Format, ParseContext]:
    """The format a landed file is read with and what its parser knows besides the bytes.

    Raises:
        ParseError: not a known format, or a pulled snapshot outside its landing day.
    """
    if landed.format:
        fmt = registry((landed.platform,)).get(landed.platform, landed.format, shown)
    else:
        fmt = registry((landed.platform,)).detect(landed.path, shown, landed.platform)
    check_snapshot_day(landed, fmt, shown)
    ctx = ParseContext(
        source=shown,
        platform=fmt.platform,
        account=account or landed.account,
        observed_at=landed.fetched_at,
        day=landed.day,
    )
    return fmt, ctx


def check_snapshot_day(landed: LandedFile, fmt: Format, shown: str) -> None:
    """Refuse a pulled snapshot whose observation does not belong to its landing day.

    Raises:
        ParseError: the file holds the state at a moment outside its day and the grace after it.
    """
    if fmt.dating != SNAPSHOT or landed.observed_at is None:
        return
    grace = landed.snapshot_grace if landed.snapshot_grace is not None else grace_from_env()
    if not snapshot_fits(landed.day, landed.observed_at, grace):
        raise ParseError(
            shown,
            f"{fmt.platform} {fmt.name} is not recorded for {landed.day}: "
            + why_not(landed.day, landed.observed_at, grace),
        )


def stage_or_reject(
    landed: LandedFile,
    settings: Settings,
    *,
    source: str,
    account: str | None = None,
    run_id: str | None = None,
    retry_rejected: bool = False,
    reprocess: bool = False,
) -> StagedBatch:
    """``stage_landed``, where any failure to read the file is this file's rejection.

    A file an earlier run rejected with the same parser version is not read again unless
    ``retry_rejected``. Bytes the same parser version already published are not read again
    either, unless ``reprocess``: their batch is empty and names the load that published them
    (``ingest.replays``). Interrupts (KeyboardInterrupt, SystemExit) are never caught.

    Raises:
        FileRejected: the file cannot be used (now or, unless retried, by an earlier run).
    """
    skipped = _not_read(
        landed,
        settings,
        source=source,
        account=account,
        run_id=run_id,
        retry_rejected=retry_rejected,
        reprocess=reprocess,
    )
    if skipped is not None:
        return skipped
    return _read_or_reject(
        landed,
        settings,
        source=source,
        account=account,
        run_id=run_id,
        retry_rejected=retry_rejected,
        reprocess=reprocess,
    )


def _read_or_reject(
    landed: LandedFile,
    settings: Settings,
    *,
    source: str,
    account: str | None,
    run_id: str | None,
    retry_rejected: bool,
    reprocess: bool,
) -> StagedBatch:
    """Parse a landed file the per-file way; any failure to read it is its rejection."""
    try:
        batch = stage_landed(
            landed, settings, source=source, account=account, run_id=run_id, save=False
        )
    except Exception as exc:
        if stopped_by(exc):
            raise
        raise reject(landed, source, exc, account=account, retried=retry_rejected) from exc
    return _staged(batch, landed, settings, reprocess=reprocess)


def _not_read(
    landed: LandedFile,
    settings: Settings,
    *,
    source: str,
    account: str | None,
    run_id: str | None,
    retry_rejected: bool,
    reprocess: bool,
) -> StagedBatch | None:
    """The batch of bytes that need not be read again (a replay), else None.

    Raises:
        FileRejected: an earlier run rejected these bytes with this parser (unless retried).
    """
    if not retry_rejected:
        earlier = earlier_rejection(landed, settings, source, account)
        if earlier is not None:
            raise FileRejected(earlier)
    if reprocess:
        return None
    return _replayed(landed, settings, source=source, account=account, run_id=run_id)


def _staged(
    batch: StagedBatch, landed: LandedFile, settings: Settings, *, reprocess: bool
) -> StagedBatch:
    """A parsed batch completed with what replays compare it by.

    It is not saved: a load in one process keeps its batches in memory, and a ``batch.json``
    per API page costs a file to write and remove; a step handing batches on by folder
    saves them (``runs.stage_platform_day``).
    """
    fmt = registry((batch.platform,)).get(batch.platform, batch.format, batch.source_file)
    batch.parser_version = parser_version(fmt)
    batch.landing_day = landed.day.isoformat()
    batch.reprocess = reprocess
    batch.landed_path = str(landed.path)
    forget_rejection(landed, settings)
    return batch


def _replayed(
    landed: LandedFile,
    settings: Settings,
    *,
    source: str,
    account: str | None,
    run_id: str | None,
) -> StagedBatch | None:
    """An empty batch for bytes the index says were published read the same way, else None.

    It stays in memory (a replay of thousands of pages would otherwise cost a folder and a
    file each, more than the rest of the replay); a caller handing batches on by folder saves
    it.
    """
    fmt = landed_format(landed)
    if fmt is None:
        return None
    version = parser_version(fmt)
    account = account or landed.account
    earlier = published_load(
        settings,
        platform=landed.platform,
        day=landed.day.isoformat(),
        sha256=landed.sha256,
        format=fmt.name,
        account=account,
        parser_version=version,
    )
    if earlier is None:
        return None
    load_id = new_load_id(landed.sha256)
    owner = BatchOwner(run_id or new_run_id(), landed.platform, landed.day)
    return StagedBatch(
        load_id=load_id,
        platform=landed.platform,
        format=fmt.name,
        source_file=source,
        source_sha256=landed.sha256,
        account=account,
        observed_at=landed.fetched_at.isoformat(),
        folder=str(owner.folder(settings.staging, load_id)),
        started_at=datetime.now(UTC).isoformat(),
        rows_read=earlier.rows_read,
        rows_quarantined=earlier.rows_quarantined,
        run_id=owner.run_id,
        day=landed.day.isoformat(),
        parser_version=version,
        landing_day=landed.day.isoformat(),
        replay_of=earlier.load_id,
        landed_path=str(landed.path),
    )


def audit_staged(batches: list[StagedBatch], settings: Settings) -> list[AuditReport]:
    """``audit_batches`` of the batches that were parsed; a replay (nothing parsed) passes."""
    parsed = [b for b in batches if b.replay_of is None]
    audits = iter(audit_batches(parsed, settings) if parsed else [])
    now = datetime.now(UTC)
    reports = [
        next(audits) if b.replay_of is None else AuditReport(load_id=b.load_id, checked_at=now)
        for b in batches
    ]
    emit("audit", done=len(parsed), total=len(parsed))
    return reports


def publish_audited(
    conn: duckdb.DuckDBPyConnection,
    batches: list[StagedBatch],
    audits: list[AuditReport],
    settings: Settings,
) -> list[LoadResult]:
    """Gate and publish audited batches on an open writer, many to a transaction.

    A batch failing a critical expectation is recorded as ``failed`` and not published. The
    others are published in groups, one transaction each (``publish.publish_group``); a group
    that cannot be published whole is published again one batch to a transaction, so a bad
    file fails alone. Safe to repeat after a crash: a batch whose load is already recorded as
    finished is reported and discarded, never merged or quarantined twice. A batch of bytes
    already published by the same parser version is reported as ``unchanged`` unless it was
    staged to be reprocessed. Marts are left to the caller. DuckDB is held to the publish's
    memory limit meanwhile (``warehouse.publishing_memory``).
    """
    with publishing_memory(conn, settings):
        return _publish_audited(conn, batches, audits, settings)


def _publish_audited(
    conn: duckdb.DuckDBPyConnection,
    batches: list[StagedBatch],
    audits: list[AuditReport],
    settings: Settings,
) -> list[LoadResult]:
    before = published_before_all(conn, batches)
    finished = finished_loads(conn, [b.load_id for b in batches])
    # each input batch's place in the results: its own outcome, or that of what replaced it
    places: list[StagedBatch | LoadResult] = []
    outcome: dict[str, LoadResult] = {}
    fresh: list[tuple[StagedBatch, AuditReport]] = []
    stale: list[tuple[int, StagedBatch]] = []
    for batch, audit in zip(batches, audits, strict=True):
        same = before.get(batch.load_id)
        if same is not None:
            log.info(
                "%s: the same bytes were published by load %s", batch.source_file, same.load_id
            )
            outcome[batch.load_id] = same
            batch.discard()
        elif batch.load_id in finished:
            log.info("load %s was finished by an earlier try", batch.load_id)
            outcome[batch.load_id] = finished[batch.load_id]
            batch.discard()
        elif batch.replay_of is not None:
            # the note said these bytes were published, the warehouse does not: read them
            stale.append((len(places), batch))
        else:
            fresh.append((batch, audit))
        places.append(batch)
    for place, read in zip(
        [p for p, _ in stale], _read_replays(conn, [b for _, b in stale], settings), strict=True
    ):
        places[place] = read if isinstance(read, LoadResult) else read[0]
        if not isinstance(read, LoadResult):
            fresh.append(read)
    if fresh:
        gate_batches(conn, [b for b, _ in fresh], [a for _, a in fresh], settings)
    passed = [(b, a) for b, a in fresh if a.passed]
    for batch, audit in fresh:
        if not audit.passed:
            outcome[batch.load_id] = load_result(batch, "failed", MergeCounts(), audit.message())
    for start, end in group_bounds([b.rows_loaded for b, _ in passed]):
        group = passed[start:end]
        for (batch, _), counts in zip(group, _publish_some(conn, group), strict=True):
            outcome[batch.load_id] = (
                load_result(batch, "failed", MergeCounts(), counts)
                if isinstance(counts, str)
                else load_result(batch, "published", counts)
            )
        emit("publish", done=end, total=len(passed))
    for batch, _ in fresh:
        batch.discard()
    note_published(
        settings,
        [(p, outcome[p.load_id]) for p in places if isinstance(p, StagedBatch)],
    )
    return [p if isinstance(p, LoadResult) else outcome[p.load_id] for p in places]


def _publish_some(
    conn: duckdb.DuckDBPyConnection, group: list[tuple[StagedBatch, AuditReport]]
) -> Sequence[MergeCounts | str]:
    """Publish a group in one transaction, or one by one when that fails.

    Per batch: its merge counts, or why its own publish failed (then nothing of it stays).
    """
    batches = [b for b, _ in group]
    if groupable(conn, batches):
        try:
            return publish_group(
                conn,
                batches,
                within=lambda: store_reports(
                    conn, [a for _, a in group], per_statement=RESULTS_PER_GROUP_STATEMENT
                ),
            )
        except Exception as exc:
            if stopped_by(exc):
                raise
            log.info(
                "%d loads could not be published together (%s); publishing them one by one",
                len(batches),
                exc,
            )
    counts: list[MergeCounts | str] = []
    for batch, audit in group:
        try:
            counts.append(publish(conn, batch))
        except Exception as exc:
            if stopped_by(exc) or isinstance(exc, WarehouseBusyError):
                raise
            # this file's publish failed and was rolled back: the others still publish
            log.error("%s: publish failed: %s", batch.source_file, exc)
            counts.append(
                f"{batch.source_file}: publish failed, nothing of it was published"
                f" ({type(exc).__name__}: {exc})"
            )
            continue
        store_results(conn, audit)
    return counts


def _read_replays(
    conn: duckdb.DuckDBPyConnection, batches: list[StagedBatch], settings: Settings
) -> list[tuple[StagedBatch, AuditReport] | LoadResult]:
    """Stage and audit files a stale note took for published (their warehouse was rebuilt).

    Per batch: the new batch and its audit, or the result of its rejection.
    """
    read: list[StagedBatch | LoadResult] = []
    for batch in batches:
        batch.discard()
        try:
            staged = stage_or_reject(
                read_landed(Path(batch.landed_path)),
                settings,
                source=batch.source_file,
                account=batch.account,
                run_id=batch.run_id or None,
                retry_rejected=True,
                reprocess=True,
            )
        except FileRejected as exc:
            read.append(record_rejected(conn, [exc.rejection], settings)[0])
            continue
        staged.reprocess = False  # read because the warehouse lacks it
        read.append(staged)
    parsed = [b for b in read if isinstance(b, StagedBatch)]
    audits = iter(audit_staged(parsed, settings) if parsed else [])
    return [b if isinstance(b, LoadResult) else (b, next(audits)) for b in read]


def finished_loads(conn: duckdb.DuckDBPyConnection, load_ids: list[str]) -> dict[str, LoadResult]:
    """The recorded outcome of each load an earlier try already finished, by load id."""
    if not load_ids:
        return {}
    found = run_sql(conn, "publish/finished_loads", {"load_ids": load_ids}).fetchall()
    return {str(row[0]): _recorded(str(row[0]), row[1:]) for row in found}


def _recorded(load_id: str, row: Sequence[object]) -> LoadResult:
    # row: platform, format, source_file, status, rows read/loaded/quarantined, message,
    # rows inserted/updated/unchanged (as publish/finished_loads.sql selects them after the id)
    def count(value: object) -> int:
        return int(value) if isinstance(value, int) else 0

    return LoadResult(
        source=str(row[2]),
        platform=None if row[0] is None else str(row[0]),
        format=None if row[1] is None else str(row[1]),
        rows_read=count(row[4]),
        rows_loaded=count(row[5]),
        rows_quarantined=count(row[6]),
        load_id=load_id,
        status=str(row[3]),
        message=None if row[7] is None else str(row[7]),
        rows_inserted=count(row[8]),
        rows_updated=count(row[9]),
        rows_unchanged=count(row[10]),
    )


def vanished_batch(conn: duckdb.DuckDBPyConnection, folder: Path) -> LoadResult:
    """The outcome of a batch whose folder is gone: what ``meta.loads`` recorded for its load.

    An earlier try that published (or failed) the batch recorded it and then removed the
    folder. A folder gone without such a record was never published: that is a failure, never
    a success to skip, so the day is reported as incomplete rather than silently short.
    """
    name = BatchName.parse(folder)
    load_id = name.load_id if name else folder.name
    recorded = finished_loads(conn, [load_id]).get(load_id)
    if recorded is None:
        return LoadResult(
            source=folder.name,
            platform=name.platform if name else None,
            format=None,
            rows_read=0,
            rows_loaded=0,
            rows_quarantined=0,
            load_id=load_id,
            status="failed",
            message=(
                f"staged batch {load_id} is gone and was never published"
                " (meta.loads has no record of it); run the day again"
            ),
        )
    return recorded


def published_before_all(
    conn: duckdb.DuckDBPyConnection, batches: list[StagedBatch]
) -> dict[str, LoadResult]:
    """``published_before`` of every batch not staged to be reprocessed, in one query."""
    asked = [
        b
        for b in batches
        if not b.reprocess and b.parser_version is not None and b.landing_day is not None
    ]
    if not asked:
        return {}
    found = run_sql(
        conn,
        "publish/published_before_many",
        {
            "platforms": [b.platform for b in asked],
            "formats": [b.format for b in asked],
            "source_sha256s": [b.source_sha256 for b in asked],
            "account_ids": [b.account for b in asked],
            "landing_days": [b.landing_day for b in asked],
            "parser_versions": [b.parser_version for b in asked],
        },
    ).fetchall()
    results = {}
    for position, load_id, *held in found:
        batch = asked[int(position)]
        result = load_result(
            batch,
            "unchanged",
            MergeCounts(unchanged=sum(int(n or 0) for n in held[:3])),
            f"{batch.source_file}: the same bytes were published by load {load_id};"
            " nothing changed",
        )
        result.load_id = str(load_id)
        if batch.replay_of is not None:
            # not parsed this time: the counts are those of the load that published it
            result.rows_read, result.rows_loaded, result.rows_quarantined = (
                int(n or 0) for n in held[3:]
            )
        results[batch.load_id] = result
    return results


def record_rejected(
    conn: duckdb.DuckDBPyConnection, rejections: Sequence[Rejection], settings: Settings
) -> list[LoadResult]:
    """Record rejected files in ``meta.loads``: ``rejected`` when new, else ``skipped``.

    A file rejected again after ``--retry-rejected`` stays ``rejected`` (it still fails),
    without a second record.
    """
    results = []
    for done in record_rejections(conn, list(rejections), settings, new_load_id=new_load_id):
        r = done.rejection
        if done.new or r.retried:
            status, message = "rejected", r.reason
        else:
            status = "skipped"
            message = (
                f"{r.reason} (rejected by load {done.load_id} with parser version"
                f" {r.parser_version}; --retry-rejected reads it again)"
            )
        results.append(
            LoadResult(r.source, r.platform, r.format, 0, 0, 0, done.load_id, status, message)
        )
    return results


def publish_batches(
    batches: list[StagedBatch],
    settings: Settings,
    rejections: Sequence[Rejection] = (),
) -> list[LoadResult]:
    """Audit, then publish staged batches (one transaction each), refresh marts and the BI copy.

    Rejected files are recorded first. Marts failing a critical expectation keep the BI copy
    at its last good state.
    """
    return publish_and_refresh(batches, settings, rejections)[0]


def publish_and_refresh(
    batches: list[StagedBatch], settings: Settings, rejections: Sequence[Rejection] = ()
) -> tuple[list[LoadResult], MartsRefresh | None]:
    """``publish_batches``, also telling what the marts refresh did (None: nothing to publish)."""
    if not batches:
        if not rejections:
            return [], None
        with writer(settings) as conn:
            return record_rejected(conn, rejections, settings), None
    # gx runs once for all batches, before the writer lock is taken; only the volume check
    # (per delivery) needs the warehouse
    audits = audit_staged(batches, settings)
    with writer(settings) as conn:
        results = record_rejected(conn, rejections, settings)
        results += publish_audited(conn, batches, audits, settings)
        marts = refresh_marts(conn, settings)
    return results, marts


def stage_in_parallel(
    stage_one: Callable[[Item], Staged],
    items: Sequence[Item],
    *,
    progress: Callable[[int], None] | None = None,
) -> list[Staged | IngestError]:
    """Stage ``items`` on a few threads; each item's batch, or its error, in input order.

    An exception takes its item's place as an ``IngestError`` (that file is refused, the
    others go on). An interrupt (KeyboardInterrupt, SystemExit) stops the work: items not
    started are cancelled, the DuckDB work of running ones is interrupted, every thread is
    joined, the batches already staged are discarded, and it is raised. ``progress`` hears
    the number of items done so far, from the calling thread.
    """
    if not items:
        return []
    futures: list[Future[Staged]] = []
    with ThreadPoolExecutor(min(STAGE_THREADS, len(items)), thread_name_prefix="stage") as pool:
        try:
            for item in items:
                futures.append(pool.submit(stage_one, item))
            outcomes: list[Staged | IngestError] = []
            for future in futures:
                try:
                    outcomes.append(future.result())
                except Exception as exc:
                    outcomes.append(_as_refusal(exc))
                if progress:
                    progress(len(outcomes))
            return outcomes
        except BaseException:
            _abandon(futures)
            raise


def _as_refusal(error: Exception) -> IngestError:
    if isinstance(error, IngestError):
        return error
    if stopped_by(error):
        raise error
    log.warning("staging failed unexpectedly", exc_info=error)
    return IngestError(f"cannot be read ({type(error).__name__}: {error})")


def _abandon(futures: Sequence[Future[Staged]]) -> None:
    for future in futures:
        future.cancel()
    # running files are interrupted, not parsed to the end: a stop must be quick (a scheduler
    # kills a task that ignores SIGTERM). Interrupting again until all are done catches a
    # thread that was between two queries the first time
    while True:
        interrupt_scratch()
        if not wait(futures, timeout=ABANDON_POLL_SECONDS).not_done:
            break
    for future in futures:
        if not future.cancelled() and future.exception() is None:
            future.result().discard()


@dataclass
class _StagedChunk:
    """The outcomes of one chunk of files staged by one thread, in the chunk's order."""

    outcomes: list[StagedBatch | IngestError]

    def discard(self) -> None:
        discard_all(o for o in self.outcomes if isinstance(o, StagedBatch))


def stage_landed_files(
    landed: Sequence[tuple[str, LandedFile]],
    settings: Settings,
    *,
    account: str | None = None,
    run_id: str | None = None,
    retry_rejected: bool = False,
    reprocess: bool = False,
) -> list[StagedBatch | IngestError]:
    """``stage_or_reject`` of each (shown name, landed file), on a few threads, in input order.

    What needs no reading (a replay, an earlier rejection) is told first, in this thread:
    a few dozen microseconds of Python per file, which threads sharing the interpreter made
    twice as slow. Pages of a format with a group stager are then read up to ``GROUP_FILES``
    at a time in one pass (an API pull is thousands of small pages, and a pass costs about
    what one page costs alone); a page the group leaves alone, or any page when the group
    fails, is staged the per-file way. Whatever the way, each file gets the same batch or the
    same refusal. Progress is told per file (files and rows staged so far).
    """

    lock = threading.Lock()
    told = {"files": 0, "rows": 0}

    def tell(outcomes: Sequence[StagedBatch | IngestError]) -> None:
        with lock:
            for outcome in outcomes:
                told["files"] += 1
                detail = ""
                if isinstance(outcome, StagedBatch):
                    told["rows"] += outcome.rows_read
                    detail = outcome.source_file
                emit(
                    "stage", done=told["files"], total=len(landed), rows=told["rows"], detail=detail
                )

    outcomes: list[StagedBatch | IngestError] = [IngestError("not staged")] * len(landed)
    to_read: list[int] = []
    for index, (shown, file) in enumerate(landed):
        skipped: StagedBatch | IngestError | None
        try:
            skipped = _not_read(
                file,
                settings,
                source=shown,
                account=account,
                run_id=run_id,
                retry_rejected=retry_rejected,
                reprocess=reprocess,
            )
        except Exception as exc:
            skipped = _as_refusal(exc)
        if skipped is None:
            to_read.append(index)
        else:
            outcomes[index] = skipped
            tell([skipped])

    def stage_chunk(chunk: list[int]) -> _StagedChunk:
        # on an interrupt _stage_chunk discards what it staged itself
        staged = _StagedChunk(
            _stage_chunk(
                [landed[i] for i in chunk],
                settings,
                account=account,
                run_id=run_id,
                retry_rejected=retry_rejected,
                reprocess=reprocess,
            )
        )
        tell(staged.outcomes)
        return staged

    chunks = _chunks(landed, to_read)
    for chunk, result in zip(chunks, stage_in_parallel(stage_chunk, chunks), strict=True):
        for position, index in enumerate(chunk):
            outcomes[index] = (
                result if isinstance(result, IngestError) else result.outcomes[position]
            )
    return outcomes


def _chunks(landed: Sequence[tuple[str, LandedFile]], indices: Sequence[int]) -> list[list[int]]:
    """The files at ``indices`` as chunks of one thread's work: pages of one grouped format
    together (a share of them per thread, at most ``GROUP_FILES``), any other file alone."""
    grouped: dict[tuple[str, str], list[int]] = {}
    alone: list[list[int]] = []
    seen: set[Path] = set()
    for index in indices:
        file = landed[index][1]
        fmt = landed_format(file) if file.format else None
        # the same landed bytes given twice are two loads: a pass reads each file once
        if fmt is None or fmt.native_group is None or file.path in seen:
            alone.append([index])
        else:
            grouped.setdefault((fmt.platform, fmt.name), []).append(index)
            seen.add(file.path)
    chunks: list[list[int]] = []
    for group in grouped.values():
        size = max(1, min(GROUP_FILES, -(-len(group) // STAGE_THREADS)))
        chunks += [group[start : start + size] for start in range(0, len(group), size)]
    return sorted(chunks + alone)


def _stage_chunk(
    chunk: list[tuple[str, LandedFile]],
    settings: Settings,
    *,
    account: str | None,
    run_id: str | None,
    retry_rejected: bool,
    reprocess: bool,
) -> list[StagedBatch | IngestError]:
    """Read a chunk's files (none of them a replay): those to be read in one group where the
    format has a group stager, then each file left over the per-file way."""
    outcomes: dict[int, StagedBatch | IngestError] = {}
    try:
        if len(chunk) > 1:
            outcomes.update(
                _stage_together(
                    dict(enumerate(chunk)),
                    settings,
                    account=account,
                    run_id=run_id,
                    reprocess=reprocess,
                )
            )
        for index, (shown, file) in enumerate(chunk):
            if index in outcomes:
                continue
            try:
                outcomes[index] = _read_or_reject(
                    file,
                    settings,
                    source=shown,
                    account=account,
                    run_id=run_id,
                    retry_rejected=retry_rejected,
                    reprocess=reprocess,
                )
            except Exception as exc:
                outcomes[index] = _as_refusal(exc)
    except BaseException:
        _StagedChunk(list(outcomes.values())).discard()
        raise
    return [outcomes[i] for i in range(len(chunk))]


def _stage_together(
    files: dict[int, tuple[str, LandedFile]],
    settings: Settings,
    *,
    account: str | None,
    run_id: str | None,
    reprocess: bool,
) -> dict[int, StagedBatch]:
    """The files one group stager stages at once, by index; the others are left out."""
    requests: dict[int, StageRequest] = {}
    fmt: Format | None = None
    for index, (shown, file) in files.items():
        try:
            fmt, ctx = _read_as(file, shown, account)
        except Exception as exc:
            if stopped_by(exc):
                raise
            continue  # the per-file way rejects it, with its reason
        owner = BatchOwner(run_id or new_run_id(), file.platform, file.day)
        requests[index] = StageRequest(file.path, ctx, new_load_id(file.sha256), file.sha256, owner)
    if fmt is None or len(requests) < 2:
        return {}
    try:
        staged = stage_group(fmt, list(requests.values()), staging_root=settings.staging)
    except Exception as exc:
        if stopped_by(exc):
            raise
        log.warning(
            "staging %d files together failed; staging them one by one", len(requests), exc_info=exc
        )
        return {}
    done: dict[int, StagedBatch] = {}
    for index, batch in zip(requests, staged, strict=True):
        if batch is not None:
            done[index] = _staged(batch, files[index][1], settings, reprocess=reprocess)
    return done


def stage_files(
    paths: Iterable[Path],
    settings: Settings,
    *,
    platform: str | None = None,
    account: str | None = None,
    day: date | None = None,
    rejected: list[Rejection] | None = None,
    reprocess: bool = False,
) -> tuple[list[StagedBatch], list[LoadResult]]:
    """Stage files: the batches, and a failed result for each refused file, in input order.

    Files land in batches (``intake.land_inputs``); of the same bytes given twice the first
    keeps its manifest, as if they had landed one after the other. Parsing then runs side by
    side. A landed file that cannot be read is appended
    to ``rejected`` when given (for the writer to record), else refused like the others.
    Files given by name are always read, even when an earlier run rejected them; bytes
    already published by the same parser version are not, unless ``reprocess``.
    """
    failed: list[LoadResult] = []

    def refuse(shown: str, error: IngestError) -> None:
        log.error("%s", error)
        failed.append(LoadResult(shown, platform, None, 0, 0, 0, None, "failed", str(error)))

    landed = land_inputs(
        paths,
        settings,
        platform=platform,
        account=account,
        day=day,
        refuse=refuse,
        rehash=reprocess,  # asked to read everything again: no stat is taken on trust
    )
    outcomes = stage_landed_files(
        landed,
        settings,
        account=account,
        run_id=new_run_id(),  # one command, one run: its batches share an owner
        retry_rejected=True,
        reprocess=reprocess,
    )
    staged: list[StagedBatch] = []
    for (shown, _), outcome in zip(landed, outcomes, strict=True):
        if isinstance(outcome, StagedBatch):
            staged.append(outcome)
        elif isinstance(outcome, FileRejected) and rejected is not None:
            log.error("%s", outcome)
            rejected.append(outcome.rejection)
        else:
            refuse(shown, outcome)
    return staged, failed


def load_files(
    paths: Iterable[Path],
    settings: Settings,
    *,
    platform: str | None = None,
    account: str | None = None,
    day: date | None = None,
    reprocess: bool = False,
) -> list[LoadResult]:
    """``ingest load``: every file is one load, published whole or not at all.

    A file that cannot be read is reported and skipped; the others still load. One that
    landed is recorded as ``rejected`` in ``meta.loads``. Bytes the same parser version
    already published are reported as ``unchanged`` without being read again, unless
    ``reprocess`` (then they are read, audited and published again as a new load).
    """
    rejected: list[Rejection] = []
    staged, results = stage_files(
        paths,
        settings,
        platform=platform,
        account=account,
        day=day,
        rejected=rejected,
        reprocess=reprocess,
    )
    try:
        results.extend(publish_batches(staged, settings, rejected))
    finally:
        # nothing publishes a load's batches later (a busy warehouse, a failed audit or an
        # interrupt included): the files are landed, and the next load stages them again
        discard_all(staged)
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
