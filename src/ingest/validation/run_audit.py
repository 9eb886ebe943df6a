"""The audit of a run's staged batches, before anything is published; never opens the warehouse.

A batch alone is audited suite by suite (:func:`audit_batch`); a run's batches together get one
GX validation per suite (:func:`audit_batches`), and only the loads with an unexpected row are
audited again on their own. The gate that records the blocked ones is ``ingest.validation.gates``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb

from ingest.config import Settings
from ingest.model import ENTITIES
from ingest.sqlfiles import read_sql
from ingest.staging import LINE_COLUMN, StagedBatch, StagedEntity
from ingest.validation.docs import render_page, write_index
from ingest.validation.frames import CHUNK_ROWS, LOAD_COLUMN, Rows
from ingest.validation.gx import SAMPLE_VALUES, audit_tables, show, validate_chunks
from ingest.validation.results import AuditReport, ExpectationResult
from ingest.validation.suites import (
    CANONICAL_SUITES,
    Spec,
    Suite,
    expectation_parameters,
    load_suite,
)

if TYPE_CHECKING:
    import pandas as pd


def audit_batch(
    batch: StagedBatch,
    settings: Settings | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
    now: datetime | None = None,
) -> AuditReport:
    """Run the canonical suites on a staged batch's Parquet files. Never opens the warehouse.

    Args:
        batch: the staged batch.
        settings: where to write Data Docs; ``None`` writes none.
        chunk_rows: rows per DataFrame handed to GX.
        now: the audit's clock (timestamps may be at most one day past it).

    Returns:
        The results of every expectation whose columns the source provides.
    """
    tables = [
        Rows(
            suite=load_suite(name),
            query=read_sql("validation/staged_rows"),
            params={"path": staged.path},
            columns=tuple(staged.columns),
            index=LINE_COLUMN,
        )
        for name, staged in batch.entities.items()
        if name in CANONICAL_SUITES and staged.rows
    ]
    if not tables:
        return AuditReport(load_id=batch.load_id, checked_at=now or datetime.now(UTC))
    conn = duckdb.connect()
    try:
        return audit_tables(
            conn, batch.load_id, tables, settings=settings, chunk_rows=chunk_rows, now=now
        )
    finally:
        conn.close()


@dataclass(frozen=True)
class _Scoped:
    """An expectation of a run-wide audit: as the suite file has it, as run, and its loads."""

    spec: Spec
    run: Spec
    loads: frozenset[str]


@dataclass
class _RunSuite:
    """What a run-wide audit of one suite found: per-load results of clean loads, dirty loads."""

    results: dict[str, list[ExpectationResult]]
    dirty: set[str]
    template: Any


def audit_batches(
    batches: list[StagedBatch],
    settings: Settings | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
    now: datetime | None = None,
) -> list[AuditReport]:
    """Audit many staged batches with one GX validation per suite. Never opens the warehouse.

    The rows of every batch are validated together, each row carrying its ``load_id``; keys
    must be unique per load (as in a batch audited alone: a later load replaces a key). A load
    none of whose rows is unexpected under any expectation gets the results it would get alone
    (every expectation met; rows counted per load). A load with an unexpected row, or any load
    when an expectation over whole columns fails or errors, is audited again on its own, so its
    results (``mostly`` thresholds included) are exactly those of a per-batch audit and only the
    offending loads fail. Data Docs get one page per suite for the run.

    Returns:
        one report per batch, in order.
    """
    checked_at = now or datetime.now(UTC)
    reports = [AuditReport(load_id=b.load_id, checked_at=checked_at) for b in batches]
    found: dict[str, _RunSuite] = {}
    params = expectation_parameters(checked_at)
    conn = duckdb.connect()
    try:
        for name in CANONICAL_SUITES:
            members = [
                (b, b.entities[name])
                for b in batches
                if name in b.entities and b.entities[name].rows
            ]
            if members:
                found[name] = _audit_run_suite(conn, load_suite(name), members, params, chunk_rows)
    finally:
        conn.close()
    dirty = set().union(*(f.dirty for f in found.values()))
    for batch, report in zip(batches, reports, strict=True):
        if batch.load_id in dirty:
            # failure path: this batch alone, exactly as a per-batch audit sees it
            report.results = audit_batch(batch, chunk_rows=chunk_rows, now=checked_at).results
            continue
        for name in batch.entities:
            if name in found:
                report.results.extend(found[name].results.get(batch.load_id, []))
    if settings is not None and found:
        failed = [r.load_id for r in reports if not r.passed]
        label = batches[0].load_id if len(batches) == 1 else f"run-{batches[0].load_id}"
        pages = []
        for name, outcome in found.items():
            if outcome.template is None:
                continue
            loads = sorted(outcome.results)
            page = render_page(
                settings, label, name, outcome.template, loads=loads, failed=sorted(failed)
            )
            pages.append(str(page))
        if pages:
            write_index(settings)
        for report in reports:
            report.docs = list(pages)
    return reports


def _audit_run_suite(
    conn: duckdb.DuckDBPyConnection,
    suite: Suite,
    members: list[tuple[StagedBatch, StagedEntity]],
    params: dict[str, Any],
    chunk_rows: int,
) -> _RunSuite:
    provided = {b.load_id: set(e.columns) for b, e in members}
    every = frozenset(provided)
    # a spec runs on the loads whose source provides its columns, as it would batch by batch
    flags: dict[frozenset[str], str] = {}
    scoped: list[_Scoped] = []
    for spec in suite.expectations:
        needed = frozenset(spec.columns) | frozenset(spec.requires)
        loads = frozenset(lid for lid, cols in provided.items() if needed <= cols)
        if not loads:
            continue
        kwargs = dict(spec.kwargs)
        if spec.type.endswith("compound_columns_to_be_unique"):
            # a key may repeat in two loads (the later replaces it), never within one
            kwargs["column_list"] = [*kwargs["column_list"], LOAD_COLUMN]
        if loads != every:
            flag = flags.setdefault(needed, f"_scope_{len(flags)}")
            condition = f"{flag} == True"
            if "row_condition" in kwargs:
                condition = f"({condition}) and ({kwargs['row_condition']})"
            kwargs.update(row_condition=condition, condition_parser="pandas")
        scoped.append(_Scoped(spec, Spec(spec.type, kwargs, spec.severity, spec.why), loads))
    entity = ENTITIES[suite.name]
    present = set().union(*provided.values())
    data_columns = [c for c in entity.column_names if c in present]
    scopes = tuple(
        (flag, frozenset(lid for lid, cols in provided.items() if needed <= cols))
        for needed, flag in flags.items()
    )
    rows = Rows(
        suite=Suite(suite.name, suite.table, suite.key, tuple(s.run for s in scoped)),
        query=read_sql("validation/run_rows"),
        params={"paths": [e.path for _, e in members], "load_ids": [b.load_id for b, _ in members]},
        columns=(*data_columns, LINE_COLUMN, LOAD_COLUMN, *flags.values()),
        scopes=scopes,
    )
    # rows each expectation sees per load: a clean load's element count
    counts: list[dict[str, int]] = [{} for _ in scoped]

    def count(frame: pd.DataFrame) -> None:
        whole = frame[LOAD_COLUMN].value_counts().to_dict()
        for i, item in enumerate(scoped):
            condition = item.run.kwargs.get("row_condition")
            seen = (
                frame.query(condition)[LOAD_COLUMN].value_counts().to_dict() if condition else whole
            )
            for lid, n in seen.items():
                counts[i][str(lid)] = counts[i].get(str(lid), 0) + int(n)

    merged, template = validate_chunks(
        conn,
        rows,
        params,
        chunk_rows,
        result_format={
            "result_format": "COMPLETE",
            "partial_unexpected_count": SAMPLE_VALUES,
            "unexpected_index_column_names": [LOAD_COLUMN, LINE_COLUMN],
        },
        on_chunk=count,
    )
    if len(merged) != len(scoped):
        raise RuntimeError(f"{suite.name}: run-wide suite lost expectations")
    dirty: set[str] = set()
    for item, m in zip(scoped, merged, strict=True):
        if m.error is not None or (not m.success and not m.loads):
            # nothing points at a load (an error, a column's type): each load alone decides
            dirty |= item.loads
        dirty |= m.loads
    results: dict[str, list[ExpectationResult]] = {}
    for item, m, seen in zip(scoped, merged, counts, strict=True):
        for lid in sorted(item.loads):
            if m.element_count is None:
                observed, elements, unexpected = f"observed {show(m.observed)}", None, None
            else:
                elements = seen.get(lid, 0)
                observed, unexpected = f"0 of {elements} rows unexpected", 0
            results.setdefault(lid, []).append(
                ExpectationResult(
                    suite=suite.name,
                    expectation=item.spec.type,
                    column=item.spec.column_label,
                    kwargs=item.spec.kwargs,
                    severity=item.spec.severity,
                    success=True,
                    observed=observed,
                    element_count=elements,
                    unexpected_count=unexpected,
                    why=item.spec.why,
                )
            )
    return _RunSuite(results=results, dirty=dirty, template=template)
