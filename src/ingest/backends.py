"""Where the embedded DuckDB file and DuckLake differ, handled in one place.

The pipeline's SQL is written once. On DuckLake (catalog in PostgreSQL, Parquet data files):

- the extensions come from the pinned ``duckdb-extension-*`` wheels, never from the network;
- the lake is attached as ``lake`` and made the default catalog, so ``core.x`` resolves as on a
  file; temporary tables still live in DuckDB's own ``temp`` catalog;
- PRIMARY KEY and UNIQUE constraints do not exist: :func:`adapt_ddl` strips them from the
  migrations, and the keys are kept by MERGE (publish) plus the uniqueness audits;
- several writers may commit at once: DuckLake retries non-conflicting commits itself; a real
  conflict surfaces as an error that :func:`retry_on_conflict` answers by running the whole
  transaction again, and :func:`claim` makes writers that must not interleave (two publishes of
  one platform, two marts rebuilds) conflict on purpose instead of silently both committing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

from ingest.config import Lake
from ingest.errors import IngestError, WarehouseBusyError
from ingest.sqlfiles import quote_identifier, quote_literal, read_sql, run_sql

log = logging.getLogger(__name__)

T = TypeVar("T")

LAKE_CATALOG = "lake"
# (extension name as duckdb knows it, wheel package that ships it); postgres first: the
# ducklake catalog connects through it
_EXTENSIONS = (
    ("postgres_scanner", "duckdb_extension_postgres"),
    ("ducklake", "duckdb_extension_ducklake"),
)
_CONFLICT_MARKERS = ("conflict", "exceeded the maximum retry count")

_CONSTRAINT_NAME_RE = re.compile(r"\bconstraint\s+(?:\w+|\"(?:[^\"]|\"\")*\")$", re.IGNORECASE)


def extension_file(package: str) -> Path:
    """The ``.duckdb_extension`` file a pinned wheel ships for this duckdb version."""
    spec = importlib.util.find_spec(package)
    folders = list(spec.submodule_search_locations or []) if spec else []
    version = "v" + duckdb.__version__
    for folder in folders:
        found = sorted((Path(folder) / "extensions" / version).glob("*.duckdb_extension"))
        if found:
            return found[0]
    raise IngestError(
        f"the {package} wheel for duckdb {duckdb.__version__} is not installed; "
        "DuckLake needs duckdb-extension-ducklake and duckdb-extension-postgres"
    )


def load_extensions(conn: duckdb.DuckDBPyConnection) -> None:
    """Install (from the wheels, once per machine) and load postgres and ducklake."""
    installed = dict(run_sql(conn, "lake/installed_extensions").fetchall())
    for name, package in _EXTENSIONS:
        if not installed.get(name):
            conn.install_extension(str(extension_file(package)))
        conn.load_extension(name)


def connect_lake(
    lake: Lake, *, read_only: bool = False, snapshot: int | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as ``lake`` and in use.

    Writers pass the data path (a new lake records it in its catalog); readers attach
    read-only without it, optionally at one snapshot.
    """
    # why: an extension missing from the wheels must fail here, not be fetched from the web
    conn = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        load_extensions(conn)
        # ATTACH takes no bound parameters: its path and options are quoted literals
        options = ["read_only"] if read_only else [f"data_path {quote_literal(lake.data_path)}"]
        if snapshot is not None:
            options.append(f"snapshot_version {int(snapshot)}")
        catalog = quote_identifier(LAKE_CATALOG)
        conn.execute(f"attach {quote_literal(lake.uri)} as {catalog} ({', '.join(options)})")
        conn.execute(f"use {catalog}")
        run_sql(conn, "warehouse/session")
    except duckdb.Error as exc:
        conn.close()
        message = str(exc).replace(lake.conninfo, "<conninfo>")
        raise IngestError(f"cannot open warehouse {lake.redacted()}: {message}") from None
    return conn


