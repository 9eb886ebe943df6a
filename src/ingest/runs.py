"""One day of the pipeline, in the steps the nightly DAG runs: pick up, stage, publish, marts, BI.

A run for day D always re-derives D from the landing zone: it lands whatever waits in the inbox
for D, then parses every file landed for D, so a rerun, a backfill or a parser fix replays the
same bytes. Publishing MERGEs, so replaying a day whose values did not change changes nothing.
The stage step never opens the warehouse (platforms stage in parallel); the publish, marts and
BI steps are the only writers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest import progress, refresh
from ingest.config import Settings, inbox_folder
from ingest.errors import IngestError
from ingest.intake import GivenFile, land_given
from ingest.landing import INDEX_FOLDER, landed_files
from ingest.pipeline import (
    OK_STATUSES,
    LoadResult,
    audit_staged,
    new_run_id,
    publish_and_refresh,
    publish_audited,
    record_rejected,
    stage_landed_files,
    vanished_batch,
)
from ingest.platforms import names as platform_names
from ingest.redaction import redact
from ingest.rejections import FileRejected, Rejection
from ingest.settings import read_core
from ingest.staging import BatchOwner, StagedBatch, discard_abandoned, discard_all
from ingest.warehouse import writer

log = logging.getLogger(__name__)


@dataclass
class StagedDay:
    """What staging one platform's day produced: batch folders to publish and what went wrong.

    Plain JSON types only, because it crosses process boundaries as an Airflow XCom.
    """

    platform: str
    day: str
    files: int = 0
    picked_up: int = 0
    rows_read: int = 0
    rows_quarantined: int = 0
    folders: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    # landed files that could not be read (``Rejection.to_dict``), for the writer to record
    rejections: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StagedDay:
        return cls(**dict(data))


@dataclass
class PlatformCounts:
    """Per-platform totals of one day's run."""

    files: int = 0
    picked_up: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0


@dataclass
class RunSummary:
    """The outcome of one day: counts per platform and every failure, in words."""

    day: date
    platforms: dict[str, PlatformCounts] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    # files rejected by an earlier run with the same parser version: not read again
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "platforms": {name: asdict(c) for name, c in self.platforms.items()},
            "failures": list(self.failures),
            "skipped": list(self.skipped),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSummary:
        return cls(
            day=date.fromisoformat(data["day"]),
            platforms={k: PlatformCounts(**v) for k, v in data["platforms"].items()},
            failures=list(data["failures"]),
            skipped=list(data.get("skipped", [])),
        )

    def __str__(self) -> str:
        lines = [f"{self.day.isoformat()}: {'ok' if self.ok else 'FAILED'}"]
        for name, c in self.platforms.items():
            lines.append(
                f"  {name}: {c.files} files ({c.picked_up} new from inbox), read {c.rows_read},"
                f" loaded {c.rows_loaded}, quarantined {c.rows_quarantined}"
            )
        lines.extend(f"  skipped: {skipped}" for skipped in self.skipped)
        lines.extend(f"  error: {failure}" for failure in self.failures)
        return "\n".join(lines)


def default_inbox(settings: Settings) -> Path:
    """``INGEST_INBOX``, else ``inbox/`` beside the landing zone."""
    return inbox_folder(settings)


def day_of_run(data_interval_start: datetime | None, run_after: datetime) -> date:
    """The day a scheduled or backfill run owns: the start of its data interval, in UTC.

    A manual run without a logical date has no interval; it takes the last whole day before it.
    """
    if data_interval_start is not None:
        return data_interval_start.astimezone(UTC).date()
    return (run_after.astimezone(UTC) - timedelta(days=1)).date()


def pick_up_inbox(
    platform: str, day: date, settings: Settings, *, inbox: Path | None = None
) -> tuple[int, list[str]]:
    """Land the exports waiting in ``<inbox>/<platform>/<yyyy-mm-dd>/`` for day D.

    Files in a subfolder belong to the account the subfolder is named after (for formats that
    do not name their account). Landing is by content hash, so picking a file up twice is a
    no-op; the inbox is left as it is. A file of no known format is landed too, for staging
    to reject once. Files land in batches, as ``ingest load`` lands them
    (``intake.land_given``). Returns (files landed for the first time, failures).
    """
    folder = (inbox or default_inbox(settings)) / platform / day.isoformat()
    if not folder.is_dir():
        return 0, []
    failures: list[str] = []
    files: list[GivenFile] = []
    for path in _inbox_files(folder):
        relative = path.relative_to(folder)
        # a page saved under its request URL carries ?access_token=… in its name
        shown = redact(f"{platform}/{day.isoformat()}/{relative.as_posix()}")
        account = relative.parts[0] if len(relative.parts) > 1 else None
        files.append(GivenFile(path, shown, account))
    landed = land_given(
        files,
        settings,
        platform=platform,
        day=day,
        refuse=lambda shown, error: failures.append(redact(str(error))),
        keep_unknown=True,
        account_hint=f"put them in {folder.name}/<account id>/",
    )
    return sum(file.new for _, file in landed), failures


