"""Fingerprints of whole DuckDB files: every table from the catalog, comparable across runs.

Two warehouses built from the same bytes by different runs differ in what says *when* or *as
which attempt* something happened: load ids (a timestamp and a random suffix), start, finish
and check times. ``fingerprint`` keeps every other column of every table, and replaces each
load id by what the load was: its platform, format, bytes, account, landing day, parser version
and status (plus its rank among loads of that same description), so a row attributed to another
load still changes the print.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import duckdb

# columns that hold the clock of the run that wrote the row, whatever table they are in
RUN_CLOCK_COLUMNS = frozenset(
    {
        "started_at",  # meta.loads
        "finished_at",  # meta.loads
        "checked_at",  # meta.validations
        "quarantined_at",  # quarantine.rows
        "replaced_at",  # core.*_history
        "held_at",  # meta.mart_audit_holds
        "applied_at",  # meta.schema_migrations
    }
)
# columns that are run-specific in one table only
RUN_COLUMNS_BY_TABLE: dict[str, frozenset[str]] = {
    # the BI copy's id and publish time name the copy, not its content
    "meta.bi_copy_state": frozenset({"copy_id", "published_at"}),
    # a creators mapping is observed when it is loaded (files carry their own observation time)
    "core.creators": frozenset({"observed_at"}),
}
LOAD_ID_COLUMNS = frozenset({"load_id", "replaced_by_load_id"})


def load_names(path: Path) -> dict[str, str]:
    """Each load id of ``meta.loads`` mapped to a description of the load that outlives its id."""
    with duckdb.connect(str(path), read_only=True) as conn:
        rows = conn.execute(
            "select load_id, concat_ws('|', coalesce(platform, '-'), format, source_sha256,"
            " coalesce(account_id, '-'), coalesce(cast(landing_day as varchar), '-'),"
            " coalesce(parser_version, '-'), status) from meta.loads order by started_at, load_id"
        ).fetchall()
    names: dict[str, str] = {}
    seen: dict[str, int] = {}
    for load_id, described in rows:
        seen[described] = seen.get(described, 0) + 1
        names[str(load_id)] = f"{described}#{seen[described]}"
    return names


def _canonical(value: Any, names: Mapping[str, str]) -> Any:
    if value is None:
        return None
    # an id missing from meta.loads is kept as it is: it can only match itself
    return names.get(str(value), f"unrecorded:{value}")


def fingerprint(
    path: Path,
    names: Mapping[str, str],
    *,
    schemas: tuple[str, ...] | None = None,
    keep: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """Every table and view of a DuckDB file (or of ``schemas``): row count and a hash of its rows.

    Run clocks are left out (``RUN_CLOCK_COLUMNS``, ``RUN_COLUMNS_BY_TABLE``) unless named in
    ``keep``; load ids are replaced through ``names`` (``load_names`` of the warehouse).
    """
    with duckdb.connect(str(path), read_only=True) as conn:
        # views too: the BI copy holds as a table what the warehouse derives in a view
        tables = conn.execute(
            "select schema_name, table_name from duckdb_tables()"
            " where database_name = current_database() union all"
            " select schema_name, view_name from duckdb_views()"
            " where database_name = current_database() and not internal order by all"
        ).fetchall()
        prints: dict[str, str] = {}
        for schema, table in tables:
            if schemas is not None and schema not in schemas:
                continue
            name = f"{schema}.{table}"
            skipped = (RUN_CLOCK_COLUMNS | RUN_COLUMNS_BY_TABLE.get(name, frozenset())) - keep
            columns = columns_of(conn, schema, table, skipped)
            ordered = _rows(conn, schema, table, columns, names)
            digest = hashlib.sha256(repr(ordered).encode()).hexdigest()[:16]
            prints[name] = f"{len(ordered)} rows {digest}"
        return prints


def columns_of(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, skipped: Collection[str] = ()
) -> list[str]:
    """A table's columns in their order, without ``skipped``."""
    rows = conn.execute(
        "select column_name from duckdb_columns() where database_name = current_database()"
        " and schema_name = $s and table_name = $t order by column_index",
        {"s": schema, "t": table},
    ).fetchall()
    return [str(c) for (c,) in rows if c not in skipped]


def _rows(
    conn: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    columns: list[str],
    names: Mapping[str, str],
) -> list[str]:
    return sorted(map(repr, _tuples(conn, schema, table, columns, names)))


def _tuples(
    conn: duckdb.DuckDBPyConnection,
    schema: str,
    table: str,
    columns: list[str],
    names: Mapping[str, str],
) -> list[tuple[Any, ...]]:
    quoted = ", ".join(f'"{c}"' for c in columns) or "1"
    ids = [i for i, c in enumerate(columns) if c in LOAD_ID_COLUMNS]
    # a load id quoted inside a value (an audit's kwargs name their delivery) is named too
    quoted_id = re.compile("|".join(map(re.escape, sorted(names, key=len, reverse=True))))

    def named(value: Any) -> Any:
        if isinstance(value, str) and names:
            return quoted_id.sub(lambda m: names[m.group(0)], value)
        return value

    return [
        tuple(_canonical(v, names) if i in ids else named(v) for i, v in enumerate(row))
        for row in conn.execute(f'select {quoted} from "{schema}"."{table}"').fetchall()
    ]


def table_rows(path: Path, table: str, names: Mapping[str, str]) -> list[str]:
    """The rows ``fingerprint`` hashes for one table, to show what differs when prints do."""
    return [row for rows in table_rows_by(path, table, None, names).values() for row in rows]


def table_rows_by(
    path: Path, table: str, column: str | None, names: Mapping[str, str]
) -> dict[str, list[str]]:
    """``table_rows`` grouped by the value of ``column`` (all in one group when None)."""
    schema, _, name = table.partition(".")
    skipped = RUN_CLOCK_COLUMNS | RUN_COLUMNS_BY_TABLE.get(table, frozenset())
    with duckdb.connect(str(path), read_only=True) as conn:
        columns = columns_of(conn, schema, name, skipped)
        groups: dict[str, list[str]] = {}
        where = columns.index(column) if column else None
        for row in _tuples(conn, schema, name, columns, names):
            key = "" if where is None else str(row[where])
            groups.setdefault(key, []).append(repr(row))
        return {key: sorted(rows) for key, rows in groups.items()}


def warehouse_and_bi(warehouse: Path, bi: Path) -> dict[str, dict[str, str]]:
    """Every table of the warehouse and of its BI copy, load ids named by the warehouse's loads."""
    names = load_names(warehouse)
    return {"warehouse": fingerprint(warehouse, names), "bi": fingerprint(bi, names)}
