"""``ingest export``: the marts as Parquet or CSV files, for tools that do not speak DuckDB.

The marts are read where BI reads them (the BI copy of a file warehouse, the lake read-only),
all in one transaction so every file comes from the same published state. Each file is written
under a temporary name and renamed, so a reader of the output folder never sees half a file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.backends import transaction
from ingest.config import Settings
from ingest.errors import IngestError
from ingest.sqlfiles import quote_identifier, quote_literal, run_sql
from ingest.warehouse import open_bi

# the output formats and the options DuckDB's COPY writes them with
FORMATS = {"parquet": "format parquet, compression zstd", "csv": "format csv, header true"}


class UnknownMartError(IngestError):
    """A mart was asked for that the warehouse does not have."""


@dataclass(frozen=True)
class ExportedMart:
    """One mart written to one file: the ``--json`` object of ``ingest export``."""

    mart: str
    path: str
    rows: int
    format: str

    def to_dict(self) -> dict[str, object]:
        return {"mart": self.mart, "path": self.path, "rows": self.rows, "format": self.format}

    def __str__(self) -> str:
        return f"{self.mart}: {self.rows} rows -> {self.path}"


def list_marts(settings: Settings) -> list[str]:
    """The names of the relations in the ``marts`` schema BI reads, sorted."""
    conn = open_bi(settings)
    try:
        return [name for (name,) in run_sql(conn, "export/list_marts").fetchall()]
    finally:
        conn.close()


def export_marts(
    settings: Settings,
    out: Path,
    *,
    marts: Sequence[str] = (),
    format: str = "parquet",
) -> list[ExportedMart]:
    """Write each mart (all of them when ``marts`` is empty) to ``out/<mart>.<format>``.

    Raises:
        UnknownMartError: a name in ``marts`` is not a mart; the message lists those there are.
        IngestError: there is nothing published to read yet (no BI copy), or the format is not
            one of :data:`FORMATS`.
    """
    if format not in FORMATS:
        raise IngestError(f"unknown export format {format!r}; expected one of {', '.join(FORMATS)}")
    conn = open_bi(settings)
    try:
        with transaction(conn):
            known = [name for (name,) in run_sql(conn, "export/list_marts").fetchall()]
            unknown = [m for m in marts if m not in known]
            if unknown:
                raise UnknownMartError(
                    f"no mart named {', '.join(map(repr, unknown))}; the marts are:"
                    f" {', '.join(known) or 'none yet'}"
                )
            chosen = list(dict.fromkeys(marts)) or known
            out.mkdir(parents=True, exist_ok=True)
            return [_copy(conn, name, out, format) for name in chosen]
    finally:
        conn.close()


def _copy(conn: duckdb.DuckDBPyConnection, mart: str, out: Path, format: str) -> ExportedMart:
    target = out / f"{mart}.{format}"
    partial = out / f".{mart}.{format}.partial"
    # COPY takes no bound parameters: the mart is a quoted identifier of a name the catalog
    # listed, the path a quoted literal, the options a fixed string from FORMATS
    relation = f"{quote_identifier('marts')}.{quote_identifier(mart)}"
    try:
        row = conn.execute(
            f"copy (select * from {relation}) to {quote_literal(str(partial))} ({FORMATS[format]})"
        ).fetchone()
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return ExportedMart(mart=mart, path=str(target), rows=int(row[0]) if row else 0, format=format)
