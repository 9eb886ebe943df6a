"""The Great Expectations runner: one quiet ephemeral context per process, suites validated chunk
by chunk, each expectation's results merged over the chunks of a table.

GX validates pandas DataFrames here: its SQL datasource over duckdb-engine fails every metric
upstream (great_expectations issues 10738, 11579). GX is imported on first use only: the import
takes seconds and logs thousands of lines, and nothing that parses a DAG or runs
``ingest --help`` should pay for it. GX's fingerprint of each DataFrame (metadata no
expectation reads) is switched off, and type-list checks run once per table on its exact types.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from ingest.config import Settings
from ingest.staging import LINE_COLUMN
from ingest.validation.docs import render_page, write_index
from ingest.validation.frames import (
    LOAD_COLUMN,
    ROW_COLUMN,
    Rows,
    chunks,
    schema_frame,
    schema_specs,
    to_frame,
)
from ingest.validation.results import AuditReport, ExpectationResult
from ingest.validation.suites import Spec, Suite, expectation_parameters

if TYPE_CHECKING:
    import pandas as pd

# failing values kept per expectation, in results and in the Data Docs
SAMPLE_VALUES = 20


def _quiet_gx() -> None:
    """Keep GX quiet: no analytics, no progress bars, no internal debug logging even with -v."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    for name in ("great_expectations", "posthog", "tzlocal"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module=r"great_expectations(\..*)?")


def preload() -> None:
    """Import GX quietly without creating a context (for callers that time the work apart).

    What the process holds by then is frozen out of the garbage collector's reach (see
    ``_freeze_imports``).
    """
    _quiet_gx()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations  # noqa: F401
        from great_expectations.validator.v1_validator import Validator  # noqa: F401

    # some gx modules set their own level at import (INFO): override after importing
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("great_expectations"):
            logging.getLogger(name).setLevel(logging.WARNING)
    _freeze_imports()


def _freeze_imports() -> None:
    # why: GX's import leaves some 200,000 objects (three in four of the process's) that live
    # as long as it does, and every full collection walked them all: a load of 10,000 pages
    # makes several, 0.4 s of a 2.4 s replay. Frozen, the collector walks only what the load
    # made. Garbage the import left is kept too: once per process, and small.
    global _imports_frozen
    if not _imports_frozen:
        gc.freeze()
        _imports_frozen = True


_imports_frozen = False


@dataclass(frozen=True)
class _Plan:
    """How one suite runs on one source: its specs, and GX suites over rows and over the schema.

    A type-list expectation on a column whose pandas type is not ``object`` is decided by the
    column's type alone (GX reads ``table.column_types``): it runs once per table on an empty
    frame with the table's exact types. Everything else runs on every chunk of rows, whose
    columns are converted to the types GX compares vectorised (see ``frames.to_frame``).
    """

    specs: tuple[Spec, ...]
    rows: Any
    schema: Any
    # expectation id -> position in specs
    positions: dict[str, int]


