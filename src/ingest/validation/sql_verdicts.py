"""Row-level expectations of a run-wide audit decided in DuckDB, the way GX decides them.

GX validates pandas frames, one expectation at a time over a converted copy of the rows: 1M
staged rows took about 8 s. The kinds of expectation below are decided here instead, in SQL
over each piece of the run's staged rows: one scan counts, per load, every expectation's rows
(its element count), the rows its ``mostly`` is a share of, and its unexpected rows; only an
expectation that found rows lists them. The suites stay GX suites and GX says what each kind
means: the schema-level type checks still run in GX, a suite holding any other kind or
argument runs in GX whole, and ``tests/validation/test_sql_verdicts.py`` holds both ways to
the same verdicts, counts, samples and source lines on rows that trip every kind.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb
import pyarrow as pa

from ingest.sqlfiles import execute, quote_identifier
from ingest.staging import LINE_COLUMN
from ingest.validation.frames import (
    LOAD_COLUMN,
    ROW_COLUMN,
    Rows,
    schema_frame,
    schema_specs,
    used_columns,
)
from ingest.validation.gx import (
    SAMPLE_VALUES,
    Merged,
    merged_over,
    mostly_success,
    session,
    suite_statistics,
)
from ingest.validation.suites import Spec

# the arguments each kind is decided with here; any other argument (or kind) is left to GX
_COMMON = frozenset({"mostly", "row_condition", "condition_parser"})
KINDS: dict[str, frozenset[str]] = {
    "expect_column_values_to_not_be_null": _COMMON | {"column"},
    "expect_column_values_to_be_null": _COMMON | {"column"},
    "expect_column_values_to_be_in_set": _COMMON | {"column", "value_set"},
    "expect_column_values_to_be_between": _COMMON
    | {"column", "min_value", "max_value", "strict_min", "strict_max"},
    "expect_column_pair_values_a_to_be_greater_than_b": _COMMON
    | {"column_A", "column_B", "or_equal", "ignore_row_if"},
    "expect_compound_columns_to_be_unique": _COMMON | {"column_list", "ignore_row_if"},
}
# a pandas row condition, token by token: names, comparisons, parentheses
_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>==|!=|\(|\)))")
_WORDS = {"True": "true", "False": "false", "and": "and", "or": "or", "not": "not"}
_OPS = {"==": "=", "!=": "<>", "(": "(", ")": ")"}
# a piece of the run that has findings, made a table while its found rows are listed
PIECE = "audit_piece"


@dataclass(frozen=True)
class Check:
    """One expectation as SQL over a piece's rows: boolean expressions, never NULL."""

    # the rows it counts (its element count): its loads and its row condition
    domain: str
    # the rows of its domain it finds unexpected
    unexpected: str
    # the rows of its domain its ``mostly`` is a share of, where a per-load verdict needs them
    considered: str | None
    # what a found row is shown by: one column, a pair, or a key's columns
    values: tuple[str, ...]
    # a count of each key's copies the piece needs first (compound uniqueness): the key
    # columns it is counted over, and the name ``unexpected`` reads the count by
    window: str | None = None
    copies: str | None = None


@dataclass
class Decided:
    """A suite decided over a run: each expectation merged over the run, with its rows per
    load (``counts``) and, where its ``mostly`` needs them, its considered rows per load."""

    merged: list[Merged]
    counts: list[dict[str, int]]
    considered: list[dict[str, int] | None]
    template: Any


