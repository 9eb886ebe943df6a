"""The audit of a run's staged batches, before anything is published; never opens the warehouse.

A batch alone is audited suite by suite (:func:`audit_batch`); a run's batches together get one
GX validation per suite (:func:`audit_batches`), whose unexpected rows GX names by load, so each
load gets its own counts, samples and verdict from that one pass. The gate that records the
blocked ones is ``ingest.validation.gates``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from ingest.config import Settings
from ingest.model import ENTITIES
from ingest.parsing import SHARED_LOAD_COLUMN
from ingest.sqlfiles import in_memory, quote_identifier
from ingest.staging import LINE_COLUMN, StagedBatch, StagedEntity, staged_rows_sql
from ingest.validation import sql_verdicts
from ingest.validation.docs import render_page, write_index
from ingest.validation.frames import CHUNK_ROWS, LOAD_COLUMN, ROW_COLUMN, Rows
from ingest.validation.gx import (
    SAMPLE_VALUES,
    Merged,
    audit_tables,
    clean_result,
    expectation_result,
    mostly_success,
    plain,
    validate_chunks,
)
from ingest.validation.results import AuditReport, ExpectationResult
from ingest.validation.sql_verdicts import Decided
from ingest.validation.suites import (
    CANONICAL_SUITES,
    Spec,
    Suite,
    expectation_parameters,
    load_suite,
)

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


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
            query=query,
            params=params,
            columns=tuple(staged.columns),
            index=LINE_COLUMN,
        )
        for name, staged in batch.entities.items()
        if name in CANONICAL_SUITES and staged.rows
        for query, params in [_rows_query([(batch.load_id, staged)])]
    ]
    if not tables:
        return AuditReport(load_id=batch.load_id, checked_at=now or datetime.now(UTC))
    conn = in_memory()
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

    The rows of every batch are validated together, each row carrying its ``load_id`` and its
    position in its staged file; keys must be unique per load (as in a batch audited alone: a
    later load replaces a key). GX lists every unexpected row with its load, so each load gets
    exactly the results it would get alone: its rows counted, its unexpected rows counted and
    sampled in its file's order, its verdict by GX's own ``mostly`` rule on its counts; only
    the loads with such rows fail. A load is audited again on its own only where one pass
    cannot tell its result exactly: an expectation that errors or fails over whole columns (a
    column's type), a ``mostly`` of a kind not modelled here, or findings in a load longer than
    ``chunk_rows`` (whose samples a per-load audit takes chunk by chunk). Data Docs get one
    page per suite for the run.

    Returns:
        one report per batch, in order.
    """
    checked_at = now or datetime.now(UTC)
    reports = [AuditReport(load_id=b.load_id, checked_at=checked_at) for b in batches]
    found: dict[str, _RunSuite] = {}
    params = expectation_parameters(checked_at)
    conn = in_memory()
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
        # Arrow's allocator keeps freed chunks for reuse; a run's chunks (up to ``chunk_rows``
        # rows of every suite) would otherwise stay resident through the publish that follows
        pa.default_memory_pool().release_unused()
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
    # the loads by the columns their source provides: a run's pages have a few shapes
    shapes: dict[frozenset[str], list[str]] = {}
    for b, e in members:
        shapes.setdefault(frozenset(e.columns), []).append(b.load_id)
    every = frozenset(b.load_id for b, _ in members)

    def providing(needed: frozenset[str]) -> frozenset[str]:
        return frozenset(chain.from_iterable(v for k, v in shapes.items() if needed <= k))

    # a spec runs on the loads whose source provides its columns, as it would batch by batch
    flags: dict[frozenset[str], str] = {}
    scoped: list[_Scoped] = []
    for spec in suite.expectations:
        needed = frozenset(spec.columns) | frozenset(spec.requires)
        loads = providing(needed)
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
    present = set().union(*shapes)
    data_columns = [c for c in entity.column_names if c in present]
    scopes = tuple((flag, providing(needed)) for needed, flag in flags.items())
    rows = Rows(
        suite=Suite(suite.name, suite.table, suite.key, tuple(s.run for s in scoped)),
        query="",  # read in pieces, each its own query
        params={},
        columns=(*data_columns, LINE_COLUMN, LOAD_COLUMN, ROW_COLUMN, *flags.values()),
        scopes=scopes,
        pieces=_pieces(members, chunk_rows),
    )
    decided = _decided_in_sql(conn, rows, scoped, params) or _decided_by_gx(
        conn, rows, scoped, params, chunk_rows
    )
    merged, counts, considered = decided.merged, decided.counts, decided.considered
    if len(merged) != len(scoped):
        raise RuntimeError(f"{suite.name}: run-wide suite lost expectations")
    staged_rows = {b.load_id: e.rows for b, e in members}
    dirty: set[str] = set()
    results: dict[str, list[ExpectationResult]] = {lid: [] for lid in every}
    for i, (item, m) in enumerate(zip(scoped, merged, strict=True)):
        if m.error is not None or not m.attributed or (not m.success and not m.found):
            # nothing points at a load (an error, a column's type): each load alone decides
            dirty |= item.loads
            continue
        share = considered[i]
        # most loads' results read alike ("0 of 100 rows unexpected", a column's type that
        # passed): one shared result for each row count
        alike: dict[int | None, ExpectationResult | None] = {}
        for lid in item.loads:
            elements = counts[i].get(lid, 0)
            findings = m.found.get(lid)
            key = None if m.element_count is None else elements
            if findings or key not in alike:
                result = _load_result(
                    suite.name,
                    item.spec,
                    m,
                    lid,
                    elements,
                    None if share is None else share.get(lid, 0),
                )
                if not findings:
                    alike[key] = result
            else:
                result = alike[key]
            if result is None or (findings and staged_rows[lid] > chunk_rows):
                # a verdict this pass cannot give exactly (a ``mostly`` of an unknown kind), or
                # samples a per-load audit would take chunk by chunk: this load alone decides
                dirty.add(lid)
            else:
                results[lid].append(result)
    return _RunSuite(
        results={lid: r for lid, r in results.items() if r}, dirty=dirty, template=decided.template
    )


