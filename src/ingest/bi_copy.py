"""The BI copy: the marts (and the small tables BI reads beside them) as a file BI tools open.

BI tools open only this copy, so they are never locked out by the writer and never see a
half-published day. On DuckLake there is no copy: readers attach the lake itself.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import duckdb

from ingest.backends import current_snapshot, is_lake, transaction
from ingest.config import Settings
from ingest.sqlfiles import (
    create_temp_table,
    drop_temp_tables,
    quote_identifier,
    quote_literal,
    run_sql,
)
from ingest.transforms import MARTS, mart_scope

log = logging.getLogger(__name__)

# small tables BI reads beside the marts: copied whole when they changed
BI_SIDE_TABLES = ("meta.loads", "meta.tier_rules", "meta.metric_breaks", "marts.metric_breaks")
# side tables that grow with the history (a row per file loaded), by their key: only the rows
# that differ are replaced, so a night does not rewrite a year of load records
KEYED_SIDE_TABLES = {"meta.loads": "load_id"}
# the catalog the copy is attached as while it is written (the sql/bi files name it too)
BI_CATALOG = "bi_copy"
# the ranges rebuilt since the last copy, as temporary tables named after their sql/bi models
COPY_RANGE_TABLES = ("ranges_to_copy", "creators_to_copy", "tier_history_replace_from")


def publish_bi(conn: duckdb.DuckDBPyConnection, settings: Settings) -> Path | str:
    """Copy the marts (and load log) to the BI file and swap it in atomically.

    Readers with the old file open keep reading the old snapshot.

    The new copy starts as a file copy of the current one, in which only the mart ranges
    rebuilt since (``meta.bi_pending_days``) are replaced, so a nightly publish costs the
    day's changes, not the history. When the current copy is missing, is not the one the
    warehouse last published, or the marts' columns changed, the copy is made whole instead.

    On DuckLake there is no copy: readers attach the lake read-only and every query reads
    one committed snapshot; this only names the snapshot the marts are at.
    """
    if is_lake(conn):
        return f"ducklake snapshot {current_snapshot(conn)}"
    target = settings.bi_warehouse
    target.parent.mkdir(parents=True, exist_ok=True)
    layout_row = run_sql(conn, "bi/marts_layout").fetchone()
    layout = str(layout_row[0]) if layout_row else ""
    state = run_sql(conn, "bi/last_copy").fetchone()
    copy_id = secrets.token_hex(8)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".bi-", suffix=".duckdb")
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        refreshed = (
            state is not None
            and state[1] == layout
            and target.is_file()
            and _refresh_copy(conn, target, tmp, str(state[0]), copy_id)
        )
        if not refreshed:
            tmp.unlink(missing_ok=True)
            Path(tmp_name + ".wal").unlink(missing_ok=True)
            _full_copy(conn, tmp, copy_id)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        Path(tmp_name + ".wal").unlink(missing_ok=True)
        raise
    # why: a crash before this commit leaves the warehouse naming the previous copy, so the
    # next publish finds a copy it does not know and rebuilds it whole: never a wrong delta
    with transaction(conn):
        run_sql(conn, "bi/clear_copied_ranges")
        run_sql(conn, "bi/record_copy", {"copy_id": copy_id, "marts_layout": layout})
    return target


def _attach_copy(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    # ATTACH takes no bound parameters: the path is a quoted literal
    conn.execute(f"attach {quote_literal(str(path))} as {quote_identifier(BI_CATALOG)}")


def _copied(table: str) -> str:
    """``schema.table`` of the warehouse as the same table in the attached copy."""
    return f"{quote_identifier(BI_CATALOG)}.{table}"


def _full_copy(conn: duckdb.DuckDBPyConnection, path: Path, copy_id: str) -> None:
    """A new BI file at ``path`` holding every mart and side table whole."""
    _attach_copy(conn, path)
    try:
        run_sql(conn, "bi/create_copy_schemas")
        for table in (*(mart.relation for mart in MARTS), *BI_SIDE_TABLES):
            conn.execute(f"create table {_copied(table)} as select * from {table}")
        run_sql(conn, "bi/create_copy_state", {"copy_id": copy_id})
    finally:
        run_sql(conn, "bi/detach_copy")


def _refresh_copy(
    conn: duckdb.DuckDBPyConnection, current: Path, path: Path, expected_id: str, copy_id: str
) -> bool:
    """Copy the current BI file to ``path`` and replace the rebuilt ranges in it, in one go.

    Returns False (leaving ``path`` to be discarded) when the current file is not the copy
    ``expected_id`` the warehouse last published.
    """
    shutil.copyfile(current, path)
    try:
        _attach_copy(conn, path)
    except duckdb.Error as exc:
        log.warning("the BI copy cannot be opened (%s); copying the marts whole", exc)
        return False
    try:
        try:
            row = run_sql(conn, "bi/copy_id").fetchone()
        except duckdb.CatalogException:
            row = None
        if row is None or row[0] != expected_id:
            log.info("the BI copy is not the one last published; copying the marts whole")
            return False
        for table in COPY_RANGE_TABLES:
            create_temp_table(conn, table, f"bi/{table}")
        # a keyed table is compared row by row (a read of both); one that cannot be (a migration
        # changed its columns) is compared and copied whole like the small ones
        keyed = [t for t in KEYED_SIDE_TABLES if _comparable(conn, t)]
        # an unchanged table is left alone: rewriting it would cost its copy a checkpoint
        changed = [
            t for t in BI_SIDE_TABLES if t not in keyed and not _same_rows(conn, t, _copied(t))
        ]
        with transaction(conn):
            for mart in MARTS:
                affected, match = mart_scope(mart, "ranges_to_copy", "creators_to_copy")
                if mart.replace_by == "stretch":
                    affected = quote_identifier("tier_history_replace_from")
                    match += " and m.valid_from >= a.cut"
                target = _copied(mart.relation)
                conn.execute(f"delete from {target} m using {affected} a where {match}")
                # one range per account or creator: the join repeats no row
                conn.execute(
                    f"insert into {target} select m.* from {mart.relation} m, {affected} a"
                    f" where {match}"
                )
            for table in keyed:
                _replace_differing_rows(conn, table, KEYED_SIDE_TABLES[table])
            for table in changed:
                conn.execute(f"drop table {_copied(table)}")
                conn.execute(f"create table {_copied(table)} as select * from {table}")
            run_sql(conn, "bi/rename_copy", {"copy_id": copy_id})
    finally:
        run_sql(conn, "bi/detach_copy")
        drop_temp_tables(conn, *COPY_RANGE_TABLES, "side_rows_to_replace")
    return True


def _comparable(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether ``table`` and its copy have the same columns, so rows can be matched."""
    row = run_sql(conn, "bi/same_columns", {"table": table}).fetchone()
    return bool(row and row[0])


def _replace_differing_rows(conn: duckdb.DuckDBPyConnection, table: str, key: str) -> None:
    """Replace in the copy the rows of ``table`` that are new, changed or gone, by ``key``."""
    run_sql(conn, "bi/side_rows_to_replace", {"table": table, "key": key})
    # the spliced names are this module's constants; the keys come from the temporary table
    match = f"{quote_identifier(key)} in (select key from side_rows_to_replace)"
    conn.execute(f"delete from {_copied(table)} where {match}")
    conn.execute(f"insert into {_copied(table)} select * from {table} where {match}")
    drop_temp_tables(conn, "side_rows_to_replace")


def _same_rows(conn: duckdb.DuckDBPyConnection, table: str, copy: str) -> bool:
    """Whether two small tables hold the same rows (False when they cannot be compared)."""
    try:
        row = conn.execute(
            f"select (select count(*) from {table}) = (select count(*) from {copy})"
            f" and not exists (select * from {table} except all select * from {copy})"
        ).fetchone()
    except duckdb.Error:
        return False
    return bool(row and row[0])