def _inbox_files(folder: Path) -> list[Path]:
    # hidden files are editors' and copy tools' partial files, never exports
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def pull_platform_day(
    platform: str,
    day: date,
    settings: Settings,
    *,
    token: str | None = None,
    base_url: str | None = None,
    accounts: Sequence[str] = (),
    creators: Path | str | None = None,
) -> dict[str, Any]:
    """The day's API pull for one platform, landing pages only; staging replays what landed.

    The accounts are ``accounts`` (the connection's extra) and the platform's rows of
    ``creators`` (``INGEST_CREATORS``); without either, those tracked in the warehouse
    (``ingest accounts``). Skipped, not failed, with a warning saying what is missing, when
    no account is tracked or the platform has no token (an exports-only installation). An
    incomplete pull raises, so a retry resumes it.

    Returns:
        the pull summary as plain values (it travels as an XCom).
    """
    from ingest.accounts import missing_message
    from ingest.extract import TRACKED, PullOptions, pull, resolve_accounts
    from ingest.platforms import get as declared
    from ingest.tokens import can_refresh

    creators = creators or read_core().creators
    options = PullOptions.from_env(platform)
    token = token or options.token
    tracked, source = resolve_accounts(
        platform, settings, accounts=list(accounts) or None, creators=creators
    )
    reason = None
    if not tracked and source == TRACKED:
        reason = f"{missing_message(platform)} (or name them in the"
        reason += f" {declared(platform).connection_id} connection's accounts extra)"
    elif not tracked:
        reason = f"no {platform} accounts {source}"
    elif not (token or can_refresh(platform, settings)):
        # refresh credentials alone are enough: the pull gets its own token
        reason = (
            f"{len(tracked)} account(s) {source} but no token: set"
            f" {declared(platform).token_env} or the {declared(platform).connection_id}"
            " connection's password"
        )
    if reason is not None:
        log.warning("%s: no API pull: %s", platform, reason)
        return {"platform": platform, "day": day.isoformat(), "skipped": True, "reason": reason}
    summary = pull(
        platform,
        day,
        settings,
        accounts=list(accounts) or None,
        creators=creators,
        base_url=base_url,
        load=False,
        options=replace(options, token=token),
    )
    if not summary.ok:
        raise IngestError(
            f"{platform} pull for {day} is incomplete ({declared(platform).token_env} or the"
            f" {declared(platform).connection_id} connection):"
            f" {'; '.join(summary.errors) or 'see log'}"
        )
    return summary.to_dict()


def stage_platform_day(
    platform: str,
    day: date,
    settings: Settings,
    *,
    inbox: Path | None = None,
    run_id: str | None = None,
    retry_rejected: bool = False,
    reprocess: bool = False,
) -> StagedDay:
    """Pick up the inbox, then stage every file landed for (platform, D). Never opens the warehouse.

    A landed file that cannot be read is rejected (for the publish step to record); the
    platform's other files still stage. A file an earlier run rejected with the same parser
    version is skipped unless ``retry_rejected``. The batches belong to ``run_id`` (the DAG
    run's id; a run of its own when not given): a try of the same run first removes what an
    earlier, interrupted try of it staged, and leaves every other run's batches alone, even
    those of the same bytes.
    """
    owner = BatchOwner(run_id or new_run_id(), platform, day)
    picked_up, failures = pick_up_inbox(platform, day, settings, inbox=inbox)
    result = StagedDay(platform, day.isoformat(), picked_up=picked_up, failures=failures)
    landed_day = landed_files(settings.landing, platform, day, settings.staging / INDEX_FOLDER)
    discard_stale_batches(owner, settings)
    result.files = len(landed_day)

    named = [(f"{platform}/{day.isoformat()}/{f.source_name}", f) for f in landed_day]
    for batch in stage_landed_files(
        named,
        settings,
        run_id=owner.run_id,
        retry_rejected=retry_rejected,
        reprocess=reprocess,
    ):
        if isinstance(batch, FileRejected):
            result.rejections.append(batch.rejection.to_dict())
            continue
        if isinstance(batch, IngestError):
            result.failures.append(str(batch))
            continue
        batch.save()  # the publish step finds every batch by its folder
        result.folders.append(batch.folder)
        result.rows_read += batch.rows_read
        result.rows_quarantined += batch.rows_quarantined
    log.info("%s %s: staged %d of %d files", platform, day, len(result.folders), result.files)
    return result


