"""Which accounts a delivery holds: the volume gate compares a delivery only with their own.

A file that names its account (an export dropped in ``<account>/``, a pull of one account) is
that account's. A file that does not (a ``channels.list`` page, a ``business_discovery``
response loaded by hand) holds the accounts its rows name. Deliveries of different accounts
are never compared: three new channels are not a drop from a page of forty others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import duckdb

from ingest.sqlfiles import execute, read_sql
from ingest.staging import StagedBatch, StagedEntity, staged_rows_sql

ACCOUNT_COLUMN = "account_id"
# staged files read per statement: one read of a whole pull's files (20,000 for 1M rows in API
# pages) held about 500 MiB of file metadata, and the process kept it to the end of the run
FILES_PER_READ = 1000


def staged_accounts(
    conn: duckdb.DuckDBPyConnection,
    batches: Sequence[StagedBatch],
    *,
    files_per_read: int = FILES_PER_READ,
) -> list[str]:
    """The distinct account ids the batches' staged rows name, sorted."""
    # per entity: the files of one entity have the same columns
    by_entity: dict[str, list[tuple[str, StagedEntity]]] = {}
    for batch in batches:
        for name, entity in batch.entities.items():
            if entity.rows and ACCOUNT_COLUMN in entity.columns:
                by_entity.setdefault(name, []).append((batch.load_id, entity))
    accounts: set[str] = set()
    for members in by_entity.values():
        for start in range(0, len(members), files_per_read):
            rows, params = staged_rows_sql(members[start : start + files_per_read])
            found = execute(
                conn, f"with staged as ({rows}) {read_sql('deliveries/staged_accounts')}", params
            ).fetchall()
            accounts.update(str(row[0]) for row in found)
    return sorted(accounts)


def accounts_key(accounts: Sequence[str]) -> str | None:
    """One value naming a set of accounts: the id of a single one, else a count and a digest.

    None for no accounts (an empty delivery): it is compared with the deliveries that named
    no account, as before accounts were resolved.
    """
    unique = sorted(set(accounts))
    if not unique:
        return None
    if len(unique) == 1:
        return unique[0]
    digest = hashlib.sha256("\n".join(unique).encode("utf-8")).hexdigest()[:16]
    return f"{len(unique)} accounts {digest}"


def delivery_accounts(
    conn: duckdb.DuckDBPyConnection, named: str | None, batches: Sequence[StagedBatch]
) -> str | None:
    """The accounts key of a delivery: the account its files name, else the ones its rows name."""
    if named:
        return named
    return accounts_key(staged_accounts(conn, batches))
