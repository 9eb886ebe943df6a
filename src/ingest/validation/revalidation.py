"""Re-validation of a load after the fact (``ingest validate``): read-only, stores nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb

from ingest.config import Settings
from ingest.errors import IngestError
from ingest.model import ENTITIES
from ingest.sqlfiles import read_sql, run_sql
from ingest.validation.frames import CHUNK_ROWS, Rows
from ingest.validation.gates import check_volume, volume_history
from ingest.validation.gx import audit_tables
from ingest.validation.results import AuditReport, ExpectationResult
from ingest.validation.suites import CANONICAL_SUITES, VOLUME_SUITE, load_suite
from ingest.warehouse import open_warehouse


def revalidate(load_id: str, settings: Settings, *, chunk_rows: int = CHUNK_ROWS) -> AuditReport:
    """Re-run the audit of a load on the core rows that still carry its ``load_id``.

    Opens the warehouse read-only and stores nothing; Data Docs are written. Rows a later load
    replaced carry that load's id and are audited with it. For a load that was not published,
    the results stored when it was blocked are returned instead.
    """
    conn = open_warehouse(settings.target, read_only=True, busy_timeout=settings.busy_timeout)
    try:
        found = run_sql(conn, "validation/recorded_load", {"load_id": load_id}).fetchone()
        if found is None:
            raise IngestError(f"no load {load_id!r} in meta.loads")
        platform, fmt, account, rows_loaded, started_at, status = found
        if status != "published":
            return _stored_report(conn, load_id, status)
        tables = [
            Rows(
                suite=load_suite(name),
                query=read_sql("validation/load_rows"),
                params={"table": ENTITIES[name].table, "load_id": load_id},
                columns=ENTITIES[name].column_names,
            )
            for name in CANONICAL_SUITES
        ]
        report = audit_tables(
            conn, load_id, tables, settings=settings, chunk_rows=chunk_rows, now=None
        )
        report.results.extend(
            _recheck_volume(conn, load_id, platform, fmt, account, int(rows_loaded), started_at)
        )
        return report
    finally:
        conn.close()


def _recheck_volume(
    conn: duckdb.DuckDBPyConnection,
    load_id: str,
    platform: str,
    fmt: str,
    account: str | None,
    rows_loaded: int,
    started_at: datetime,
) -> list[ExpectationResult]:
    """The volume check of a published load's delivery, against the deliveries before it."""
    stored = run_sql(
        conn, "validation/stored_volume_check", {"load_id": load_id, "suite": VOLUME_SUITE}
    ).fetchone()
    kwargs = json.loads(stored[0]) if stored and stored[0] else {}
    account = kwargs.get("accounts", account)
    if "delivery" not in kwargs:
        # audited before deliveries were recorded: the load was its own delivery
        return check_volume(
            conn,
            platform=platform,
            format=fmt,
            account=account,
            rows=rows_loaded,
            loads=1,
            delivery=load_id,
            day=started_at.date().isoformat(),
            pulled=False,
            started_at=started_at,
            exclude=[load_id],
        )
    members = run_sql(
        conn,
        "validation/delivery_loads",
        {"suite": VOLUME_SUITE, "delivery": kwargs["delivery"]},
    ).fetchall()
    pulled = bool(kwargs.get("pulled"))
    rows = int(stored[1]) if stored and stored[1] is not None else rows_loaded
    if pulled:
        # check_volume adds the day's earlier pages itself
        rows -= sum(
            r
            for d, r, p in volume_history(
                conn, platform, fmt, account, started_at, [m[0] for m in members], 1
            )
            if p and d == kwargs["landing_day"]
        )
    return check_volume(
        conn,
        platform=platform,
        format=fmt,
        account=account,
        rows=rows,
        loads=int(kwargs.get("loads", 1)),
        delivery=str(kwargs["delivery"]),
        day=str(kwargs["landing_day"]),
        pulled=pulled,
        started_at=min((m[1] for m in members), default=started_at),
        exclude=sorted({m[0] for m in members}),
    )


def _stored_report(conn: duckdb.DuckDBPyConnection, load_id: str, status: str) -> AuditReport:
    rows = run_sql(conn, "validation/stored_results", {"load_id": load_id}).fetchall()
    checked = rows[-1][9] if rows else datetime.now(UTC)
    report = AuditReport(
        load_id=load_id,
        checked_at=checked,
        note=f"load is {status}: core holds none of its rows; these are the stored results",
    )
    report.results = [
        ExpectationResult(
            suite=r[0],
            expectation=r[1],
            column=r[2],
            kwargs=json.loads(r[3]) if r[3] else {},
            severity=r[4],
            success=bool(r[5]),
            observed=r[6] or "",
            element_count=r[7],
            unexpected_count=r[8],
        )
        for r in rows
    ]
    return report
