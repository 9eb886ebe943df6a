"""Audit staged batches and rebuilt marts against the expectation suites in ``expectations/``.

Great Expectations validates pandas DataFrames here: its SQL datasource over duckdb-engine fails
every metric upstream (great_expectations issues 10738, 11579). DuckDB reads the rows in bounded
chunks split by a hash of the table's key, so every copy of a key lands in the same chunk and
per-chunk uniqueness equals uniqueness of the whole batch. GX is imported on first use only: the
import takes seconds and logs thousands of lines, and nothing that parses a DAG or runs
``ingest --help`` should pay for it.

Speed (issue #9): the cost of a GX audit is in what it is handed, not in the expectations. A run
is audited once (one context, one validation per suite and chunk); only the columns a suite
names are read; columns reach pandas in the types GX compares vectorised (see ``_vectorised``),
with type-list checks run once per table on its exact types; repetitive text is categorical;
GX's fingerprint of each DataFrame (metadata no expectation reads) is switched off; Data Docs
are rendered once per suite and run.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import math
import os
import re
import shutil
import statistics
import tomllib
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, time
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ingest.backends import end_transaction, retry_on_conflict
from ingest.config import Settings
from ingest.delivery_accounts import delivery_accounts
from ingest.errors import IngestError
from ingest.model import ENTITIES
from ingest.platforms import names as platform_names
from ingest.publish import record_identity, record_load
from ingest.staging import EARLIEST_DAY, FUTURE_SKEW, LINE_COLUMN, StagedBatch, StagedEntity
from ingest.warehouse import open_warehouse

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

SUITES_DIR = Path(__file__).parent / "expectations"
TIER_RULES = Path(__file__).parent / "tier_rules.toml"
CANONICAL_SUITES: tuple[str, ...] = ("accounts", "account_daily", "posts", "post_daily")
MART_SUITES: tuple[str, ...] = ("creator_engagement_daily", "creator_tier_daily")
VOLUME_SUITE = "batch_volume"
CRITICAL = "critical"
WARNING = "warning"
SEVERITIES = (CRITICAL, WARNING)
# rows per DataFrame handed to GX: bounds memory (a chunk of 1M rows of the columns a suite
# reads is ~100 MB in pandas); every further chunk costs one more scan of the staged files
CHUNK_ROWS = 1_000_000
# failing values kept per expectation, in results and in the Data Docs
SAMPLE_VALUES = 20
DOCS_FOLDER = "data_docs"
# rows of a chunk's text column sampled to decide whether it becomes categorical
DICTIONARY_SAMPLE = 10_000
# the column a run-wide audit adds to tell each row's load
LOAD_COLUMN = "load_id"


# ---- suites (data files)


@dataclass(frozen=True)
class Spec:
    """One expectation of a suite file: a GX expectation type, its arguments and a severity."""

    type: str
    kwargs: dict[str, Any]
    severity: str
    why: str = ""
    requires: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        kw = self.kwargs
        if "column" in kw:
            return (kw["column"],)
        if "column_list" in kw:
            return tuple(kw["column_list"])
        if "column_A" in kw:
            return (kw["column_A"], kw["column_B"])
        return ()

    @property
    def column_label(self) -> str | None:
        return ",".join(self.columns) or None


@dataclass(frozen=True)
class Suite:
    """A suite file: the table it describes, its key and its expectations."""

    name: str
    table: str
    key: tuple[str, ...]
    expectations: tuple[Spec, ...]


@cache
def load_suite(name: str) -> Suite:
    """Read ``expectations/<name>.json``; templated entries are expanded (one per tier rule)."""
    data = json.loads((SUITES_DIR / f"{name}.json").read_text(encoding="utf-8"))
    specs: list[Spec] = []
    for entry in data["expectations"]:
        severity = entry["severity"]
        if severity not in SEVERITIES:
            raise ValueError(f"{name}: severity must be one of {SEVERITIES}, got {severity!r}")
        variants = [entry["kwargs"]]
        if entry.get("for_each") == "tier_rule":
            variants = [_fill(entry["kwargs"], rule) for rule in tier_bounds()]
        elif "for_each" in entry:
            raise ValueError(f"{name}: unknown for_each {entry['for_each']!r}")
        specs.extend(
            Spec(
                type=entry["type"],
                kwargs=kwargs,
                severity=severity,
                why=entry.get("why", ""),
                requires=tuple(entry.get("requires", ())),
            )
            for kwargs in variants
        )
    key = next(
        (
            tuple(s.kwargs["column_list"])
            for s in specs
            if s.type.endswith("compound_columns_to_be_unique")
        ),
        (),
    )
    return Suite(name=data["suite"], table=data["table"], key=key, expectations=tuple(specs))


def tier_bounds() -> list[dict[str, Any]]:
    """Each rule version's tiers with the followers a row of that tier may have.

    With a hysteresis margin m a tier is held until followers pass a boundary by more than m:
    an account keeps tier T from ceil(min * (1 - m)) up to ceil(next_min * (1 + m)) - 1.
    """
    data = tomllib.loads(TIER_RULES.read_text(encoding="utf-8"))
    bounds = []
    for version, spec in data["versions"].items():
        # exact arithmetic: 5000 * 1.05 must be 5250, not 5250.000000000001
        margin = Fraction(str(spec.get("hysteresis_pct", 0))) / 100
        for tier in spec["tiers"]:
            top = tier.get("max")
            bounds.append(
                {
                    "rule_version": version,
                    "tier": tier["tier"],
                    "min_followers": tier["min"],
                    "max_followers": top,
                    "min_allowed": math.ceil(tier["min"] * (1 - margin)),
                    "max_allowed": None if top is None else math.ceil((top + 1) * (1 + margin)) - 1,
                }
            )
    return bounds


def _fill(kwargs: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Template arguments: ``"{name}"`` alone becomes the value itself, otherwise text."""
    filled: dict[str, Any] = {}
    for name, value in kwargs.items():
        if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
            inner = value[1:-1]
            filled[name] = values[inner] if inner in values else value.format(**values)
        elif isinstance(value, str):
            filled[name] = value.format(**values)
        else:
            filled[name] = value
    return filled