class GxSession:
    """One ephemeral GX context per process, with a pandas DataFrame asset to validate chunks."""

    def __init__(self) -> None:
        preload()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.execution_engine import pandas_execution_engine

        # GX fingerprints every DataFrame it is given (a hash of all its values, kept as batch
        # metadata, skipped above HASH_THRESHOLD bytes): no expectation reads it, and hashing the
        # text columns of a chunk cost more than all its expectations together
        if hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
            pandas_execution_engine.HASH_THRESHOLD = 0
        self.gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = self.context.data_sources.add_pandas("staged").add_dataframe_asset("chunk")
        self.batch_definition = asset.add_batch_definition_whole_dataframe("whole chunk")
        self._plans: dict[tuple[str, tuple[str, ...], str, tuple[int, ...]], _Plan] = {}

    def plan(self, suite: Suite, columns: tuple[str, ...], schema: tuple[int, ...]) -> _Plan:
        """The GX suites for a source; ``schema`` are the positions of schema-level specs."""
        # a run-wide suite rewrites arguments (scope conditions), so the specs are in the key
        signature = json.dumps([(s.type, s.kwargs) for s in suite.expectations], default=str)
        cache_key = (suite.name, columns, signature, schema)
        if cache_key not in self._plans:
            from great_expectations.expectations.expectation_configuration import (
                ExpectationConfiguration,
            )

            specs = suite.provided(columns)
            # results are matched back to specs by id
            ids = [str(uuid.uuid4()) for _ in specs]
            parts = [self.gx.ExpectationSuite(name=suite.name) for _ in range(2)]
            with warnings.catch_warnings():
                # string row conditions are deprecated in GX 1.9+ but remain supported in 1.x
                warnings.simplefilter("ignore")
                for i, spec in enumerate(specs):
                    parts[i in schema].add_expectation_configuration(
                        ExpectationConfiguration(
                            id=ids[i],
                            type=spec.type,
                            kwargs=spec.kwargs,
                            meta={"severity": spec.severity, "why": spec.why},
                        ),
                        # the default ("domain") would merge two bounds on one column into one
                        match_type="runtime",
                    )
            if sum(len(p.expectations) for p in parts) != len(specs):
                raise ValueError(f"suite {suite.name} repeats an expectation with equal arguments")
            self._plans[cache_key] = _Plan(
                specs=tuple(specs),
                rows=parts[0] if parts[0].expectations else None,
                schema=parts[1] if parts[1].expectations else None,
                positions={x: i for i, x in enumerate(ids)},
            )
        return self._plans[cache_key]

    def validate(
        self,
        gx_suite: Any,
        frame: pd.DataFrame,
        params: dict[str, Any],
        result_format: dict[str, Any] | None = None,
    ) -> Any:
        from great_expectations.validator.v1_validator import Validator

        # what Batch.validate does, minus building (and fingerprinting) the batch a second time
        validator = Validator(
            batch_definition=self.batch_definition,
            batch_parameters={"dataframe": frame},
            result_format=result_format
            or {"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_VALUES},
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return validator.validate_expectation_suite(gx_suite, params)


@cache
def session() -> GxSession:
    """The process's GX session, created on first use."""
    return GxSession()


class Merged:
    """Adds up one expectation's results over the chunks of a table."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.success = True
        self.element_count: int | None = None
        self.unexpected_count: int | None = None
        self.missing_count: int | None = None
        self.samples: list[Any] = []
        self.indexes: list[Any] = []
        self.observed: Any = None
        self.error: str | None = None
        # run-wide audits: each unexpected row as (file row, source line, value) by its load,
        # and whether every unexpected row GX counted was named (attributed) to its load
        self.found: dict[str, list[tuple[int, Any, Any]]] = {}
        self.attributed = True
        # columns of an integer type: GX sees them as float64 where a chunk has NULLs, and a
        # sample shows -1, not -1.0, whatever the other rows of its chunk hold
        self.ints: frozenset[str] = frozenset()

    @property
    def loads(self) -> set[str]:
        """Loads with at least one unexpected row (run-wide audits only)."""
        return set(self.found)

    def add(self, result: Any) -> None:
        error = _exception_message(result.exception_info)
        if error is not None:
            self.error = error
        self.success = self.success and bool(result.success) and self.error is None
        res = result.result or {}
        self._attribute(res)
        for name in ("element_count", "unexpected_count", "missing_count"):
            if name in res and res[name] is not None:
                setattr(self, name, (getattr(self, name) or 0) + int(res[name]))
        room = SAMPLE_VALUES - len(self.samples)
        if room > 0:
            self.samples.extend(
                self.sample(v) for v in res.get("partial_unexpected_list", [])[:room]
            )
            self.indexes.extend(
                _row_ref(i) for i in res.get("partial_unexpected_index_list", [])[:room]
            )
        if "observed_value" in res and (self.observed is None or not result.success):
            self.observed = res["observed_value"]

    def _attribute(self, res: dict[str, Any]) -> None:
        """Run-wide audits: file each unexpected row GX names under its load."""
        refs = res.get("unexpected_index_list") or []
        named = 0
        for ref in refs:
            if isinstance(ref, dict) and LOAD_COLUMN in ref:
                row = ref.get(ROW_COLUMN)
                if row is None:
                    continue
                self.found.setdefault(str(ref[LOAD_COLUMN]), []).append(
                    (int(row), ref.get(LINE_COLUMN), self.sample(self._value(ref)))
                )
                named += 1
        # a row GX counted but did not name (per-load audits name none: unused there)
        self.attributed = self.attributed and named == int(res.get("unexpected_count") or 0)

    def _value(self, ref: dict[str, Any]) -> Any:
        """The unexpected value GX lists for a row, taken from the row's index entry."""
        kw = self.spec.kwargs
        if "column" in kw:
            return ref.get(kw["column"])
        if "column_A" in kw:
            return (ref.get(kw["column_A"]), ref.get(kw["column_B"]))
        return {c: ref.get(c) for c in self.spec.columns if c != LOAD_COLUMN}

    def sample(self, value: Any) -> Any:
        """A failing value as shown and stored: plain Python, integer columns as integers."""
        kw = self.spec.kwargs
        if isinstance(value, dict):
            return {k: self._number(k, v) for k, v in value.items() if k != LOAD_COLUMN}
        if isinstance(value, tuple) and "column_A" in kw and len(value) == 2:
            pair = (kw["column_A"], kw["column_B"])
            return tuple(self._number(c, v) for c, v in zip(pair, value, strict=True))
        if "column" in kw:
            return self._number(kw["column"], value)
        return plain(value)

    def _number(self, column: str, value: Any) -> Any:
        found = plain(value)
        return _whole(found) if column in self.ints else found

    def gx_result(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        if self.element_count is not None:
            unexpected = self.unexpected_count or 0
            merged.update(
                element_count=self.element_count,
                unexpected_count=unexpected,
                unexpected_percent=100.0 * unexpected / self.element_count
                if self.element_count
                else 0.0,
                partial_unexpected_list=self.samples,
                partial_unexpected_index_list=self.indexes,
            )
            if self.missing_count is not None:
                merged["missing_count"] = self.missing_count
        if self.observed is not None:
            merged["observed_value"] = self.observed
        return merged

    def describe(self) -> str:
        if self.error:
            return f"error: {self.error}"
        if self.element_count is not None:
            text = rows_unexpected(self.unexpected_count or 0, self.element_count)
            if self.samples:
                shown = ", ".join(show(v) for v in self.samples[:5])
                text += f"; e.g. {shown}"
                if self.indexes and self.spec.type != "expect_compound_columns_to_be_unique":
                    text += f" (rows {', '.join(str(i) for i in self.indexes[:5])})"
            return text
        return f"observed {show(self.observed)}"


def plain(value: Any) -> Any:
    """Missing values as None and numpy scalars as Python ones (GX's renderer trips on pd.NA)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if value is None:
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):  # lists and other non-scalars
        pass
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _whole(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _row_ref(index: Any) -> Any:
    """A failing row's source line: GX gives ``{column: value, index_name: line}`` for it."""
    if isinstance(index, dict):
        if LOAD_COLUMN in index:
            # run-wide audits: a line is only unique within its load
            return f"{index[LOAD_COLUMN]}:{plain(index.get(LINE_COLUMN))}"
        index = index.get(LINE_COLUMN, index)
    return plain(index)


def _exception_message(info: Any) -> str | None:
    """GX reports errors either flat or keyed by metric; a failed metric is a failed check."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def show(value: Any) -> str:
    if value is None:
        return "NULL"
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return "NULL"
    except ImportError:  # pragma: no cover - pandas ships with pyarrow's pandas extras
        pass
    return repr(value) if isinstance(value, str) else str(value)


def validate_chunks(
    conn: duckdb.DuckDBPyConnection,
    rows: Rows,
    params: dict[str, Any],
    chunk_rows: int,
    *,
    result_format: dict[str, Any] | None = None,
    on_chunk: Callable[[pd.DataFrame], None] | None = None,
) -> tuple[list[Merged], Any]:
    """Validate a table chunk by chunk; merged results per spec and a merged GX result."""
    gx = session()
    if not rows.suite.provided(rows.columns):
        return [], None
    plan: _Plan | None = None
    merged: list[Merged] = []
    results: dict[int, Any] = {}
    template: Any = None

    def add(suite_result: Any) -> None:
        assert plan is not None
        for result in suite_result.results:
            i = plan.positions[result.expectation_config.id]
            merged[i].add(result)
            results[i] = result

    for table in chunks(conn, rows, chunk_rows):
        if plan is None:
            specs = rows.suite.provided(rows.columns)
            plan = gx.plan(rows.suite, rows.columns, schema_specs(specs, table.schema))
            merged = merged_over(plan.specs, table.schema)
            if plan.schema is not None:
                # one check of the table's types, not one per chunk
                template = gx.validate(
                    plan.schema, schema_frame(table.schema), params, result_format
                )
                add(template)
        frame = to_frame(table, rows.index)
        if on_chunk is not None:
            on_chunk(frame)
        if plan.rows is not None:
            template = gx.validate(plan.rows, frame, params, result_format)
            add(template)
    if plan is None or template is None:
        return [], None
    # one GX result for the Data Docs: the last chunk's, with every expectation merged
    template.results = [results[i] for i in sorted(results)]
    for i, result in results.items():
        result.success = merged[i].success
        result.result = merged[i].gx_result()
    template.success = all(m.success for m in merged)
    template.statistics.update(suite_statistics(merged))
    return merged, template


def merged_over(specs: Sequence[Spec], schema: pa.Schema) -> list[Merged]:
    """An empty merge per spec for a table of ``schema``, knowing its integer columns."""
    merged = [Merged(spec) for spec in specs]
    for m in merged:
        m.ints = frozenset(
            c
            for c in m.spec.columns
            if c in schema.names and pa.types.is_integer(schema.field(c).type)
        )
    return merged


def suite_statistics(merged: Sequence[Merged]) -> dict[str, Any]:
    """GX's statistics of a suite's result, from its expectations merged."""
    done = sum(m.success for m in merged)
    return {
        "evaluated_expectations": len(merged),
        "successful_expectations": done,
        "unsuccessful_expectations": len(merged) - done,
        "success_percent": 100.0 * done / len(merged) if merged else 100.0,
    }


def mostly_success(considered: int, unexpected: int, mostly: float) -> bool:
    """GX's own rule: the share of considered rows that met the expectation reaches ``mostly``."""
    from great_expectations.expectations.expectation import _mostly_success as gx_rule

    return bool(gx_rule(considered, unexpected, mostly))


def expectation_result(suite: str, spec: Spec, merged: Merged) -> ExpectationResult:
    return _result(
        suite,
        spec,
        merged.success,
        merged.describe(),
        merged.element_count,
        merged.unexpected_count,
    )


def clean_result(suite: str, spec: Spec, elements: int) -> ExpectationResult:
    """``expectation_result`` of an expectation that found none of ``elements`` rows (most
    loads of a run: built without merging anything)."""
    return _result(suite, spec, True, rows_unexpected(0, elements), elements, 0)


def _result(
    suite: str,
    spec: Spec,
    success: bool,
    observed: str,
    elements: int | None,
    unexpected: int | None,
) -> ExpectationResult:
    return ExpectationResult(
        suite=suite,
        expectation=spec.type,
        column=spec.column_label,
        kwargs=spec.kwargs,
        severity=spec.severity,
        success=success,
        observed=observed,
        element_count=elements,
        unexpected_count=unexpected,
        why=spec.why,
    )


def rows_unexpected(unexpected: int, elements: int) -> str:
    return f"{unexpected} of {elements} rows unexpected"


def _run_suite(
    conn: duckdb.DuckDBPyConnection,
    rows: Rows,
    params: dict[str, Any],
    chunk_rows: int,
) -> tuple[list[ExpectationResult], Any]:
    """Validate a table chunk by chunk; return merged results and a merged GX result for docs."""
    merged, template = validate_chunks(conn, rows, params, chunk_rows)
    return [expectation_result(rows.suite.name, m.spec, m) for m in merged], template


def audit_tables(
    conn: duckdb.DuckDBPyConnection,
    load_id: str,
    tables: list[Rows],
    *,
    settings: Settings | None,
    chunk_rows: int,
    now: datetime | None,
) -> AuditReport:
    """Validate each table against its suite; Data Docs pages when ``settings`` are given."""
    checked_at = now or datetime.now(UTC)
    report = AuditReport(load_id=load_id, checked_at=checked_at)
    params = expectation_parameters(checked_at)
    for rows in tables:
        results, gx_result = _run_suite(conn, rows, params, chunk_rows)
        report.results.extend(results)
        if gx_result is not None and settings is not None:
            report.docs.append(str(render_page(settings, load_id, rows.suite.name, gx_result)))
    if settings is not None and report.docs:
        write_index(settings)
    return report
