"""The DuckDB warehouse: one writer at a time, migrations applied on open."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from ingest.config import Settings
from ingest.errors import IngestError, WarehouseBusyError
from ingest.sqlfiles import sql_root

_LOCK_MARKERS = ("Could not set lock", "Conflicting lock")


def open_warehouse(
    path: Path, *, read_only: bool = False, busy_timeout: float = 30.0
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file, waiting up to ``busy_timeout`` seconds for another writer.

    DuckDB lets one process write a file at a time; a second writer gets a clear
    WarehouseBusyError after the wait instead of DuckDB's lock message.
    """
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + busy_timeout
    delay = 0.05
    while True:
        try:
            conn = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if not any(marker in str(exc) for marker in _LOCK_MARKERS):
                raise IngestError(f"cannot open warehouse {path.name}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise WarehouseBusyError(
                    f"warehouse {path.name} is busy: another process is writing to it "
                    f"(waited {busy_timeout:.0f} s); try again when it has finished"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
            continue
        conn.execute("set TimeZone = 'UTC'")
        return conn


@contextmanager
def writer(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened for writing, migrated, closed afterwards."""
    conn = open_warehouse(settings.warehouse, busy_timeout=settings.busy_timeout)
    try:
        migrate(conn)
        yield conn
    finally:
        conn.close()


def migrations() -> list[tuple[str, Path]]:
    """``sql/migrations/V<nnn>__<name>.sql`` in version order."""
    files = sorted((sql_root() / "migrations").glob("V*__*.sql"))
    return [(f.name.split("__", 1)[0], f) for f in files]


def migrate(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations not yet applied, each in its own transaction; return their versions.

    A migration already applied is skipped; one whose file changed since is an error, because
    the warehouse would no longer match the code.
    """
    conn.execute(
        "create schema if not exists meta;"
        "create table if not exists meta.schema_migrations ("
        " version varchar primary key, name varchar not null, checksum varchar not null,"
        " applied_at timestamptz not null default current_timestamp)"
    )
    applied = dict(conn.execute("select version, checksum from meta.schema_migrations").fetchall())
    done: list[str] = []
    for version, path in migrations():
        text = path.read_text(encoding="utf-8")
        checksum = hashlib.sha256(text.encode()).hexdigest()
        if version in applied:
            if applied[version] != checksum:
                raise IngestError(
                    f"migration {path.name} changed after it was applied; add a new one instead"
                )
            continue
        conn.execute("begin transaction")
        try:
            conn.execute(text)
            conn.execute(
                "insert into meta.schema_migrations (version, name, checksum) values ($v, $n, $c)",
                {"v": version, "n": path.name, "c": checksum},
            )
            conn.execute("commit")
        except Exception:
            conn.execute("rollback")
            raise
        done.append(version)
    return done