@cache
def _volume_checks() -> tuple[dict[str, Any], ...]:
    data = json.loads((SUITES_DIR / f"{VOLUME_SUITE}.json").read_text(encoding="utf-8"))
    return tuple(data["checks"])


def expectation_parameters(now: datetime) -> dict[str, Any]:
    """Values for the ``$PARAMETER`` references in the suites, as of ``now``."""
    latest = now.astimezone(UTC) + FUTURE_SKEW
    rules = tier_bounds()
    return {
        "platforms": list(platform_names()),
        "earliest_timestamp": datetime.combine(EARLIEST_DAY, time(), UTC).isoformat(),
        "latest_timestamp": latest.isoformat(),
        # days reach pandas as naive datetime64: a bare date string would be parsed as a date,
        # which pandas refuses to compare with a timestamp
        "earliest_day": datetime.combine(EARLIEST_DAY, time()).isoformat(),
        "latest_day": datetime.combine(latest.date(), time()).isoformat(),
        "tiers": sorted({r["tier"] for r in rules}),
        "tier_rule_versions": sorted({r["rule_version"] for r in rules}),
    }


# ---- results


@dataclass
class ExpectationResult:
    """The outcome of one expectation over a whole table (all chunks)."""

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


# ---- GX session


def _quiet_gx() -> None:
    """Keep GX quiet: no analytics, no progress bars, no internal debug logging even with -v."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    for name in ("great_expectations", "posthog", "tzlocal"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module=r"great_expectations(\..*)?")


def preload() -> None:
    """Import GX quietly without creating a context (for callers that time the work apart)."""
    _quiet_gx()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations  # noqa: F401
        from great_expectations.validator.v1_validator import Validator  # noqa: F401

    # some gx modules set their own level at import (INFO): override after importing
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("great_expectations"):
            logging.getLogger(name).setLevel(logging.WARNING)


@dataclass(frozen=True)
class _Plan:
    """How one suite runs on one source: its specs, and GX suites over rows and over the schema.

    A type-list expectation on a column whose pandas type is not ``object`` is decided by the
    column's type alone (GX reads ``table.column_types``): it runs once per table on an empty
    frame with the table's exact types. Everything else runs on every chunk of rows, whose
    columns are converted to the types GX compares vectorised (see :func:`_frame`).
    """

    specs: tuple[Spec, ...]
    rows: Any
    schema: Any
    # expectation id -> position in specs
    positions: dict[str, int]


class _Gx:
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

    @staticmethod
    def specs(suite: Suite, columns: tuple[str, ...]) -> list[Spec]:
        """The expectations whose columns the source provides."""
        present = set(columns)
        return [s for s in suite.expectations if set(s.columns) | set(s.requires) <= present]

    def plan(self, suite: Suite, columns: tuple[str, ...], schema: tuple[int, ...]) -> _Plan:
        """The GX suites for a source; ``schema`` are the positions of schema-level specs."""
        # a run-wide suite rewrites arguments (scope conditions), so the specs are in the key
        signature = json.dumps([(s.type, s.kwargs) for s in suite.expectations], default=str)
        cache_key = (suite.name, columns, signature, schema)
        if cache_key not in self._plans:
            from great_expectations.expectations.expectation_configuration import (
                ExpectationConfiguration,
            )

            specs = self.specs(suite, columns)
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
def _gx() -> _Gx:
    return _Gx()


# ---- reading rows in chunks


@dataclass(frozen=True)
class _Rows:
    """Rows of one table to audit: a DuckDB query, the columns that carry data, an index."""

    suite: Suite
    query: str
    params: dict[str, Any]
    columns: tuple[str, ...]
    index: str | None = None


def _chunks(conn: duckdb.DuckDBPyConnection, rows: _Rows, chunk_rows: int) -> Iterator[pa.Table]:
    count = conn.execute(f"select count(*) from ({rows.query})", rows.params).fetchone()
    total = int(count[0]) if count else 0
    if total == 0:
        return
    parts = max(1, math.ceil(total / chunk_rows))
    selected = _used(rows.suite, rows.columns)
    if rows.index and rows.index not in selected:
        selected.append(rows.index)
    cols = ", ".join(_q(c) for c in selected)
    if parts == 1:
        yield conn.execute(f"select {cols} from ({rows.query})", rows.params).to_arrow_table()
        return
    key = ", ".join(_q(c) for c in rows.suite.key) or "1"
    for part in range(parts):
        # rows with one key hash to one part: duplicates never straddle two chunks; the
        # numbers are literals, as parameters they make DuckDB's filter several times slower
        table = conn.execute(
            f"select {cols} from ({rows.query}) where hash({key}) % {int(parts)} = {int(part)}",
            rows.params,
        ).to_arrow_table()
        if table.num_rows:
            yield table


def _used(suite: Suite, columns: tuple[str, ...]) -> list[str]:
    """The columns an audit reads: those its expectations name, check or filter on.

    Text a suite never looks at (captions, permalinks) stays in the Parquet file: converting it
    to pandas, fingerprinting it and copying it for every expectation cost more than the checks.
    """
    used = {LINE_COLUMN, LOAD_COLUMN}
    for spec in _Gx.specs(suite, columns):
        used.update(spec.columns, spec.requires)
        condition = str(spec.kwargs.get("row_condition", ""))
        used.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", condition))
    return [c for c in columns if c in used]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _faithful_types(kind: pa.DataType) -> Any:
    """The pandas type that tells a column's type as staged: nullable integers stay integers."""
    import pandas as pd

    return {
        pa.int64(): pd.Int64Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }.get(kind)


