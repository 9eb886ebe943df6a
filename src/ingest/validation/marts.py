"""The audit of rebuilt marts: the rows a rebuild changed, before the BI copy may take them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from ingest.config import Settings
from ingest.sqlfiles import read_sql, run_sql
from ingest.validation.frames import CHUNK_ROWS, Rows
from ingest.validation.gx import audit_tables
from ingest.validation.results import AuditReport, store_results
from ingest.validation.suites import MART_SUITES, load_suite

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingMarts:
    """Account-day ranges of the marts to audit, and the loads behind them."""

    ranges: list[tuple[str, str, Any, Any]]
    load_ids: list[str]


def audit_marts(
    conn: duckdb.DuckDBPyConnection,
    pending: PendingMarts,
    settings: Settings | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
    now: datetime | None = None,
) -> AuditReport:
    """Audit the mart rows a rebuild changed and store the results under the loads behind it.

    Runs with the writer connection after ``rebuild_marts`` and before the BI copy is published
    (``ingest.refresh``): a critical failure keeps BI on its last good copy.
    """
    label = pending.load_ids[-1] if pending.load_ids else "marts"
    if not pending.ranges:
        return AuditReport(load_id=label, checked_at=now or datetime.now(UTC))
    run_sql(
        conn,
        "validation/create_audit_ranges",
        {
            "platforms": [r[0] for r in pending.ranges],
            "account_ids": [r[1] for r in pending.ranges],
            "days_from": [r[2] for r in pending.ranges],
            "days_to": [r[3] for r in pending.ranges],
        },
    )
    try:
        tables = []
        for name in MART_SUITES:
            suite = load_suite(name)
            found = run_sql(conn, "validation/mart_columns", {"name": name}).fetchall()
            tables.append(
                Rows(
                    suite=suite,
                    query=read_sql("validation/mart_rows"),
                    params={"table": suite.table},
                    columns=tuple(str(r[0]) for r in found),
                )
            )
        report = audit_tables(
            conn, label, tables, settings=settings, chunk_rows=chunk_rows, now=now
        )
    finally:
        run_sql(conn, "validation/drop_audit_ranges")
    store_results(conn, report, pending.load_ids)
    if not report.passed:
        log.error("marts: %s; the BI copy keeps its last good state", report.message())
    return report
