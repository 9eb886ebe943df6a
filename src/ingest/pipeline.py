"""The load path: land, parse and stage each file; then audit, publish and rebuild marts."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

import duckdb

from ingest.config import Settings
from ingest.errors import IngestError, ParseError
from ingest.landing import LandedFile, land_file
from ingest.parsing import Format, ParseContext, parser_version
from ingest.platforms import registry
from ingest.publish import MergeCounts, publish
from ingest.redaction import redact
from ingest.refresh import MartsRefresh, refresh_marts
from ingest.rejections import (
    FileRejected,
    Rejection,
    earlier_rejection,
    forget_rejection,
    record_rejections,
    reject,
)
from ingest.snapshots import SNAPSHOT, grace_from_env, snapshot_fits, why_not
from ingest.sqlfiles import run_sql
from ingest.staging import BatchName, BatchOwner, StagedBatch, interrupt_scratch, stage
from ingest.stops import stopping
from ingest.validation import (
    AuditReport,
    audit_batches,
    gate_batches,
    store_results,
)
from ingest.warehouse import writer

log = logging.getLogger(__name__)

# DuckDB parses and writes Parquet without holding the GIL: files stage side by side
STAGE_THREADS = max(1, min(4, os.cpu_count() or 1))
ABANDON_POLL_SECONDS = 0.2
Item = TypeVar("Item")
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


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given, and the files inside given folders (sorted, hidden ones skipped).

    Only the parts below a given folder decide what is hidden: the folder itself may well be
    ``~/.cache/exports`` or ``../exports``.
    """
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                below = child.relative_to(path).parts
                if child.is_file() and not any(p.startswith(".") for p in below):
                    yield child
        else:
            yield path


def land_input(
    path: Path,
    settings: Settings,
    *,
    platform: str | None,
    account: str | None,
    day: date | None,
    shown: str,
) -> LandedFile:
    """Detect a file's format and keep its bytes in the landing zone (a no-op if already there).

    Raises:
        ParseError: not a file, not a known format, or an account is needed and not given.
    """
    if not path.is_file():
        raise ParseError(shown, "no such file")
    fmt = registry((platform,) if platform else None).detect(path, shown, platform)
    if fmt.needs_account and not account:
        raise ParseError(
            shown, f"{fmt.platform} {fmt.name} files do not name their account: pass --account"
        )
    return land_file(
        path,
        settings.landing,
        platform=fmt.platform,
        day=day or datetime.now(UTC).date(),
        account=account,
        format=fmt.name,
    )


def stage_landed(
    landed: LandedFile,
    settings: Settings,
    *,
    source: str | None = None,
    account: str | None = None,
    run_id: str | None = None,
) -> StagedBatch:
    """Parse a file already in the landing zone (a fresh one, or a replay of day D).

    The format and account come from its manifest unless given; the snapshot day is the
    landing day, and the observation time is when the bytes were first received. A snapshot
    the pipeline pulled itself is refused when its observation does not belong to the landing
    day (``ingest.snapshots``). Days come from the manifest and the file's own content only,
    never from the clock of the run, so every replay gives the days the first load gave. The
    batch belongs to ``run_id`` (a run of its own when not given) and to the landing day.
    """
    shown = source or landed.source_name
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
        )
    except BaseException:
        StagedBatch.discard_folder(owner.folder(settings.staging, load_id))
        raise


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
) -> StagedBatch:
    """``stage_landed``, where any failure to read the file is this file's rejection.

    A file an earlier run rejected with the same parser version is not read again unless
    ``retry_rejected``. Interrupts (KeyboardInterrupt, SystemExit) are never caught.

    Raises:
        FileRejected: the file cannot be used (now or, unless retried, by an earlier run).
    """
    if not retry_rejected:
        earlier = earlier_rejection(landed, settings, source, account)
        if earlier is not None:
            raise FileRejected(earlier)
    try:
        batch = stage_landed(landed, settings, source=source, account=account, run_id=run_id)
    except Exception as exc:
        if _stopping(exc):
            raise
        raise reject(landed, source, exc, account=account, retried=retry_rejected) from exc
    fmt = registry((batch.platform,)).get(batch.platform, batch.format, source)
    batch.parser_version = parser_version(fmt)
    batch.landing_day = landed.day.isoformat()
    batch.save()
    forget_rejection(landed, settings)
    return batch


def _stopping(error: Exception) -> bool:
    # DuckDB reports a query interrupted by SIGTERM as an ordinary error: not the file's fault
    return isinstance(error, duckdb.InterruptException) or stopping()


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
        same = published_before(conn, batch)
        if same is not None:
            log.info(
                "%s: the same bytes were published by load %s", batch.source_file, same.load_id
            )
            results.append(same)
            batch.discard()
            continue
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
    row = run_sql(conn, "publish/finished_load", {"load_id": batch.load_id}).fetchone()
    if row is None:
        return None
    counts = MergeCounts(row[8] or 0, row[9] or 0, row[10] or 0)
    return load_result(batch, str(row[3]), counts, row[7])