def _schema_frame(schema: pa.Schema) -> pd.DataFrame:
    """No rows, exact types: what a type-list expectation looks at."""
    return schema.empty_table().to_pandas(types_mapper=_faithful_types, date_as_object=False)


def _vectorised(kind: pa.DataType) -> pa.DataType | None:
    """The Arrow type to convert a column to before pandas, so GX compares it vectorised.

    GX 1.x compares ``between`` bounds vectorised only on numpy ``int64``/``float64`` and on
    nanosecond (or zoned) datetimes; nullable ``Int64``, ``int32`` and millisecond dates go
    row by row through Python. Integers become ``int64`` (``float64`` where a chunk has NULLs:
    exact for every bound up to 2**53, so no comparison changes) and dates nanosecond datetimes.
    """
    if pa.types.is_integer(kind) and kind != pa.int64():
        return pa.int64()
    if pa.types.is_date(kind) or (pa.types.is_timestamp(kind) and kind.tz is None):
        return pa.timestamp("ns")
    return None


def _repetitive(column: pa.ChunkedArray) -> bool:
    """Whether a text column repeats a few values (platform, load): judged on its first rows."""
    sample = column.slice(0, DICTIONARY_SAMPLE)
    return len(sample) > 0 and len(pc.unique(sample)) * 10 <= len(sample)


