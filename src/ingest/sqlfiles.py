"""SQL lives in ``sql/`` files; this finds them by name and runs them with bound parameters.

The core's statements are in the repository's ``sql/`` folder (``read_sql``); a platform
package keeps its own in an ``sql/`` folder inside the package (``read_package_sql``), so
that it travels with the platform. Values are always bound; the few identifiers that must be
spliced into a statement (a column named by a header, a temp table per entity) go through
``quote_identifier``.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

_PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def sql_root() -> Path:
    """The ``sql/`` folder: shipped inside the package, or the repository's own."""
    packaged = Path(__file__).parent / "sql"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "sql"


@cache
def read_sql(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    return (sql_root() / f"{name}.sql").read_text(encoding="utf-8")


@cache
def read_package_sql(package: str, name: str) -> str:
    """The text of ``<package>/sql/<name>.sql``, a statement shipped inside a package."""
    return resources.files(package).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def execute(
    conn: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Execute with the named parameters the statement uses (DuckDB refuses extra ones)."""
    used = set(_PARAM_RE.findall(sql))
    return conn.execute(sql, {k: v for k, v in (params or {}).items() if k in used})


def run_sql(
    conn: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Run one statement from ``sql/<name>.sql`` with named parameters (``$run_date``)."""
    return execute(conn, read_sql(name), params)


def run_package_sql(
    package: str,
    conn: duckdb.DuckDBPyConnection,
    name: str,
    params: dict[str, Any] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Run one statement from ``<package>/sql/<name>.sql`` with named parameters."""
    return execute(conn, read_package_sql(package, name), params)


def in_memory() -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB connection with the settings every connection here starts with
    (``sql/warehouse/session.sql``)."""
    conn = duckdb.connect()
    run_sql(conn, "warehouse/session")
    return conn


def quote_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier, for the table and column names of the model.

    Only names the code knows (model entities, marts, temp tables) are spliced this way;
    values from input are always bound as parameters.
    """
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """``text`` as a SQL string literal, for ATTACH, which takes no bound parameters."""
    return "'" + text.replace("'", "''") + "'"


def create_temp_table(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    model: str,
    params: dict[str, Any] | None = None,
) -> None:
    """Materialise the query ``sql/<model>.sql`` as the temporary table ``table``.

    A table's true size steers the planner where a CTE's estimate would mislead it.
    """
    sql = f"create or replace temp table {quote_identifier(table)} as {read_sql(model)}"
    execute(conn, sql, params)


def drop_temp_tables(conn: duckdb.DuckDBPyConnection, *tables: str) -> None:
    """Drop the temporary tables a step made (those it did not make are ignored)."""
    for table in tables:
        conn.execute(f"drop table if exists {quote_identifier(table)}")