class _Binds:
    """Values bound as named parameters: each expression gets a ``$v<n>`` for its value."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> str:
        name = f"v{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def decide(
    conn: duckdb.DuckDBPyConnection,
    rows: Rows,
    originals: list[Spec],
    params: dict[str, Any],
    needs_considered: Callable[[Spec], bool],
) -> Decided | None:
    """Decide a run-wide suite (``rows``, whose specs are ``originals`` as scoped to loads) in
    DuckDB; None when one of its expectations is of a kind or has arguments left to GX.

    ``needs_considered`` tells the expectations whose ``mostly`` a per-load verdict needs the
    considered rows of (the others' are not counted).
    """
    specs = list(rows.suite.expectations)
    if not specs or len(specs) != len(originals) or not rows.pieces:
        return None
    pieces = [_piece(rows, at) for at in range(len(rows.pieces))]
    empty = execute(conn, f"select * from {pieces[0].source} limit 0", pieces[0].params)
    schema = empty.to_arrow_table().schema
    kinds = {f.name: f.type for f in schema}
    on_schema = set(schema_specs(specs, schema))
    binds = _Binds()
    checks: list[Check | None] = []
    for i, (spec, original) in enumerate(zip(specs, originals, strict=True)):
        if i in on_schema:
            checks.append(None)
            continue
        check = _check(
            spec, kinds, params, binds, copies=f"copies{i}", considered=needs_considered(original)
        )
        if check is None:
            return None
        checks.append(check)
    merged = merged_over(specs, schema)
    counts: list[dict[str, int]] = [{} for _ in specs]
    considered: list[dict[str, int] | None] = [
        {} if c is not None and c.considered is not None else None for c in checks
    ]
    gx_results = _schema_results(rows, specs, on_schema, schema, params, merged)
    for piece in pieces:
        if piece.rows:
            _count(conn, piece, checks, binds, merged, counts, considered)
    _finish(specs, checks, merged, counts, considered)
    return Decided(merged, counts, considered, _template(rows, specs, merged, gx_results))


@dataclass(frozen=True)
class _Piece:
    """One piece of the run's rows, with its scope flags, as a subquery with its parameters."""

    source: str
    params: dict[str, Any]
    rows: int


def _piece(rows: Rows, at: int) -> _Piece:
    query, piece_params, held = rows.pieces[at]
    scopes = dict(rows.scopes)
    data = [c for c in used_columns(rows.suite, rows.columns) if c not in scopes]
    binds = {**piece_params}
    flags = []
    for n, (flag, loads) in enumerate(rows.scopes):
        binds[f"scope{n}"] = sorted(loads)
        flags.append(
            f"list_contains($scope{n}, {quote_identifier(LOAD_COLUMN)}) as {quote_identifier(flag)}"
        )
    cols = ", ".join([*(quote_identifier(c) for c in data), *flags])
    return _Piece(f"(select {cols} from ({query}))", binds, held)


def _count(
    conn: duckdb.DuckDBPyConnection,
    piece: _Piece,
    checks: list[Check | None],
    binds: _Binds,
    merged: list[Merged],
    counts: list[dict[str, int]],
    considered: list[dict[str, int] | None],
) -> None:
    """Each check's rows per load in one scan of the piece (and a grouping per uniqueness
    check); then the rows of the checks that found any.

    The piece is read where it is staged: most pieces find nothing, and only a piece with
    findings is made a table, to be read again for each check that found rows.
    """
    columns = []
    for i, c in enumerate(checks):
        if c is None:
            continue
        columns.append(f"count(*) filter (where {c.domain}) as d{i}")
        if c.window is None:
            columns.append(f"count(*) filter (where {c.domain} and {c.unexpected}) as u{i}")
        if c.considered is not None:
            columns.append(f"count(*) filter (where {c.domain} and {c.considered}) as c{i}")
    if not columns:
        return  # type checks alone: GX decided them from the columns' types
    load = quote_identifier(LOAD_COLUMN)
    found = execute(
        conn,
        f"select {load}, {', '.join(columns)} from {piece.source} group by {load}",
        {**binds.values, **piece.params},
    )
    # column by column: a piece holds thousands of loads, and a check's counts of them are
    # added in one pass
    names = [d[0] for d in found.description]
    fetched = found.fetchall()
    if not fetched:
        return
    column = dict(zip(names, zip(*fetched, strict=True), strict=True))
    lids = [str(lid) for lid in column[LOAD_COLUMN]]
    hit: set[int] = set()
    for i, c in enumerate(checks):
        if c is None:
            continue
        _add(counts[i], lids, column[f"d{i}"])
        share = considered[i]
        if share is not None:
            _add(share, lids, column[f"c{i}"])
        if any(column[f"u{i}"]) if c.window is None else _repeats(conn, piece, c, binds):
            hit.add(i)
    if not hit:
        return
    execute(
        conn, f"create or replace temp table {PIECE} as select * from {piece.source}", piece.params
    )
    source = _with_windows(checks)
    for i in sorted(hit):
        check = checks[i]
        assert check is not None
        _list_found(conn, source, check, binds, merged[i])


def _repeats(conn: duckdb.DuckDBPyConnection, piece: _Piece, check: Check, binds: _Binds) -> bool:
    """Whether a uniqueness check finds a repeated key in the piece.

    A grouping, where counting the rows it finds would need each row's copies: a window over
    the piece costs about twice as much, and most pieces repeat no key.
    """
    # the check's unexpected rows are told by its key columns and their copies alone
    grouped = (
        f"select {check.window}, count(*) as {check.copies} from {piece.source}"
        f" where {check.domain} group by {check.window}"
    )
    found = execute(
        conn,
        f"select 1 from ({grouped}) where {check.unexpected} limit 1",
        {**binds.values, **piece.params},
    )
    return found.fetchone() is not None


def _add(into: dict[str, int], lids: list[str], numbers: Sequence[int]) -> None:
    for lid, n in zip(lids, numbers, strict=True):
        into[lid] = into.get(lid, 0) + n


def _list_found(
    conn: duckdb.DuckDBPyConnection, source: str, check: Check, binds: _Binds, m: Merged
) -> None:
    """File each unexpected row of a check under its load, in the piece's order."""
    shown = ", ".join(check.values)
    keys = ", ".join(quote_identifier(c) for c in (LOAD_COLUMN, ROW_COLUMN, LINE_COLUMN))
    listed = execute(
        conn,
        f"select {keys}, {shown} from {source} where {check.domain} and {check.unexpected}"
        f" order by {quote_identifier(LOAD_COLUMN)}, {quote_identifier(ROW_COLUMN)}",
        binds.values,
    ).fetchall()
    kw = m.spec.kwargs
    for lid, row, line, *values in listed:
        if "column" in kw:
            value: Any = values[0]
        elif "column_A" in kw:
            value = tuple(values)
        else:
            named = [c for c in m.spec.columns if c != LOAD_COLUMN]
            value = dict(zip(named, values, strict=True))
        sample = m.sample(_as_gx_sees(value))
        m.found.setdefault(str(lid), []).append((int(row), line, sample))


def _as_gx_sees(value: Any) -> Any:
    """A value as GX lists it from its pandas frame: dates and times as pandas Timestamps."""
    if isinstance(value, dict):
        return {k: _as_gx_sees(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_as_gx_sees(v) for v in value)
    if isinstance(value, date):  # a datetime too
        import pandas as pd

        return pd.Timestamp(value)
    return value


def _finish(
    specs: list[Spec],
    checks: list[Check | None],
    merged: list[Merged],
    counts: list[dict[str, int]],
    considered: list[dict[str, int] | None],
) -> None:
    """Each SQL-decided expectation merged over the run: counts, first samples, GX's verdict."""
    for spec, check, m, seen, share in zip(specs, checks, merged, counts, considered, strict=True):
        if check is None:
            continue
        found = [
            (lid, row, line, value) for lid, rows in m.found.items() for row, line, value in rows
        ]
        m.unexpected_count = len(found)
        m.element_count = sum(seen.values())
        for lid, _, line, value in found[:SAMPLE_VALUES]:
            m.samples.append(value)
            m.indexes.append(f"{lid}:{line}")
        if not found:
            m.success = True
        elif spec.mostly >= 1.0:
            m.success = False
        else:
            base = sum(share.values()) if share is not None else m.element_count
            m.success = mostly_success(base, len(found), spec.mostly)


def _schema_results(
    rows: Rows,
    specs: list[Spec],
    on_schema: set[int],
    schema: pa.Schema,
    params: dict[str, Any],
    merged: list[Merged],
) -> dict[int, Any]:
    """The type checks GX decides from the columns' types, by position: one GX run."""
    if not on_schema:
        return {}
    gx = session()
    plan = gx.plan(rows.suite, rows.columns, tuple(sorted(on_schema)))
    outcome = gx.validate(plan.schema, schema_frame(schema), params)
    results = {}
    for result in outcome.results:
        i = plan.positions[result.expectation_config.id]
        merged[i].add(result)
        results[i] = result
    return results


def _template(
    rows: Rows, specs: list[Spec], merged: list[Merged], gx_results: dict[int, Any]
) -> Any:
    """GX's validation result of the run, for its Data Docs page: every expectation merged."""
    from great_expectations.core import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, (spec, m) in enumerate(zip(specs, merged, strict=True)):
            result = gx_results.get(i) or ExpectationValidationResult(
                expectation_config=ExpectationConfiguration(
                    type=spec.type,
                    kwargs=spec.kwargs,
                    meta={"severity": spec.severity, "why": spec.why},
                ),
                exception_info={
                    "raised_exception": False,
                    "exception_message": None,
                    "exception_traceback": None,
                },
            )
            result.success = m.success
            result.result = m.gx_result()
            results.append(result)
    return ExpectationSuiteValidationResult(
        success=all(m.success for m in merged),
        results=results,
        suite_name=rows.suite.name,
        statistics=suite_statistics(merged),
    )


# ---- one expectation as SQL


def _check(
    spec: Spec,
    kinds: dict[str, pa.DataType],
    params: dict[str, Any],
    bind: _Binds,
    *,
    copies: str,
    considered: bool,
) -> Check | None:
    """``spec`` as SQL over a piece whose columns have ``kinds``; None when left to GX.

    ``copies`` names the count of a key's copies (uniqueness); ``considered``: whether its
    considered rows are counted.
    """
    kw = {k: _resolved(v, params) for k, v in spec.kwargs.items()}
    if spec.type not in KINDS or not set(kw) <= KINDS[spec.type]:
        return None
    if any(c not in kinds for c in spec.columns):
        return None
    domain = "true"
    if "row_condition" in kw:
        if kw.get("condition_parser") != "pandas":
            return None
        condition = _condition(str(kw["row_condition"]), kinds)
        if condition is None:
            return None
        domain = f"coalesce(({condition}), false)"
    built = _kind(spec.type, kw, kinds, bind, copies)
    if built is None:
        return None
    unexpected, share, values, window = built
    return Check(
        domain=domain,
        unexpected=f"coalesce(({unexpected}), false)",
        considered=f"coalesce(({share}), false)" if considered and share is not None else None,
        values=values,
        window=window,
        copies=copies if window is not None else None,
    )


def _kind(
    kind: str, kw: dict[str, Any], kinds: dict[str, pa.DataType], bind: _Binds, copies: str
) -> tuple[str, str | None, tuple[str, ...], str | None] | None:
    """(unexpected, considered, shown columns, window) of one kind of expectation."""
    if "column" in kw:
        column = str(kw["column"])
        col = quote_identifier(column)
        missing = _missing(column, kinds[column])
        shown = (col,)
        if kind == "expect_column_values_to_not_be_null":
            return missing, None, shown, None
        if kind == "expect_column_values_to_be_null":
            return f"not ({missing})", None, shown, None
        if kind == "expect_column_values_to_be_in_set":
            allowed = kw.get("value_set")
            if not isinstance(allowed, list | tuple | set) or not _comparable(
                list(allowed), kinds[column]
            ):
                return None
            return (
                f"not ({missing}) and not list_contains({bind(list(allowed))}, {col})",
                f"not ({missing})",
                shown,
                None,
            )
        if kind == "expect_column_values_to_be_between":
            inside = _between(col, kinds[column], kw, bind)
            if inside is None:
                return None
            return f"not ({missing}) and not ({inside})", f"not ({missing})", shown, None
        return None
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        if kw.get("ignore_row_if") != "either_value_is_missing":
            return None
        a, b = str(kw["column_A"]), str(kw["column_B"])
        both = f"not ({_missing(a, kinds[a])}) and not ({_missing(b, kinds[b])})"
        op = ">=" if kw.get("or_equal") else ">"
        compared = f"{quote_identifier(a)} {op} {quote_identifier(b)}"
        return (
            f"{both} and not ({compared})",
            both,
            (quote_identifier(a), quote_identifier(b)),
            None,
        )
    if kind == "expect_compound_columns_to_be_unique":
        if kw.get("ignore_row_if", "all_values_are_missing") != "all_values_are_missing":
            return None
        columns = [str(c) for c in kw["column_list"]]
        all_missing = " and ".join(_missing(c, kinds[c]) for c in columns)
        keys = ", ".join(quote_identifier(c) for c in columns)
        return (
            f"not ({all_missing}) and {copies} > 1",
            None,
            tuple(quote_identifier(c) for c in columns if c != LOAD_COLUMN),
            keys,
        )
    return None


def _resolved(value: Any, params: dict[str, Any]) -> Any:
    if isinstance(value, dict) and set(value) == {"$PARAMETER"}:
        return params[value["$PARAMETER"]]
    return value


def _missing(column: str, kind: pa.DataType) -> str:
    """A column's value is missing as pandas sees it: NULL, or NaN in a float column."""
    col = quote_identifier(column)
    if pa.types.is_floating(kind):
        return f"({col} is null or isnan({col}))"
    return f"{col} is null"


def _comparable(values: list[Any], kind: pa.DataType) -> bool:
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return all(isinstance(v, str) for v in values)
    if pa.types.is_integer(kind):
        return all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    return False


def _between(col: str, kind: pa.DataType, kw: dict[str, Any], bind: _Binds) -> str | None:
    """``col`` within the bounds, as GX compares them on the column's pandas type."""
    bounds = []
    for key, strict, op in (("min_value", "strict_min", ">"), ("max_value", "strict_max", "<")):
        value = kw.get(key)
        if value is None:
            continue
        operand = col
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return None
        elif pa.types.is_timestamp(kind) or pa.types.is_date(kind):
            if not isinstance(value, str):
                return None
            value = datetime.fromisoformat(value)
            zoned = pa.types.is_timestamp(kind) and kind.tz is not None
            if zoned != (value.tzinfo is not None):
                return None  # pandas refuses to compare these; GX reports the error
            if pa.types.is_date(kind):
                operand = f"cast({col} as timestamp)"
        else:
            return None
        bounds.append(f"{operand} {op}{'' if kw.get(strict) else '='} {bind(value)}")
    return " and ".join(bounds) if bounds else None


def _condition(text: str, kinds: dict[str, pa.DataType]) -> str | None:
    """A pandas row condition (names, ``==``, ``!=``, ``and``/``or``/``not``, parentheses,
    ``True``/``False``) as SQL; None for anything else."""
    parts: list[str] = []
    at, text = 0, text.strip()
    while at < len(text):
        token = _TOKEN.match(text, at)
        if token is None:
            return None
        at = token.end()
        name, op = token.group("name"), token.group("op")
        if name in _WORDS:
            parts.append(_WORDS[name])
        elif name is not None:
            if name not in kinds:
                return None
            parts.append(quote_identifier(name))
        else:
            parts.append(_OPS[op])
    return " ".join(parts) or None


def _with_windows(checks: list[Check | None]) -> str:
    """The piece as checks read it: each key's copies counted where a check needs them."""
    counted = ", ".join(
        f"count(*) filter (where {c.domain}) over (partition by {c.window}) as {c.copies}"
        for c in checks
        if c is not None and c.window is not None
    )
    if not counted:
        return PIECE
    return f"(select *, {counted} from {PIECE})"