def _frame(table: pa.Table, index: str | None) -> pd.DataFrame:
    import pandas as pd

    for i, field_ in enumerate(table.schema):
        if pa.types.is_string(field_.type) or pa.types.is_large_string(field_.type):
            if _repetitive(table.column(i)):
                # categorical: uniqueness (pandas factorizes every key column) and membership
                # work on small integer codes instead of hashing each text value again
                table = table.set_column(i, field_.name, pc.dictionary_encode(table.column(i)))
            continue
        target = _vectorised(field_.type)
        if target is not None:
            # out of range (a date past 2262, a huge unsigned): left as is, compared row by row
            with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
                table = table.set_column(i, field_.name, table.column(i).cast(target))
    frame = table.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get, date_as_object=False)
    if index:
        # failing rows are then reported by their source line
        frame = frame.set_index(index)
    return frame


def _schema_specs(specs: list[Spec], schema: pa.Schema) -> tuple[int, ...]:
    """Positions of the type-list specs GX decides from the column's pandas type alone."""
    frame = _schema_frame(schema)
    return tuple(
        i
        for i, spec in enumerate(specs)
        if spec.type == "expect_column_values_to_be_in_type_list"
        and spec.columns[0] in frame.columns
        and frame[spec.columns[0]].dtype != object
    )


# ---- running suites


class _Merged:
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
        # loads with at least one unexpected row (run-wide audits only)
        self.loads: set[str] = set()
        # an integer column GX saw as float64 (it has NULLs): show -1, not -1.0
        self.whole = False

    def add(self, result: Any) -> None:
        error = _exception_message(result.exception_info)
        if error is not None:
            self.error = error
        self.success = self.success and bool(result.success) and self.error is None
        res = result.result or {}
        for ref in res.get("unexpected_index_list") or ():
            if isinstance(ref, dict) and LOAD_COLUMN in ref:
                self.loads.add(str(ref[LOAD_COLUMN]))
        for name in ("element_count", "unexpected_count", "missing_count"):
            if name in res and res[name] is not None:
                setattr(self, name, (getattr(self, name) or 0) + int(res[name]))
        room = SAMPLE_VALUES - len(self.samples)
        if room > 0:
            self.samples.extend(
                _whole(_plain(v)) if self.whole else _plain(v)
                for v in res.get("partial_unexpected_list", [])[:room]
            )
            self.indexes.extend(
                _row_ref(i) for i in res.get("partial_unexpected_index_list", [])[:room]
            )
        if "observed_value" in res and (self.observed is None or not result.success):
            self.observed = res["observed_value"]

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
            text = f"{self.unexpected_count or 0} of {self.element_count} rows unexpected"
            if self.samples:
                shown = ", ".join(_show(v) for v in self.samples[:5])
                text += f"; e.g. {shown}"
                if self.indexes and self.spec.type != "expect_compound_columns_to_be_unique":
                    text += f" (rows {', '.join(str(i) for i in self.indexes[:5])})"
            return text
        return f"observed {_show(self.observed)}"