def discard_stale_batches(owner: BatchOwner, settings: Settings) -> int:
    """Remove what an earlier, interrupted try of this run staged for its platform and day.

    Staging the day again supersedes those batches. Another run's batches are never touched,
    whatever bytes they hold, unless left untouched for ``ABANDONED_AFTER`` (a killed run's).
    Returns how many were removed.
    """
    removed = owner.discard_batches(settings.staging)
    abandoned = discard_abandoned(settings.staging)
    if removed or abandoned:
        log.info(
            "removed %d staged batch(es) of an earlier try of this run and %d abandoned one(s)",
            removed,
            abandoned,
        )
    return removed + abandoned


def publish_staged(
    folders: Iterable[str],
    settings: Settings,
    rejections: Sequence[Mapping[str, Any]] = (),
) -> list[LoadResult]:
    """Audit and publish staged batches, one transaction each; marts are left to ``refresh_marts``.

    The audit (Great Expectations) runs before the writer lock is taken; a batch failing a
    critical expectation is recorded as failed and not published. Safe to repeat after a
    crash: a batch whose load is already recorded as finished is only reported and discarded,
    never merged or quarantined twice. A folder already gone counts as done only when
    ``meta.loads`` recorded its load; otherwise it is reported as a failure.

    Rejected files are recorded in ``meta.loads`` first (once; see ``ingest.rejections``).

    Returns:
        one result per rejected file (rejected, or skipped when an earlier run rejected it)
        and per batch but those published by an earlier try: published, unchanged (the same
        bytes published before), failed (blocked by the audit, recorded so by an earlier try,
        or gone unpublished).
    """
    rejected = [Rejection.from_dict(r) for r in rejections]
    pending = [Path(f) for f in folders]
    present = [f for f in pending if (f / "batch.json").is_file()]
    gone = sorted(set(pending) - set(present))
    if not pending and not rejected:
        return []
    batches = [StagedBatch.open(f) for f in present]
    audits = audit_staged(batches, settings) if batches else []
    with writer(settings) as conn:
        results = record_rejected(conn, rejected, settings)
        for folder in gone:
            earlier = vanished_batch(conn, folder)
            if earlier.status == "published":
                # counted by the try that published it, not again
                log.info("batch %s was published by an earlier try", earlier.load_id)
            else:
                log.error("%s: %s", earlier.source, earlier.message)
                results.append(earlier)
        return results + publish_audited(conn, batches, audits, settings)


def publish_day(
    day: date, staged: Iterable[StagedDay | Mapping[str, Any]], settings: Settings
) -> RunSummary:
    """Publish what the platforms staged for day D and sum it up (the DAG's publish task)."""
    days = [s if isinstance(s, StagedDay) else StagedDay.from_dict(s) for s in staged]
    results = publish_staged(
        [f for s in days for f in s.folders], settings, [r for s in days for r in s.rejections]
    )
    return summarize(day, days, results)


def refresh_marts(settings: Settings) -> dict[str, Any]:
    """Rebuild the pending and held mart ranges, audit them, publish the BI copy if they pass.

    Returns:
        ``MartsRefresh.to_dict()``: ``published`` says whether a new BI copy (on DuckLake:
        newly audited marts) was published, ``passed`` and ``message`` what the audit said
        (plain types: it travels as an XCom).
    """
    with writer(settings) as conn:
        return refresh.refresh_marts(conn, settings).to_dict()


def marts_published(marts: Mapping[str, Any]) -> bool:
    """Whether a refresh published new marts: only then are downstream consumers told."""
    if not marts.get("published"):
        log.warning("no new BI copy: %s", marts.get("message") or "nothing was published")
        return False
    return True


