"""SQL lives in ``sql/`` files; this finds them by name and runs them with bound parameters."""

from __future__ import annotations

import re
from functools import cache
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


def quote_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier, for the table and column names of the model.

    Only names the code knows (model entities, marts, temp tables) are spliced this way;
    values from input are always bound as parameters.
    """
    return '"' + name.replace('"', '""') + '"'