def _plain(value: Any) -> Any:
    """Missing values as None and numpy scalars as Python ones (GX's renderer trips on pd.NA)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
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
            return f"{index[LOAD_COLUMN]}:{_plain(index.get(LINE_COLUMN))}"
        index = index.get(LINE_COLUMN, index)
    return _plain(index)


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


def _show(value: Any) -> str:
    if value is None:
        return "NULL"
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return "NULL"
    except ImportError:  # pragma: no cover - pandas ships with pyarrow's pandas extras
        pass
    return repr(value) if isinstance(value, str) else str(value)


def _validate_chunks(
    conn: duckdb.DuckDBPyConnection,
    rows: _Rows,
    params: dict[str, Any],
    chunk_rows: int,
    *,
    result_format: dict[str, Any] | None = None,
    on_chunk: Callable[[pd.DataFrame], None] | None = None,
) -> tuple[list[_Merged], Any]:
    """Validate a table chunk by chunk; merged results per spec and a merged GX result."""
    session = _gx()
    if not session.specs(rows.suite, rows.columns):
        return [], None
    plan: _Plan | None = None
    merged: list[_Merged] = []
    results: dict[int, Any] = {}
    template: Any = None

    def add(suite_result: Any) -> None:
        assert plan is not None
        for result in suite_result.results:
            i = plan.positions[result.expectation_config.id]
            merged[i].add(result)
            results[i] = result

    for table in _chunks(conn, rows, chunk_rows):
        if plan is None:
            specs = session.specs(rows.suite, rows.columns)
            plan = session.plan(rows.suite, rows.columns, _schema_specs(specs, table.schema))
            merged = [_Merged(spec) for spec in plan.specs]
            for m in merged:
                kinds = [table.schema.field(c).type for c in m.spec.columns]
                m.whole = len(kinds) == 1 and pa.types.is_integer(kinds[0])
            if plan.schema is not None:
                # one check of the table's types, not one per chunk
                template = session.validate(
                    plan.schema, _schema_frame(table.schema), params, result_format
                )
                add(template)
        frame = _frame(table, rows.index)
        if on_chunk is not None:
            on_chunk(frame)
        if plan.rows is not None:
            template = session.validate(plan.rows, frame, params, result_format)
            add(template)
    if plan is None or template is None:
        return [], None
    # one GX result for the Data Docs: the last chunk's, with every expectation merged
    template.results = [results[i] for i in sorted(results)]
    for i, result in results.items():
        result.success = merged[i].success
        result.result = merged[i].gx_result()
    template.success = all(m.success for m in merged)
    done = sum(m.success for m in merged)
    template.statistics.update(
        evaluated_expectations=len(merged),
        successful_expectations=done,
        unsuccessful_expectations=len(merged) - done,
        success_percent=100.0 * done / len(merged),
    )
    return merged, template


def _expectation_result(suite: str, spec: Spec, merged: _Merged) -> ExpectationResult:
    return ExpectationResult(
        suite=suite,
        expectation=spec.type,
        column=spec.column_label,
        kwargs=spec.kwargs,
        severity=spec.severity,
        success=merged.success,
        observed=merged.describe(),
        element_count=merged.element_count,
        unexpected_count=merged.unexpected_count,
        why=spec.why,
    )


def _run_suite(
    conn: duckdb.DuckDBPyConnection,
    rows: _Rows,
    params: dict[str, Any],
    chunk_rows: int,
) -> tuple[list[ExpectationResult], Any]:
    """Validate a table chunk by chunk; return merged results and a merged GX result for docs."""
    merged, template = _validate_chunks(conn, rows, params, chunk_rows)
    return [_expectation_result(rows.suite.name, m.spec, m) for m in merged], template


def _audit(
    conn: duckdb.DuckDBPyConnection,
    load_id: str,
    tables: list[_Rows],
    *,
    settings: Settings | None,
    chunk_rows: int,
    now: datetime | None,
) -> AuditReport:
    checked_at = now or datetime.now(UTC)
    report = AuditReport(load_id=load_id, checked_at=checked_at)
    params = expectation_parameters(checked_at)
    for rows in tables:
        results, gx_result = _run_suite(conn, rows, params, chunk_rows)
        report.results.extend(results)
        if gx_result is not None and settings is not None:
            report.docs.append(str(_render_page(settings, load_id, rows.suite.name, gx_result)))
    if settings is not None and report.docs:
        _write_index(settings)
    return report


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
        _Rows(
            suite=load_suite(name),
            query="select * from read_parquet($path)",
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
        return _audit(
            conn, batch.load_id, tables, settings=settings, chunk_rows=chunk_rows, now=now
        )
    finally:
        conn.close()


# ---- one audit for every batch of a run


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
            page = _render_page(
                settings, label, name, outcome.template, loads=loads, failed=sorted(failed)
            )
            pages.append(str(page))
        if pages:
            _write_index(settings)
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
    flag_sql = "".join(f", {_q(f)} boolean" for f in flags.values())
    conn.execute(
        f"create or replace temp table audit_members (path varchar, load_id varchar{flag_sql})"
    )
    conn.executemany(
        f"insert into audit_members values (?, ?{', ?' * len(flags)})",
        [
            (e.path, b.load_id, *(needed <= provided[b.load_id] for needed in flags))
            for b, e in members
        ],
    )
    extra = "".join(f", m.{_q(f)}" for f in flags.values())
    rows = _Rows(
        suite=Suite(suite.name, suite.table, suite.key, tuple(s.run for s in scoped)),
        query=(
            f"select p.*, m.load_id as {_q(LOAD_COLUMN)}{extra}"
            " from read_parquet($paths, filename = true) p join audit_members m"
            " on p.filename = m.path"
        ),
        params={"paths": [e.path for _, e in members]},
        columns=(*data_columns, LINE_COLUMN, LOAD_COLUMN, *flags.values()),
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

    try:
        merged, template = _validate_chunks(
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
    finally:
        conn.execute("drop table if exists audit_members")
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
                observed, elements, unexpected = f"observed {_show(m.observed)}", None, None
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


# ---- checks that need the warehouse


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
        manifests = sorted(
            (landing / batch.platform).glob(f"*/{batch.source_sha256}.manifest.json")
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


def deliveries(batches: list[StagedBatch], landing: Path | None) -> list[_Delivery]:
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
    for check in _volume_checks():
        keep = int(check["history"])
        history = _volume_history(conn, platform, format, account, started_at, exclude, keep + 50)
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


def _volume_history(
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
    found = conn.execute(
        "select json_extract_string(any_value(v.kwargs), '$.landing_day'),"
        " max(coalesce(v.element_count, l.rows_loaded)),"
        " coalesce(bool_or(json_extract_string(v.kwargs, '$.pulled') = 'true'), false),"
        " max(l.started_at) as last_started"
        " from meta.loads l left join meta.validations v on v.load_id = l.load_id"
        " and v.suite = $suite and v.severity = 'critical'"
        " where l.platform = $platform and l.format = $format"
        " and coalesce(json_extract_string(v.kwargs, '$.accounts'), l.account_id)"
        " is not distinct from $account and l.status = 'published'"
        " and l.started_at < $started and not list_contains($exclude, l.load_id)"
        " group by coalesce(json_extract_string(v.kwargs, '$.delivery'), l.load_id)"
        " order by last_started desc limit $limit",
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
    records every batch that failed a critical check as in :func:`gate_batch`.
    """
    by_id = {b.load_id: r for b, r in zip(batches, reports, strict=True)}
    landing = settings.landing if settings is not None else None
    recent: dict[tuple[str, str, str | None], list[tuple[str, int]]] = {}
    for delivery in deliveries(batches, landing):
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


