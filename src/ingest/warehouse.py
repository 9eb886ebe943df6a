"""The warehouse: a DuckDB file (one writer at a time) or DuckLake, migrations applied on open.

Callers get a DuckDB connection either way and run the same SQL on it; what differs between
the backends lives in :mod:`ingest.backends`.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from ingest import backends
from ingest.config import Lake, Settings
from ingest.errors import IngestError, WarehouseBusyError
from ingest.platforms import names as platform_names
from ingest.sqlfiles import read_sql, run_sql, sql_root

_LOCK_MARKERS = ("Could not set lock", "Conflicting lock")


def open_warehouse(
    path: Path | Lake, *, read_only: bool = False, busy_timeout: float = 30.0
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file (or the lake), waiting up to ``busy_timeout`` s for a writer.

    DuckDB lets one process write a file at a time; a second writer gets a clear
    WarehouseBusyError after the wait instead of DuckDB's lock message. DuckLake has no such
    lock: writers and readers attach at once, and writers settle conflicts at commit.
    """
    if isinstance(path, Lake):
        return backends.connect_lake(path, read_only=read_only)
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
        run_sql(conn, "warehouse/session")
        return conn


@contextmanager
def writer(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse opened for writing, migrated, closed afterwards."""
    conn = open_warehouse(settings.target, busy_timeout=settings.busy_timeout)
    try:
        if settings.lake is None:
            run_sql(conn, "warehouse/checkpoint_threshold")
        migrate(conn)
        yield conn
    finally:
        conn.close()


@contextmanager
def publishing_memory(conn: duckdb.DuckDBPyConnection, settings: Settings) -> Iterator[None]:
    """The writer held to ``INGEST_WRITER_MEMORY_MIB`` while it publishes loads.

    Publishing thousands of pages leaves DuckDB caching every block it wrote. The marts rebuild
    after it is not bound: rebuilding a year of a large warehouse's marts needs more than such
    a limit (at 256 MiB, 1,000 accounts' year failed to pin a block). A DuckLake writer is an
    in-memory DuckDB, which would spill into the working directory: it is left alone.
    """
    if settings.lake is not None:
        yield
        return
    found = run_sql(conn, "warehouse/memory_limit").fetchone()
    run_sql(conn, "warehouse/set_memory_limit", {"limit": f"{settings.writer_memory_mib}MiB"})
    try:
        yield
    finally:
        # why: RESET memory_limit (DuckDB 1.5) changes the reported setting but leaves the
        # buffer manager at the lower limit, so the marts rebuild ran held to it
        if found is not None:
            run_sql(conn, "warehouse/set_memory_limit", {"limit": found[0]})


# what DuckLake says when a read-only attach finds no lake in the catalog database yet
_NO_LAKE_MARKER = "does not exist"


def open_reader(settings: Settings) -> duckdb.DuckDBPyConnection | None:
    """The warehouse opened read-only (never migrated), or None when it does not exist yet.

    Nothing is created: a missing file stays missing, a lake not yet made stays unmade. A file
    another process is writing is waited for like any open (``busy_timeout``).
    """
    if settings.lake is None:
        if not settings.warehouse.exists():
            return None
        return open_warehouse(
            settings.warehouse, read_only=True, busy_timeout=settings.busy_timeout
        )
    try:
        return backends.connect_lake(settings.lake, read_only=True)
    except IngestError as exc:
        if _NO_LAKE_MARKER in str(exc):
            return None
        raise


def open_bi(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A read-only connection for BI: the BI copy of a file warehouse, or the lake itself.

    On DuckLake every query reads one committed snapshot, and each publish and each marts
    rebuild commits as one snapshot, so a reader never sees half of either.
    """
    if settings.lake is not None:
        return backends.connect_lake(settings.lake, read_only=True)
    if not settings.bi_warehouse.exists():
        raise IngestError(
            f"no BI copy at {settings.bi_warehouse}: run `ingest load` or `ingest demo` first"
        )
    return open_warehouse(settings.bi_warehouse, read_only=True)


def migrations() -> list[tuple[str, Path]]:
    """``sql/migrations/V<nnn>__<name>.sql`` in version order."""
    files = sorted((sql_root() / "migrations").glob("V*__*.sql"))
    return [(f.name.split("__", 1)[0], f) for f in files]


def migrate(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations not yet applied, each in its own transaction; return their versions.

    A migration already applied is skipped; one whose file changed since is an error, because
    the warehouse would no longer match the code. On DuckLake the text is adapted (no key
    constraints) but the checksum is the file's, and a migration that conflicts with another
    writer migrating at the same moment is re-checked and, if still needed, applied again.
    """
    lake = backends.is_lake(conn)
    bootstrap = read_sql("warehouse/create_migration_log")
    if lake:
        scopes = backends.lease_scopes(platform_names())
        backends.retry_on_conflict(
            conn, lambda: backends.bootstrap_lake(conn, bootstrap, scopes), what="migrate"
        )
    else:
        conn.execute(bootstrap)
    done: list[str] = []
    for version, path in migrations():
        name, text = path.name, path.read_text(encoding="utf-8")
        applied = backends.retry_on_conflict(
            conn, functools.partial(_apply, conn, version, name, text, lake), what="migrate"
        )
        if applied:
            done.append(version)
    return done


def _apply(conn: duckdb.DuckDBPyConnection, version: str, name: str, text: str, lake: bool) -> bool:
    """Apply one migration unless it is already applied; whether it was applied now."""
    checksum = hashlib.sha256(text.encode()).hexdigest()
    row = run_sql(conn, "warehouse/applied_checksum", {"version": version}).fetchone()
    if row is not None:
        if row[0] != checksum:
            raise IngestError(
                f"migration {name} changed after it was applied; add a new one instead"
            )
        return False
    with backends.transaction(conn):
        conn.execute(backends.adapt_ddl(text) if lake else text)
        if lake:
            # why: two writers migrating at once must conflict rather than both apply it
            backends.claim(conn, "migrate")
        run_sql(
            conn,
            "warehouse/record_migration",
            {"version": version, "name": name, "checksum": checksum},
        )
    return True
