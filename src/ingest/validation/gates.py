"""The gate of a run's audit, with the writer connection: volume checks, then blocked batches.

A delivery is all of a run's loads with one platform, format, accounts key and landing day; its
rows are compared with the same accounts' earlier deliveries (``batch_volume.json``). A batch
that failed a critical check is recorded as failed with its quarantine and results.
"""

from __future__ import annotations

import json
import logging
import statistics
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from ingest.backends import retry_on_conflict, transaction
from ingest.config import Settings
from ingest.delivery_accounts import delivery_accounts
from ingest.landing import MANIFEST_SUFFIX, manifest_path
from ingest.publish import record_batch
from ingest.sqlfiles import run_sql
from ingest.staging import StagedBatch
from ingest.validation.results import AuditReport, ExpectationResult, store_results
from ingest.validation.suites import CRITICAL, VOLUME_SUITE, volume_checks

log = logging.getLogger(__name__)


@dataclass
class _Delivery:
    """The loads of one run with one platform, format, account and landing day."""

    platform: str
    format: str
    account: str | None
    day: str
    pulled: bool
    batches: list[StagedBatch]

    @property
    def id(self) -> str:
        return self.batches[0].load_id

    @property
    def rows(self) -> int:
        return sum(b.rows_loaded for b in self.batches)

    @property
    def started_at(self) -> str:
        return min(b.started_at for b in self.batches)


def _landing_info(batch: StagedBatch, landing: Path | None) -> tuple[str, bool]:
    """The landing day of a batch's file and whether an API request fetched it."""
    if landing is not None:
        # the manifest of the landed file the batch was staged from; without one, those of
        # every landing of its bytes (a search of all days: 0.7 s for a 10,000-page run)
        own = manifest_path(Path(batch.landed_path)) if batch.landed_path else None
        manifests = (
            [own]
            if own is not None and own.is_file()
            else sorted(
                (landing / batch.platform).glob(f"*/{batch.source_sha256}{MANIFEST_SUFFIX}")
            )
        )
        chosen: dict[str, Any] | None = None
        for manifest in manifests:
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if chosen is None or _same_time(data.get("fetched_at"), batch.observed_at):
                chosen = data
        if chosen is not None and chosen.get("day"):
            return str(chosen["day"]), chosen.get("request") is not None
    return batch.observed_at[:10], False


def _same_time(a: Any, b: str) -> bool:
    try:
        return bool(a) and datetime.fromisoformat(str(a)) == datetime.fromisoformat(b)
    except ValueError:
        return False


def _deliveries(batches: list[StagedBatch], landing: Path | None) -> list[_Delivery]:
    """Group a run's batches into deliveries, oldest landing day first."""
    grouped: dict[tuple[str, str, str | None, str, bool], _Delivery] = {}
    for batch in batches:
        day, pulled = _landing_info(batch, landing)
        key = (batch.platform, batch.format, batch.account, day, pulled)
        if key not in grouped:
            grouped[key] = _Delivery(batch.platform, batch.format, batch.account, day, pulled, [])
        grouped[key].batches.append(batch)
    return sorted(grouped.values(), key=lambda d: (d.day, d.started_at))


def check_volume(
    conn: duckdb.DuckDBPyConnection,
    *,
    platform: str,
    format: str,
    account: str | None,
    rows: int,
    loads: int,
    delivery: str,
    day: str,
    pulled: bool,
    started_at: str | datetime,
    exclude: list[str],
    recent: list[tuple[str, int]] | None = None,
) -> list[ExpectationResult]:
    """Compare a delivery's rows with the same accounts' recent deliveries (``batch_volume.json``).

    ``account`` is the delivery's accounts key (``ingest.delivery_accounts``). ``recent`` are
    deliveries of the same source earlier in this run (newest last) as
    ``(landing day, rows)``; older ones come from the batch-volume results in ``meta.validations``.
    """
    results = []
    for check in volume_checks():
        keep = int(check["history"])
        history = volume_history(conn, platform, format, account, started_at, exclude, keep + 50)
        total = rows
        if pulled:
            # pages of the day an earlier run published (a resumed pull) belong to this delivery
            same_day = [r for d, r, p in history if p and d == day]
            total += max(same_day, default=0)
            history = [h for h in history if not (h[2] and h[0] == day)]
        earlier = [r for _, r in reversed(recent or [])] + [r for _, r, _ in history]
        earlier = earlier[:keep]
        described = f"{total} rows in {loads} loads of {day}"
        if len(earlier) < int(check["min_history"]):
            success = True
            observed = (
                f"{described}; {len(earlier)} earlier deliveries of {platform}/{format}"
                f" for {account or 'no account'}, {check['min_history']} needed to compare"
            )
        else:
            median = statistics.median(earlier)
            ratio = total / median if median else 1.0
            success = ratio >= float(check["min_ratio"])
            observed = (
                f"{total} rows vs median {median:g} of the last {len(earlier)} deliveries"
                f" (ratio {ratio:.2f}, minimum {check['min_ratio']}; {loads} loads of {day})"
            )
        kwargs = {k: v for k, v in check.items() if k not in ("severity", "why")}
        kwargs.update(
            delivery=delivery, landing_day=day, loads=loads, pulled=pulled, accounts=account
        )
        results.append(
            ExpectationResult(
                suite=VOLUME_SUITE,
                expectation=str(check["check"]),
                column=None,
                kwargs=kwargs,
                severity=str(check["severity"]),
                success=success,
                observed=observed,
                element_count=total,
                why=str(check.get("why", "")),
            )
        )
    return results