def is_lake(conn: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's default catalog is a DuckLake."""
    row = run_sql(conn, "warehouse/catalog_type").fetchone()
    return row is not None and row[0] == "ducklake"


# ---- DDL: the common subset


def _quoted_end(sql: str, start: int) -> int:
    """The index after the string literal or quoted identifier that starts at ``start``."""
    quote = sql[start]
    i = start + 1
    while i < len(sql):
        if sql[i] == quote:
            if i + 1 < len(sql) and sql[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return len(sql)


def _strip_comments(sql: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(sql):
        if sql[i] in "'\"":
            end = _quoted_end(sql, i)
            out.append(sql[i:end])
            i = end
        elif sql.startswith("--", i):
            newline = sql.find("\n", i)
            i = len(sql) if newline < 0 else newline
        else:
            out.append(sql[i])
            i += 1
    return "".join(out)


def _skip_parens(sql: str, start: int) -> int:
    """The index after the parenthesised group starting at ``start`` (an opening paren)."""
    depth = 0
    for i in range(start, len(sql)):
        if sql[i] == "(":
            depth += 1
        elif sql[i] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
    raise IngestError("unbalanced parentheses in a migration")


def adapt_ddl(sql: str) -> str:
    """The migration as DuckLake accepts it: PRIMARY KEY and UNIQUE constraints removed.

    Table constraints (``, primary key (a, b)``, named or not) and column constraints (``id
    varchar primary key``, which stays ``not null``) go; everything else is left as written.
    Keys stay enforced by the MERGE that publishes rows and by the uniqueness audits.
    """
    text = _strip_comments(sql)
    lowered = text.lower()
    out: list[str] = []
    i = 0
    keywords = ("primary key", "unique")
    while i < len(text):
        if text[i] in "'\"":
            end = _quoted_end(text, i)
            out.append(text[i:end])
            i = end
            continue
        hit = next(
            (
                k
                for k in keywords
                if lowered.startswith(k, i)
                and (i == 0 or not (lowered[i - 1].isalnum() or lowered[i - 1] == "_"))
                and not (
                    i + len(k) < len(text)
                    and (lowered[i + len(k)].isalnum() or lowered[i + len(k)] == "_")
                )
            ),
            None,
        )
        if hit is None:
            out.append(text[i])
            i += 1
            continue
        after = i + len(hit)
        rest = text[after:].lstrip()
        if rest.startswith("("):
            # a table constraint: drop it with its name and the comma before it
            end = _skip_parens(text, len(text) - len(rest))
            kept = _CONSTRAINT_NAME_RE.sub("", "".join(out).rstrip()).rstrip()
            if kept.endswith(","):
                kept = kept[:-1]
            out = [kept]
            i = end
        else:
            # a column constraint; a primary key column stays not null
            if hit == "primary key":
                out.append("not null")
            i = after
    return "".join(out)


# ---- concurrent writers


def is_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from or during) is a DuckLake commit conflict."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, duckdb.Error) and any(
            marker in str(current).lower() for marker in _CONFLICT_MARKERS
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def end_transaction(conn: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, if any is still open."""
    # why: a failed commit has already ended the transaction, so rollback may refuse
    with contextlib.suppress(duckdb.Error):
        conn.execute("rollback")


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction around the block: committed at its end, rolled back on any error.

    A commit that fails (a DuckLake conflict) propagates like any error, with the transaction
    ended, so :func:`retry_on_conflict` can run the block again from a clean state.
    """
    conn.execute("begin transaction")
    try:
        yield
        conn.execute("commit")
    except BaseException:
        end_transaction(conn)
        raise


def retry_on_conflict(
    conn: duckdb.DuckDBPyConnection,
    work: Callable[[], T],
    *,
    what: str,
    attempts: int = 8,
    first_delay: float = 0.05,
    max_delay: float = 2.0,
) -> T:
    """Run ``work`` (one whole transaction), again on a commit conflict, with backoff.

    ``work`` must begin and commit its own transaction and leave nothing behind on failure,
    so a rerun starts from the other writer's committed state. Any other error propagates at
    once; after ``attempts`` conflicts the last one is reported as a busy warehouse.
    """
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except duckdb.Error as exc:
            if not is_conflict(exc):
                raise
            end_transaction(conn)
            if attempt == attempts:
                raise WarehouseBusyError(
                    f"{what}: still conflicting with other writers after {attempts} attempts;"
                    " try again later"
                ) from exc
            log.info("%s conflicted with another writer (attempt %d); retrying", what, attempt)
            time.sleep(delay + random.uniform(0, delay))
            delay = min(delay * 2, max_delay)
    raise AssertionError("unreachable")


def claim(conn: duckdb.DuckDBPyConnection, scope: str) -> None:
    """Inside a transaction on DuckLake, make any concurrent claim of ``scope`` conflict.

    DuckLake detects conflicting deletes and updates, but two transactions that only insert
    never conflict: two publishes of the same keys would both commit and double the rows.
    Updating one shared row turns such a race into a conflict that the loser retries against
    the winner's data. On the file backend there is one writer and this does nothing.
    """
    if not is_lake(conn):
        return
    updated = run_sql(conn, "lake/claim_lease", {"scope": scope}).fetchone()
    if not updated or not updated[0]:
        run_sql(conn, "lake/add_lease", {"scope": scope})


def lease_scopes(platforms: tuple[str, ...]) -> tuple[str, ...]:
    """Every scope a writer claims: migrations, marts, the creators mapping, each platform."""
    return ("migrate", "marts", "creators", *(publish_scope(p) for p in platforms))


def publish_scope(platform: str | None) -> str:
    """The lease a publish of ``platform`` claims (loads of one platform share keys)."""
    return f"publish:{platform or '-'}"


def bootstrap_lake(
    conn: duckdb.DuckDBPyConnection, bootstrap: str, scopes: tuple[str, ...]
) -> None:
    """Create the migration log and the leases (with a row per scope), in one transaction."""
    with transaction(conn):
        conn.execute(adapt_ddl(bootstrap))
        run_sql(conn, "lake/create_write_leases")
        conn.executemany(read_sql("lake/seed_write_lease"), [{"scope": s} for s in scopes])


def current_snapshot(conn: duckdb.DuckDBPyConnection) -> int:
    """The lake's latest committed snapshot id."""
    row = run_sql(conn, "lake/current_snapshot", {"catalog": LAKE_CATALOG}).fetchone()
    return int(row[0]) if row else 0