def _decided_in_sql(
    conn: duckdb.DuckDBPyConnection, rows: Rows, scoped: list[_Scoped], params: dict[str, Any]
) -> Decided | None:
    """The run's suite decided in DuckDB (``sql_verdicts``); None where GX decides it."""
    try:
        return sql_verdicts.decide(
            conn,
            rows,
            [item.spec for item in scoped],
            params,
            lambda spec: _considered_rows(spec) is not None,
        )
    except duckdb.Error as exc:
        log.warning(
            "%s: DuckDB could not decide the audit (%s); GX decides it", rows.suite.name, exc
        )
        return None


def _decided_by_gx(
    conn: duckdb.DuckDBPyConnection,
    rows: Rows,
    scoped: list[_Scoped],
    params: dict[str, Any],
    chunk_rows: int,
) -> Decided:
    """The run's suite decided by GX chunk by chunk, its unexpected rows named by load."""
    # rows each expectation sees per load (its element count), and the rows its ``mostly``
    # is a share of (GX's rows considered), where a per-load verdict needs them
    counts: list[dict[str, int]] = [{} for _ in scoped]
    considered: list[dict[str, int] | None] = [
        {} if _considered_rows(item.spec) is not None else None for item in scoped
    ]

    def count(frame: pd.DataFrame) -> None:
        whole = frame[LOAD_COLUMN].value_counts().to_dict()
        for i, item in enumerate(scoped):
            condition = item.run.kwargs.get("row_condition")
            domain = frame.query(condition) if condition else frame
            seen = domain[LOAD_COLUMN].value_counts().to_dict() if condition else whole
            _add_counts(counts[i], seen)
            share = considered[i]
            keep = _considered_rows(item.spec)
            if share is not None and keep is not None:
                # the load column alone is filtered: not a copy of the whole chunk
                _add_counts(share, domain[LOAD_COLUMN][keep(domain)].value_counts().to_dict())

    merged, template = validate_chunks(
        conn,
        rows,
        params,
        chunk_rows,
        result_format={
            "result_format": "COMPLETE",
            "partial_unexpected_count": SAMPLE_VALUES,
            "unexpected_index_column_names": [LOAD_COLUMN, LINE_COLUMN, ROW_COLUMN],
        },
        on_chunk=count,
    )
    return Decided(merged, counts, considered, template)