def volume_history(
    conn: duckdb.DuckDBPyConnection,
    platform: str,
    format: str,
    account: str | None,
    started_at: str | datetime,
    exclude: list[str],
    limit: int,
) -> list[tuple[str | None, int, bool]]:
    """Earlier published deliveries of the same accounts, newest first: ``(day, rows, pulled)``.

    A load audited before deliveries were recorded counts as a delivery of its own; one audited
    before its accounts were recorded is matched by the account its file named.
    """
    found = run_sql(
        conn,
        "validation/volume_history",
        {
            "suite": VOLUME_SUITE,
            "platform": platform,
            "format": format,
            "account": account,
            "started": started_at,
            "exclude": exclude,
            "limit": limit,
        },
    ).fetchall()
    history: list[tuple[str | None, int, bool]] = []
    for day, rows, pulled, _ in found:
        if pulled and history and history[-1][2] and history[-1][0] == day:
            # one day of a resumed pull: its last delivery counted the earlier pages too
            history[-1] = (day, max(history[-1][1], int(rows)), True)
            continue
        history.append((None if day is None else str(day), int(rows), bool(pulled)))
    return history


def gate_batches(
    conn: duckdb.DuckDBPyConnection,
    batches: list[StagedBatch],
    reports: list[AuditReport],
    settings: Settings | None = None,
) -> None:
    """Finish a run's audit with the writer connection and record the blocked batches.

    Adds the volume check per delivery (all of a run's loads with one platform, format,
    account and landing day, see ``batch_volume.json``), compared with earlier deliveries of
    the same accounts, to each of its loads' reports, then
    records every batch that failed a critical check: in one transaction, the load as
    ``failed`` with a message, its quarantined rows and every result in ``meta.validations``;
    core and marts are not touched. A batch that passes is left to the caller to publish,
    then :func:`~ingest.validation.results.store_results`.
    """
    by_id = {b.load_id: r for b, r in zip(batches, reports, strict=True)}
    landing = settings.landing if settings is not None else None
    recent: dict[tuple[str, str, str | None], list[tuple[str, int]]] = {}
    for delivery in _deliveries(batches, landing):
        accounts = delivery_accounts(conn, delivery.account, delivery.batches)
        source = (delivery.platform, delivery.format, accounts)
        volume = check_volume(
            conn,
            platform=delivery.platform,
            format=delivery.format,
            account=accounts,
            rows=delivery.rows,
            loads=len(delivery.batches),
            delivery=delivery.id,
            day=delivery.day,
            pulled=delivery.pulled,
            started_at=delivery.started_at,
            exclude=[b.load_id for b in batches],
            recent=recent.get(source),
        )
        for batch in delivery.batches:
            by_id[batch.load_id].results.extend(volume)
        if all(r.success for r in volume if r.severity == CRITICAL):
            recent.setdefault(source, []).append((delivery.day, volume[0].element_count or 0))
    for batch, report in zip(batches, reports, strict=True):
        if not report.passed:
            _block(conn, batch, report)


def _block(conn: duckdb.DuckDBPyConnection, batch: StagedBatch, report: AuditReport) -> None:
    # why: on DuckLake another writer may commit first; the record is then written again
    retry_on_conflict(
        conn, lambda: _block_once(conn, batch, report), what=f"audit of load {batch.load_id}"
    )
    log.error("%s: %s", batch.source_file, report.message())


def _block_once(conn: duckdb.DuckDBPyConnection, batch: StagedBatch, report: AuditReport) -> None:
    with transaction(conn):
        record_batch(conn, batch, status="failed", message=report.message())
        store_results(conn, report)
