"""Reading audited rows: DuckDB queries in bounded chunks, converted to the pandas GX checks fast.

Chunks are split by a hash of the table's key, so every copy of a key lands in the same chunk
and per-chunk uniqueness equals uniqueness of the whole table. Columns reach pandas in the
types GX compares vectorised (see :func:`_vectorised`); repetitive text is categorical.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ingest.sqlfiles import execute, quote_identifier
from ingest.staging import LINE_COLUMN
from ingest.validation.suites import Spec, Suite

if TYPE_CHECKING:
    import pandas as pd

# rows per DataFrame handed to GX: bounds memory, as GX copies a chunk's frame several times
# (1M rows: the audit's peak rose 650 MiB above the interpreter's, 250,000: 390, and what the
# allocators kept after it fell by 140 MiB); every further chunk costs one more GX pass (1M
# rows: 7.5 s in one chunk, 8.7 s in four)
CHUNK_ROWS = 250_000
# rows of a chunk's text column sampled to decide whether it becomes categorical
DICTIONARY_SAMPLE = 10_000
# the column a run-wide audit adds to tell each row's load
LOAD_COLUMN = "load_id"
# and the row's position in its load's staged file (a per-load audit reads rows in that order)
ROW_COLUMN = "file_row_number"


@dataclass(frozen=True)
class Rows:
    """Rows of one table to audit: a query (``sql/validation``), the columns it yields, an index.

    ``scopes`` are boolean columns added to each chunk: true on the rows of the given loads
    (a run-wide audit scopes an expectation to the loads whose source has its columns).
    ``total`` is the number of rows when the caller knows it (staged batches record theirs),
    which spares a counting scan of every file; it only sizes the chunks.
    """

    suite: Suite
    query: str
    params: dict[str, Any]
    columns: tuple[str, ...]
    index: str | None = None
    scopes: tuple[tuple[str, frozenset[str]], ...] = ()
    total: int | None = None
    # the rows as pieces read one after the other, each its own query, parameters and row
    # count (a run's loads, whole): a piece is split by key only when larger than a chunk
    pieces: tuple[tuple[str, dict[str, Any], int], ...] = ()


def chunks(conn: duckdb.DuckDBPyConnection, rows: Rows, chunk_rows: int) -> Iterator[pa.Table]:
    """The rows an audit reads, in chunks of about ``chunk_rows``: piece by piece
    (``Rows.pieces``, else all at once), each split by a hash of the key when larger."""
    scopes = dict(rows.scopes)
    selected = [c for c in used_columns(rows.suite, rows.columns) if c not in scopes]
    if rows.index and rows.index not in selected:
        selected.append(rows.index)
    if scopes and LOAD_COLUMN not in selected:
        selected.append(LOAD_COLUMN)
    cols = ", ".join(quote_identifier(c) for c in selected)
    key = ", ".join(quote_identifier(c) for c in rows.suite.key) or "1"
    for query, params, total in rows.pieces or ((rows.query, rows.params, rows.total),):
        if total is None:
            count = execute(conn, f"select count(*) from ({query})", params).fetchone()
            total = int(count[0]) if count else 0
        parts = max(1, math.ceil(total / chunk_rows))
        for part in range(parts if total else 0):
            # rows with one key hash to one part: duplicates never straddle two chunks; the
            # numbers are computed integers written as literals: as parameters they make
            # DuckDB's filter several times slower
            split = f" where hash({key}) % {int(parts)} = {int(part)}" if parts > 1 else ""
            table = execute(conn, f"select {cols} from ({query}){split}", params).to_arrow_table()
            for name, loads in rows.scopes:
                flags = pc.is_in(table.column(LOAD_COLUMN), value_set=pa.array(sorted(loads)))
                table = table.append_column(name, flags)
            if table.num_rows:
                yield table


def used_columns(suite: Suite, columns: tuple[str, ...]) -> list[str]:
    """The columns an audit reads: those its expectations name, check or filter on.

    Text a suite never looks at (captions, permalinks) stays in the Parquet file: converting it
    to pandas, fingerprinting it and copying it for every expectation cost more than the checks.
    """
    used = {LINE_COLUMN, LOAD_COLUMN, ROW_COLUMN}
    for spec in suite.provided(columns):
        used.update(spec.columns, spec.requires)
        condition = str(spec.kwargs.get("row_condition", ""))
        used.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", condition))
    return [c for c in columns if c in used]


def _faithful_types(kind: pa.DataType) -> Any:
    """The pandas type that tells a column's type as staged: nullable integers stay integers."""
    import pandas as pd

    return {
        pa.int64(): pd.Int64Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }.get(kind)


def schema_frame(schema: pa.Schema) -> pd.DataFrame:
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


def to_frame(table: pa.Table, index: str | None) -> pd.DataFrame:
    """A chunk as the DataFrame GX validates, indexed by ``index`` (the source line) if given."""
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


def schema_specs(specs: list[Spec], schema: pa.Schema) -> tuple[int, ...]:
    """Positions of the type-list specs GX decides from the column's pandas type alone."""
    frame = schema_frame(schema)
    return tuple(
        i
        for i, spec in enumerate(specs)
        if spec.type == "expect_column_values_to_be_in_type_list"
        and spec.columns[0] in frame.columns
        and frame[spec.columns[0]].dtype != object
    )