def _pieces(
    members: list[tuple[StagedBatch, StagedEntity]], chunk_rows: int
) -> tuple[tuple[str, dict[str, Any], int], ...]:
    """The run's loads, in order, as pieces of at most ``chunk_rows`` rows (a larger load alone).

    A key is unique per load, so a piece of whole loads is audited exactly; split by key
    instead, every chunk would read every staged file (50,000 of them for 5M API rows).
    """
    pieces: list[tuple[str, dict[str, Any], int]] = []
    piece: list[tuple[str, StagedEntity]] = []
    held = 0
    for batch, staged in members:
        if piece and held + staged.rows > chunk_rows:
            pieces.append((*_rows_query(piece), held))
            piece, held = [], 0
        piece.append((batch.load_id, staged))
        held += staged.rows
    if piece:
        pieces.append((*_rows_query(piece), held))
    return tuple(pieces)


def _rows_query(members: list[tuple[str, StagedEntity]]) -> tuple[str, dict[str, Any]]:
    """The staged rows of these (load id, staged entity) pairs, each naming its load in
    ``LOAD_COLUMN`` and its position in it in ``ROW_COLUMN``; and the query's parameters."""
    rows, params = staged_rows_sql(members)
    load = quote_identifier(SHARED_LOAD_COLUMN)
    named = quote_identifier(LOAD_COLUMN)
    return f"select * exclude ({load}), {load} as {named} from ({rows})", params


def _add_counts(into: dict[str, int], seen: dict[Any, Any]) -> None:
    for lid, n in seen.items():
        into[str(lid)] = into.get(str(lid), 0) + int(n)


# expectations whose ``mostly`` is a share of the non-NULL values of their column
_NON_NULL_SHARE = frozenset(
    {"expect_column_values_to_be_between", "expect_column_values_to_be_in_set"}
)
# and those whose ``mostly`` is a share of every row of their domain
_ROW_SHARE = frozenset({"expect_column_values_to_not_be_null"})
# the rows of a column pair GX drops before it counts, by ``ignore_row_if`` (its default first)
_PAIR_IGNORED = {"both_values_are_missing": "all", "either_value_is_missing": "any"}


def _considered_rows(spec: Spec) -> Callable[[pd.DataFrame], Any] | None:
    """The rows GX's ``mostly`` of ``spec`` is a share of, as a row mask of its domain.

    ``None`` where no mask is needed (no ``mostly``, or a share of every row) or where the kind
    of expectation is not modelled here (a load with findings is then audited alone).
    """
    if spec.mostly >= 1.0 or spec.type in _ROW_SHARE:
        return None
    kw = spec.kwargs
    if spec.type in _NON_NULL_SHARE:
        column = kw["column"]
        return lambda frame: frame[column].notna()
    if spec.type == "expect_column_pair_values_a_to_be_greater_than_b":
        pair = [kw["column_A"], kw["column_B"]]
        how = _PAIR_IGNORED.get(kw.get("ignore_row_if", "both_values_are_missing"))
        if how == "all":
            return lambda frame: frame[pair].notna().any(axis=1)
        if how == "any":
            return lambda frame: frame[pair].notna().all(axis=1)
        return lambda frame: frame[pair[0]].isna() | frame[pair[0]].notna()
    return None


def _load_result(
    suite: str,
    spec: Spec,
    run: Merged,
    load_id: str,
    elements: int,
    considered: int | None,
) -> ExpectationResult | None:
    """One load's result of an expectation, from the run-wide pass; ``None`` if not exact here.

    Counts, samples and source lines are the load's own; the samples are its first unexpected
    rows in the order of its staged file, as a per-load audit lists them; the verdict is GX's
    own ``mostly`` rule on the load's counts.
    """
    if run.element_count is None:
        # an aggregate expectation (a column's type) that passed for the whole run
        return expectation_result(suite, spec, _met(spec, observed=run.observed))
    if not run.found.get(load_id):
        return clean_result(suite, spec, elements)
    found = sorted(run.found[load_id], key=lambda f: f[0])
    one = _met(spec)
    one.element_count, one.unexpected_count = elements, len(found)
    one.samples = [value for _, _, value in found[:SAMPLE_VALUES]]
    one.indexes = [plain(line) for _, line, _ in found[:SAMPLE_VALUES]]
    if spec.mostly >= 1.0:
        one.success = False
    elif spec.type in _ROW_SHARE:
        one.success = mostly_success(elements, len(found), spec.mostly)
    elif considered is not None:
        one.success = mostly_success(considered, len(found), spec.mostly)
    else:
        return None
    return expectation_result(suite, spec, one)


def _met(spec: Spec, observed: Any = None) -> Merged:
    one = Merged(spec)
    one.observed = observed
    return one