def gate_batch(
    conn: duckdb.DuckDBPyConnection,
    batch: StagedBatch,
    report: AuditReport,
    settings: Settings | None = None,
) -> AuditReport:
    """Finish one batch's audit with the writer connection and block it if a critical check failed.

    The batch is a delivery of its own (see :func:`gate_batches`). A blocked batch is recorded
    in one transaction: the load as ``failed`` with a message, its quarantined rows and every
    result in ``meta.validations``; core and marts are not touched. A batch that passes is left
    to the caller to publish, then :func:`store_results`.
    """
    gate_batches(conn, [batch], [report], settings)
    return report


def _block(conn: duckdb.DuckDBPyConnection, batch: StagedBatch, report: AuditReport) -> None:
    # why: on DuckLake another writer may commit first; the record is then written again
    retry_on_conflict(
        conn, lambda: _block_once(conn, batch, report), what=f"audit of load {batch.load_id}"
    )
    log.error("%s: %s", batch.source_file, report.message())


def _block_once(conn: duckdb.DuckDBPyConnection, batch: StagedBatch, report: AuditReport) -> None:
    conn.execute("begin transaction")
    try:
        record_load(conn, batch, status="failed", message=report.message())
        record_identity(conn, batch)
        conn.execute(
            "insert into quarantine.rows select $load_id, $platform, $source, line, field,"
            " reason, raw, current_timestamp from read_parquet($path)",
            {
                "load_id": batch.load_id,
                "platform": batch.platform,
                "source": batch.source_file,
                "path": batch.quarantine_path,
            },
        )
        store_results(conn, report)
        conn.execute("commit")
    except BaseException:
        end_transaction(conn)
        raise


