"""Audit results: one expectation's outcome, a report of one audit, and their stored form."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import repeat
from typing import Any

import duckdb

from ingest.sqlfiles import run_sql
from ingest.validation.suites import CRITICAL, WARNING

RESULTS_PER_STATEMENT = 200


@dataclass(slots=True, frozen=True)
class ExpectationResult:
    """The outcome of one expectation over a whole table (all chunks).

    Frozen: a run-wide audit gives the loads whose results read alike (no unexpected row in
    100 rows) one shared object, about 30 per page of API rows kept until the publish.
    """

    suite: str
    expectation: str
    column: str | None
    kwargs: dict[str, Any]
    severity: str
    success: bool
    observed: str
    element_count: int | None = None
    unexpected_count: int | None = None
    why: str = ""

    def label(self) -> str:
        return f"{self.suite}: {self.expectation}({self.column or ''})"


@dataclass
class AuditReport:
    """Every expectation result of one audit; ``passed`` unless a critical one failed."""

    load_id: str
    checked_at: datetime
    results: list[ExpectationResult] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)
    note: str | None = None

    @property
    def passed(self) -> bool:
        return not self.failures(CRITICAL)

    def failures(self, severity: str) -> list[ExpectationResult]:
        return [r for r in self.results if not r.success and r.severity == severity]

    def message(self) -> str:
        """A one-line summary fit for ``meta.loads.message``."""
        critical = self.failures(CRITICAL)
        warned = self.failures(WARNING)
        if not critical:
            return f"audit passed ({len(self.results)} expectations, {len(warned)} warnings)"
        shown = "; ".join(f"{r.label()}: {r.observed}" for r in critical[:3])
        more = f" (and {len(critical) - 3} more)" if len(critical) > 3 else ""
        return f"audit failed: {len(critical)} critical expectations failed: {shown}{more}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "load_id": self.load_id,
            "checked_at": self.checked_at.isoformat(),
            "passed": self.passed,
            "note": self.note,
            "docs": self.docs,
            "results": [asdict(r) for r in self.results],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def __str__(self) -> str:
        critical, warned = self.failures(CRITICAL), self.failures(WARNING)
        verdict = "passed" if self.passed else "FAILED"
        lines = [
            f"audit of load {self.load_id}: {verdict} ({len(self.results)} expectations,"
            f" {len(critical)} critical failures, {len(warned)} warnings)"
        ]
        if self.note:
            lines.append(f"  note: {self.note}")
        order = sorted(self.results, key=lambda r: (r.success, r.severity != CRITICAL))
        for r in order:
            mark = "ok  " if r.success else ("FAIL" if r.severity == CRITICAL else "WARN")
            lines.append(f"  {mark} {r.severity:<8} {r.label()}: {r.observed}")
        lines.extend(f"  data docs: {page}" for page in self.docs)
        return "\n".join(lines)


def store_results(
    conn: duckdb.DuckDBPyConnection, report: AuditReport, load_ids: list[str] | None = None
) -> None:
    """Append a report's results to ``meta.validations`` (under each of ``load_ids``)."""
    loads = [(load_id, report.results) for load_id in (load_ids or [report.load_id])]
    _store_rows(conn, loads, report.checked_at)


def store_reports(
    conn: duckdb.DuckDBPyConnection,
    reports: list[AuditReport],
    *,
    per_statement: int = RESULTS_PER_STATEMENT,
) -> None:
    """``store_results`` of many reports, ``per_statement`` results to an insert."""
    by_time: dict[datetime, list[tuple[str, list[ExpectationResult]]]] = {}
    for report in reports:
        by_time.setdefault(report.checked_at, []).append((report.load_id, report.results))
    for checked_at, loads in by_time.items():
        _store_rows(conn, loads, checked_at, per_statement)


def _store_rows(
    conn: duckdb.DuckDBPyConnection,
    loads: list[tuple[str, list[ExpectationResult]]],
    checked_at: datetime,
    per_statement: int = RESULTS_PER_STATEMENT,
) -> None:
    """Store each (load id, its results) pair's results under its load id."""
    # why: a few statements, not one per row: on DuckLake every autocommitted statement is a
    # snapshot in the catalog; and bounded ones: one insert of a whole marts audit (results
    # times loads) made concurrent writers' publishes conflict until their retries ran out
    # (tests/lake/test_lake_e2e.py, two concurrent writers)
    import pyarrow as pa

    # a run's loads share most of their results (one object each, ``audit_batches``): each
    # distinct result becomes one row of a small table, and a chunk is its rows taken by
    # position (mapped, not looped over: a run stores about 30 results a page)
    by_id: dict[int, ExpectationResult] = {}
    for _, results in loads:
        by_id.update(zip(map(id, results), results, strict=True))
    position = {key: at for at, key in enumerate(by_id)}
    taken: list[int] = []
    load_ids: list[str] = []
    for load_id, results in loads:
        taken.extend(map(position.__getitem__, map(id, results)))
        load_ids.extend(repeat(load_id, len(results)))
    distinct = list(by_id.values())
    # the results of one expectation share its kwargs: each is written as JSON once
    kwargs_json: dict[int, str] = {}

    def as_json(kwargs: dict[str, Any]) -> str:
        text = kwargs_json.get(id(kwargs))
        if text is None:
            text = kwargs_json[id(kwargs)] = json.dumps(kwargs, default=str, sort_keys=True)
        return text

    results = pa.table(
        {
            "suite": pa.array([r.suite for r in distinct], pa.string()),
            "expectation": pa.array([r.expectation for r in distinct], pa.string()),
            "column_name": pa.array([r.column for r in distinct], pa.string()),
            "kwargs": pa.array([as_json(r.kwargs) for r in distinct], pa.string()),
            "severity": pa.array([r.severity for r in distinct], pa.string()),
            "success": pa.array([r.success for r in distinct], pa.bool_()),
            "observed_value": pa.array([r.observed for r in distinct], pa.string()),
            "element_count": pa.array([r.element_count for r in distinct], pa.int64()),
            "unexpected_count": pa.array([r.unexpected_count for r in distinct], pa.int64()),
        }
    )
    for start in range(0, len(taken), per_statement):
        end = start + per_statement
        table = results.take(pa.array(taken[start:end], pa.int64())).add_column(
            0, "load_id", pa.array(load_ids[start:end], pa.string())
        )
        conn.register("audit_results", table)
        try:
            run_sql(conn, "validation/record_results", {"checked_at": checked_at})
        finally:
            conn.unregister("audit_results")