def vanished_batch(conn: duckdb.DuckDBPyConnection, folder: Path) -> LoadResult:
    """The outcome of a batch whose folder is gone: what ``meta.loads`` recorded for its load.

    An earlier try that published (or failed) the batch recorded it and then removed the
    folder. A folder gone without such a record was never published: that is a failure, never
    a success to skip, so the day is reported as incomplete rather than silently short.
    """
    name = BatchName.parse(folder)
    load_id = name.load_id if name else folder.name
    row = run_sql(conn, "publish/finished_load", {"load_id": load_id}).fetchone()
    if row is None:
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
    return LoadResult(
        source=str(row[2]),
        platform=row[0],
        format=row[1],
        rows_read=int(row[4]),
        rows_loaded=int(row[5]),
        rows_quarantined=int(row[6]),
        load_id=load_id,
        status=str(row[3]),
        message=row[7],
        rows_inserted=int(row[8] or 0),
        rows_updated=int(row[9] or 0),
        rows_unchanged=int(row[10] or 0),
    )


def published_before(conn: duckdb.DuckDBPyConnection, batch: StagedBatch) -> LoadResult | None:
    """The earlier load that published these bytes read the same way, if any, as ``unchanged``.

    Publishing them again would change no row; recording it would add a load, its quarantine
    and its audit results again. So a replay is reported, not recorded.
    """
    if batch.parser_version is None or batch.landing_day is None:
        return None
    row = run_sql(
        conn,
        "publish/published_before",
        {
            "platform": batch.platform,
            "format": batch.format,
            "source_sha256": batch.source_sha256,
            "account_id": batch.account,
            "landing_day": date.fromisoformat(batch.landing_day),
            "parser_version": batch.parser_version,
        },
    ).fetchone()
    if row is None:
        return None
    held = sum(int(n or 0) for n in row[1:])
    result = load_result(
        batch,
        "unchanged",
        MergeCounts(unchanged=held),
        f"{batch.source_file}: the same bytes were published by load {row[0]}; nothing changed",
    )
    result.load_id = str(row[0])
    return result


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
    audits = audit_batches(batches, settings)
    with writer(settings) as conn:
        results = record_rejected(conn, rejections, settings)
        results += publish_audited(conn, batches, audits, settings)
        marts = refresh_marts(conn, settings)
    return results, marts


def stage_in_parallel(
    stage_one: Callable[[Item], StagedBatch],
    items: Sequence[Item],
    *,
    progress: Callable[[int], None] | None = None,
) -> list[StagedBatch | IngestError]:
    """Stage ``items`` on a few threads; each item's batch, or its error, in input order.

    An exception takes its item's place as an ``IngestError`` (that file is refused, the
    others go on). An interrupt (KeyboardInterrupt, SystemExit) stops the work: items not
    started are cancelled, the DuckDB work of running ones is interrupted, every thread is
    joined, the batches already staged are discarded, and it is raised. ``progress`` hears
    the number of items done so far, from the calling thread.
    """
    if not items:
        return []
    futures: list[Future[StagedBatch]] = []
    with ThreadPoolExecutor(min(STAGE_THREADS, len(items)), thread_name_prefix="stage") as pool:
        try:
            for item in items:
                futures.append(pool.submit(stage_one, item))
            outcomes: list[StagedBatch | IngestError] = []
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
    if _stopping(error):
        raise error
    log.warning("staging failed unexpectedly", exc_info=error)
    return IngestError(f"cannot be read ({type(error).__name__}: {error})")


def _abandon(futures: list[Future[StagedBatch]]) -> None:
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


def stage_files(
    paths: Iterable[Path],
    settings: Settings,
    *,
    platform: str | None = None,
    account: str | None = None,
    day: date | None = None,
    rejected: list[Rejection] | None = None,
) -> tuple[list[StagedBatch], list[LoadResult]]:
    """Stage files: the batches, and a failed result for each refused file, in input order.

    Files land one after the other, so of the same bytes given twice the first keeps its
    manifest; parsing then runs side by side. A landed file that cannot be read is appended
    to ``rejected`` when given (for the writer to record), else refused like the others.
    Files given by name are always read, even when an earlier run rejected them.
    """
    landed: list[tuple[str, LandedFile]] = []
    failed: list[LoadResult] = []

    def refuse(shown: str, error: IngestError) -> None:
        log.error("%s", error)
        failed.append(LoadResult(shown, platform, None, 0, 0, 0, None, "failed", str(error)))

    for path in expand_paths(paths):
        shown = redact(str(path))
        try:
            landed.append(
                (
                    shown,
                    land_input(
                        path, settings, platform=platform, account=account, day=day, shown=shown
                    ),
                )
            )
        except Exception as exc:
            if _stopping(exc):
                raise
            refuse(shown, exc if isinstance(exc, IngestError) else _named(shown, exc))
    outcomes = stage_in_parallel(
        lambda item: stage_or_reject(
            item[1], settings, source=item[0], account=account, retry_rejected=True
        ),
        landed,
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


def _named(shown: str, error: Exception) -> IngestError:
    log.warning("%s: refused after an unexpected error", shown, exc_info=error)
    return ParseError(shown, f"cannot be read ({type(error).__name__}: {error})")


def load_files(
    paths: Iterable[Path],
    settings: Settings,
    *,
    platform: str | None = None,
    account: str | None = None,
    day: date | None = None,
) -> list[LoadResult]:
    """``ingest load``: every file is one load, published whole or not at all.

    A file that cannot be read is reported and skipped; the others still load. One that
    landed is recorded as ``rejected`` in ``meta.loads``.
    """
    rejected: list[Rejection] = []
    staged, results = stage_files(
        paths, settings, platform=platform, account=account, day=day, rejected=rejected
    )
    try:
        results.extend(publish_batches(staged, settings, rejected))
    finally:
        # nothing publishes a load's batches later (a busy warehouse, a failed audit or an
        # interrupt included): the files are landed, and the next load stages them again
        for batch in staged:
            batch.discard()
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