def store_results(
    conn: duckdb.DuckDBPyConnection, report: AuditReport, load_ids: list[str] | None = None
) -> None:
    """Append a report's results to ``meta.validations`` (under each of ``load_ids``)."""
    rows = [
        (
            load_id,
            r.suite,
            r.expectation,
            r.column,
            json.dumps(r.kwargs, default=str, sort_keys=True),
            r.severity,
            r.success,
            r.observed,
            r.element_count,
            r.unexpected_count,
            report.checked_at,
        )
        for load_id in (load_ids or [report.load_id])
        for r in report.results
    ]
    # why: one statement per chunk, not one per row: on DuckLake every autocommitted
    # statement is a snapshot in the catalog, and row by row is slow on a file too
    for start in range(0, len(rows), 200):
        chunk = rows[start : start + 200]
        placeholders = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
        conn.execute(
            f"insert into meta.validations values {placeholders}",
            [value for row in chunk for value in row],
        )


# ---- marts


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
    conn.execute(
        "create or replace temp table audit_ranges"
        " (platform varchar, account_id varchar, day_from date, day_to date)"
    )
    try:
        conn.executemany("insert into audit_ranges values (?, ?, ?, ?)", pending.ranges)
        tables = []
        for name in MART_SUITES:
            suite = load_suite(name)
            columns = tuple(
                str(r[0])
                for r in conn.execute(
                    "select column_name from information_schema.columns where table_schema"
                    " = 'marts' and table_name = $name order by ordinal_position",
                    {"name": name},
                ).fetchall()
            )
            tables.append(
                _Rows(
                    suite=suite,
                    # rows with a null key belong to no range; keys are not enforced
                    # everywhere (DuckLake has no constraints), so they are audited too
                    query=(
                        f"select m.* from {suite.table} m"
                        " where m.platform is null or m.account_id is null or m.day is null"
                        " or exists (select 1 from audit_ranges a where m.platform = a.platform"
                        " and m.account_id = a.account_id and m.day between a.day_from"
                        " and a.day_to)"
                    ),
                    params={},
                    columns=columns,
                )
            )
        report = _audit(conn, label, tables, settings=settings, chunk_rows=chunk_rows, now=now)
    finally:
        conn.execute("drop table if exists audit_ranges")
    store_results(conn, report, pending.load_ids)
    if not report.passed:
        log.error("marts: %s; the BI copy keeps its last good state", report.message())
    return report


# ---- re-validation of a published load