def summarize(day: date, staged: Sequence[StagedDay], results: Sequence[LoadResult]) -> RunSummary:
    """Counts per platform from staging (files, read, quarantined) and publishing (loaded)."""
    summary = RunSummary(day)
    for s in staged:
        counts = summary.platforms.setdefault(s.platform, PlatformCounts())
        counts.files += s.files
        counts.picked_up += s.picked_up
        counts.rows_read += s.rows_read
        counts.rows_quarantined += s.rows_quarantined
        summary.failures.extend(f"{s.platform}: {failure}" for failure in s.failures)
    for result in results:
        counts = summary.platforms.setdefault(result.platform or "unknown", PlatformCounts())
        if result.status == "skipped":
            summary.skipped.append(f"{result.platform}: {result.message}")
        elif result.status in OK_STATUSES:
            counts.rows_loaded += result.rows_loaded
        elif result.status == "rejected":
            # the message names the file (and line and field where known)
            summary.failures.append(
                f"{result.platform}: rejected (load {result.load_id}): {result.message}"
            )
        else:
            summary.failures.append(f"{result.platform}: {result.source}: {result.message}")
    return summary


def check_summary(
    summary: RunSummary | Mapping[str, Any], marts: Mapping[str, Any] | None = None
) -> RunSummary:
    """Log a day's summary and raise if anything failed, after everything else was published.

    Raises:
        IngestError: some file of the day could not be landed, parsed, audited or published,
            or the rebuilt marts failed their audit.
    """
    result = summary if isinstance(summary, RunSummary) else RunSummary.from_dict(summary)
    if marts is not None and not marts.get("passed", True):
        result.failures.append(f"marts: {marts.get('message')}")
    log.info("%s", result)
    if not result.ok:
        raise IngestError(
            f"{len(result.failures)} failure(s) on {result.day}: " + "; ".join(result.failures)
        )
    return result


def run_day(
    day: date,
    settings: Settings,
    *,
    platforms: Sequence[str] | None = None,
    inbox: Path | None = None,
    retry_rejected: bool = False,
    reprocess: bool = False,
) -> RunSummary:
    """``ingest run --date D``: the whole nightly DAG for one day, in this process, as one run.

    Bytes the same parser version already published are reported unchanged without being
    read again, unless ``reprocess``.
    """
    run_id = new_run_id()
    staged = [
        stage_platform_day(
            p,
            day,
            settings,
            inbox=inbox,
            run_id=run_id,
            retry_rejected=retry_rejected,
            reprocess=reprocess,
        )
        for p in (platforms or platform_names())
    ]
    batches = [StagedBatch.open(Path(f)) for s in staged for f in s.folders]
    rejections = [Rejection.from_dict(r) for s in staged for r in s.rejections]
    results: list[LoadResult] = []
    error: str | None = None
    # the audit is the first step of the publish: it runs before the writer lock is taken
    progress.emit(
        "audit",
        total=len(batches),
        rows=sum(b.rows_read for b in batches),
        detail=day.isoformat(),
    )
    try:
        results, marts = publish_and_refresh(batches, settings, rejections)
        if marts is not None and not marts.passed:
            error = f"marts: {marts.message}"
    except IngestError as exc:
        error = f"publish: {exc}"
    finally:
        # a batch left behind is re-derived from landing by the next run, so never keep it
        discard_all(batches)
    summary = summarize(day, staged, results)
    if error:
        summary.failures.append(error)
    return summary


def backfill(
    start: date,
    end: date,
    settings: Settings,
    *,
    platforms: Sequence[str] | None = None,
    inbox: Path | None = None,
    retry_rejected: bool = False,
    reprocess: bool = False,
) -> list[RunSummary]:
    """``ingest backfill``: ``run_day`` for every day from start to end, both included."""
    if end < start:
        raise IngestError(f"backfill end {end} is before its start {start}")
    days = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return [
        run_day(
            d,
            settings,
            platforms=platforms,
            inbox=inbox,
            retry_rejected=retry_rejected,
            reprocess=reprocess,
        )
        for d in days
    ]


def failure_log(settings: Settings) -> Path:
    """Where task failures are recorded: ``logs/task_failures.jsonl`` beside the landing zone."""
    return settings.landing.parent / "logs" / "task_failures.jsonl"


def record_failure(
    settings: Settings,
    *,
    dag_id: str,
    task_id: str,
    run_id: str,
    try_number: int | None,
    error: BaseException | str | None,
) -> Path:
    """Log a failed task and append it as one JSON line to ``failure_log``; returns that path.

    The orchestrator's own log rotates away; this file keeps what failed, when and why next to
    the data it concerns, for whoever looks at the warehouse later.
    """
    message = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else error
    message = redact(message) if message is not None else None
    log.error("task %s.%s failed in %s (try %s): %s", dag_id, task_id, run_id, try_number, message)
    entry = {
        "failed_at": datetime.now(UTC).isoformat(),
        "dag_id": dag_id,
        "task_id": task_id,
        "run_id": run_id,
        "try_number": try_number,
        "error": message,
    }
    path = failure_log(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")
    return path