def revalidate(load_id: str, settings: Settings, *, chunk_rows: int = CHUNK_ROWS) -> AuditReport:
    """Re-run the audit of a load on the core rows that still carry its ``load_id``.

    Opens the warehouse read-only and stores nothing; Data Docs are written. Rows a later load
    replaced carry that load's id and are audited with it. For a load that was not published,
    the results stored when it was blocked are returned instead.
    """
    conn = open_warehouse(settings.target, read_only=True, busy_timeout=settings.busy_timeout)
    try:
        found = conn.execute(
            "select platform, format, account_id, rows_loaded, started_at, status"
            " from meta.loads where load_id = $id",
            {"id": load_id},
        ).fetchone()
        if found is None:
            raise IngestError(f"no load {load_id!r} in meta.loads")
        platform, fmt, account, rows_loaded, started_at, status = found
        if status != "published":
            return _stored_report(conn, load_id, status)
        tables = [
            _Rows(
                suite=load_suite(name),
                query=f"select * from {ENTITIES[name].table} where load_id = $load_id",
                params={"load_id": load_id},
                columns=ENTITIES[name].column_names,
            )
            for name in CANONICAL_SUITES
        ]
        report = _audit(conn, load_id, tables, settings=settings, chunk_rows=chunk_rows, now=None)
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
    stored = conn.execute(
        "select kwargs, element_count from meta.validations where load_id = $id"
        " and suite = $suite and severity = 'critical' order by checked_at desc limit 1",
        {"id": load_id, "suite": VOLUME_SUITE},
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
    members = conn.execute(
        "select l.load_id, min(l.started_at) over () from meta.validations v"
        " join meta.loads l using (load_id) where v.suite = $suite"
        " and json_extract_string(v.kwargs, '$.delivery') = $delivery",
        {"suite": VOLUME_SUITE, "delivery": kwargs["delivery"]},
    ).fetchall()
    pulled = bool(kwargs.get("pulled"))
    rows = int(stored[1]) if stored and stored[1] is not None else rows_loaded
    if pulled:
        # check_volume adds the day's earlier pages itself
        rows -= sum(
            r
            for d, r, p in _volume_history(
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
    rows = conn.execute(
        "select suite, expectation, column_name, kwargs, severity, success, observed_value,"
        " element_count, unexpected_count, checked_at from meta.validations"
        " where load_id = $id order by checked_at, suite",
        {"id": load_id},
    ).fetchall()
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


# ---- Data Docs


def docs_root(settings: Settings) -> Path:
    """Where Data Docs go: ``data_docs/`` beside the warehouse file."""
    return settings.warehouse.parent / DOCS_FOLDER


def _render_page(
    settings: Settings,
    load_id: str,
    suite: str,
    gx_result: Any,
    *,
    loads: list[str] | None = None,
    failed: list[str] | None = None,
) -> Path:
    """Render one merged validation result with GX's own Data Docs renderer.

    A run-wide audit passes the loads it covered and those that failed a critical expectation.
    """
    from great_expectations.render.renderer.page_renderer import ValidationResultsPageRenderer
    from great_expectations.render.view.view import DefaultJinjaPageView

    root = docs_root(settings)
    static = root / "static"
    if not static.exists():
        source = Path(str(_gx().gx.__file__)).parent / "render" / "view" / "static"
        shutil.copytree(source, static, dirs_exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    # four levels deep, like GX's own site, so its relative links reach index.html and static/
    page = root / "validations" / suite / load_id / stamp / "audit.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        document = ValidationResultsPageRenderer().render(gx_result)
        rendered = DefaultJinjaPageView().render(document)  # type: ignore[no-untyped-call]
        page.write_text(rendered, encoding="utf-8")
    with (root / "audits.jsonl").open("a", encoding="utf-8") as index:
        index.write(
            json.dumps(
                {
                    "load_id": load_id,
                    "suite": suite,
                    "success": bool(gx_result.success),
                    "statistics": gx_result.statistics,
                    "checked_at": stamp,
                    "page": page.relative_to(root).as_posix(),
                    "load_ids": loads or [load_id],
                    "failed_load_ids": failed or [],
                }
            )
            + "\n"
        )
    return page


def _loads_cell(entry: dict[str, Any]) -> str:
    """A run's loads under its label: the blocked ones named, the rest folded away."""
    loads = entry.get("load_ids") or []
    if len(loads) <= 1:
        return ""
    failed = entry.get("failed_load_ids") or []
    shown = "".join(f"<br><b>failed</b> {html.escape(x)}" for x in failed)
    listed = "<br>".join(html.escape(x) for x in loads)
    return f"{shown}<details><summary>{len(loads)} loads</summary>{listed}</details>"


def _write_index(settings: Settings) -> Path:
    """``index.html``: every audit rendered so far, newest first, linking GX's pages."""
    root = docs_root(settings)
    entries = []
    log_path = root / "audits.jsonl"
    if log_path.exists():
        for line in log_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entries.append(json.loads(line))
    entries.sort(key=lambda e: e["checked_at"], reverse=True)
    rows = "\n".join(
        "<tr><td>{checked}</td><td>{load}{loads}</td><td>{suite}</td>"
        "<td class='{cls}'>{verdict}</td>"
        "<td>{ok}/{total}</td><td><a href='{page}'>results</a></td></tr>".format(
            checked=html.escape(e["checked_at"]),
            load=html.escape(e["load_id"]),
            loads=_loads_cell(e),
            suite=html.escape(e["suite"]),
            cls="ok" if e["success"] else "fail",
            verdict="passed" if e["success"] else "failed",
            ok=e["statistics"].get("successful_expectations", ""),
            total=e["statistics"].get("evaluated_expectations", ""),
            page=html.escape(e["page"]),
        )
        for e in entries
    )
    page = root / "index.html"
    tmp = page.with_suffix(".tmp")
    tmp.write_text(
        "<!doctype html><meta charset='utf-8'><title>Data Docs: audits</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 10px;text-align:left}"
        ".ok{color:#060}.fail{color:#b00;font-weight:bold}</style>"
        "<h1>Audits</h1><p>Great Expectations results of every audited load and mart rebuild"
        " (suites in <code>src/ingest/expectations/</code>; also in <code>meta.validations</code>)."
        "</p><table><tr><th>checked</th><th>load</th><th>suite</th><th>result</th>"
        f"<th>expectations met</th><th></th></tr>\n{rows}\n</table>\n",
        encoding="utf-8",
    )
    os.replace(tmp, page)
    return page
