"""``ingest status``: what the pipeline did lately and what needs a person, read-only.

One look at the warehouse's own records: the latest loads and how many ended in each status,
per platform the last day published, rejected files, quarantined rows, loads the audit
blocked and mart ranges held back from BI, the tracked accounts, the API quota the pulls
spent, the platform tokens (when each expires, which need renewing), and the Airflow tasks
that failed lately (``logs/task_failures.jsonl``).

The warehouse is opened read-only (never migrated, never created): a warehouse that does not
exist yet is reported as such, and a table an older warehouse lacks is named, not an error.
A file warehouse that another process is writing is waited for like any open, then named busy.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from ingest import accounts, platforms
from ingest.config import Settings
from ingest.plugin import load_object
from ingest.pull_state import QuotaUse
from ingest.redaction import redact
from ingest.sqlfiles import run_sql
from ingest.tokens import TokenState, token_states
from ingest.warehouse import open_reader

log = logging.getLogger(__name__)

Row = dict[str, Any]


@dataclass
class Status:
    """The state of one installation; ``to_dict`` for ``--json``, ``str`` for people.

    Args:
        warehouse: the warehouse, as messages name it (never with a password).
        checked_at: when this was read.
        exists: whether the warehouse exists yet.
        schema_version: the newest migration it applied.
        bi_copy_published_at: when the BI copy was last published (file warehouses).
        held_ranges: mart ranges held back from BI until their audit passes.
        load_counts: loads per status (published, failed, rejected).
        recent_loads: the latest loads, newest first.
        platforms: per platform, its published loads and the last day published and observed.
        rejected_files: the latest rejected files with their reasons.
        quarantine: quarantined rows per platform.
        quarantine_reasons: the commonest fields rows were quarantined for.
        audit: blocked loads and failed audit results, counted.
        audit_failures: the latest loads the audit blocked, with the expectations that failed.
        tracked_accounts: tracked accounts per platform.
        quota: the API quota the pulls spent, per platform that keeps one.
        tokens: the last known state of each platform token (expiry, warning).
        task_failures: the latest failed Airflow tasks.
        notes: what could not be read, and why.
    """

    warehouse: str
    checked_at: datetime
    exists: bool = False
    schema_version: str | None = None
    bi_copy_published_at: datetime | None = None
    held_ranges: int | None = None
    load_counts: dict[str, int] = field(default_factory=dict)
    recent_loads: list[Row] = field(default_factory=list)
    platforms: list[Row] = field(default_factory=list)
    rejected_files: list[Row] = field(default_factory=list)
    quarantine: list[Row] = field(default_factory=list)
    quarantine_reasons: list[Row] = field(default_factory=list)
    audit: Row = field(default_factory=dict)
    audit_failures: list[Row] = field(default_factory=list)
    tracked_accounts: dict[str, int] = field(default_factory=dict)
    quota: list[QuotaUse] = field(default_factory=list)
    tokens: list[TokenState] = field(default_factory=list)
    task_failures: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when nothing was ever loaded (a new warehouse, or none yet)."""
        return not self.load_counts

    def to_dict(self) -> dict[str, object]:
        return {
            "warehouse": self.warehouse,
            "checked_at": _plain(self.checked_at),
            "exists": self.exists,
            "empty": self.empty,
            "schema_version": self.schema_version,
            "bi_copy_published_at": _plain(self.bi_copy_published_at),
            "held_ranges": self.held_ranges,
            "load_counts": dict(self.load_counts),
            "recent_loads": _rows(self.recent_loads),
            "platforms": _rows(self.platforms),
            "rejected_files": {
                "count": self.load_counts.get("rejected", 0),
                "latest": _rows(self.rejected_files),
            },
            "quarantine": {
                "rows": sum(int(r["quarantined_rows"]) for r in self.quarantine),
                "per_platform": _rows(self.quarantine),
                "reasons": _rows(self.quarantine_reasons),
            },
            "audit": {**_plain_row(self.audit), "latest_blocked": _rows(self.audit_failures)},
            "tracked_accounts": dict(self.tracked_accounts),
            "quota": [q.to_dict() for q in self.quota],
            "tokens": [t.to_dict() for t in self.tokens],
            "task_failures": _rows(self.task_failures),
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        return "\n".join(_text(self))


# ---- reading


def status(settings: Settings, *, limit: int = 10) -> Status:
    """What the installation did lately and what needs attention, read without writing.

    Args:
        settings: the installation (warehouse, landing zone).
        limit: how many of the latest loads, rejected files, blocked loads and task failures
            to list (the counts always cover everything).

    Raises:
        WarehouseBusyError: another process kept the file warehouse for longer than
            ``settings.busy_timeout``.
    """
    limit = max(1, limit)
    now = datetime.now(UTC)
    found = Status(warehouse=settings.describe(), checked_at=now)
    found.quota = _quota(settings, now, found.notes)
    found.task_failures = _task_failures(settings, limit, found.notes)
    found.tokens = token_states(settings, now=now)
    conn = open_reader(settings)
    if conn is None:
        found.notes.append(
            f"no warehouse at {settings.describe()} yet: `ingest load` or `ingest demo` creates it"
        )
        return found
    try:
        found.exists = True
        _read(conn, found, limit)
    finally:
        conn.close()
    return found


def _has(conn: duckdb.DuckDBPyConnection, relation: str) -> bool:
    schema, _, name = relation.partition(".")
    row = run_sql(conn, "warehouse/has_table", {"schema": schema, "name": name}).fetchone()
    return bool(row and row[0])


def _fetch(cursor: duckdb.DuckDBPyConnection) -> list[Row]:
    """Each row of a statement's result as a dict by column name."""
    columns = [d[0] for d in cursor.description or ()]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _read(conn: duckdb.DuckDBPyConnection, found: Status, limit: int) -> None:
    needs = {
        "meta.schema_migrations": ("schema version",),
        "meta.loads": ("loads", "rejected files"),
        "core.account_daily": ("days per platform",),
        "quarantine.rows": ("quarantine counts",),
        "meta.validations": ("audit results",),
        "meta.mart_audit_holds": ("held mart ranges",),
        "meta.bi_copy_state": ("BI copy",),
        "meta.tracked_accounts": ("tracked accounts",),
    }
    missing = [relation for relation in needs if not _has(conn, relation)]
    for relation in missing:
        found.notes.append(
            f"{relation} is not in this warehouse yet (the next load adds it):"
            f" no {', '.join(needs[relation])}"
        )
    if "meta.schema_migrations" not in missing:
        found.schema_version = _fetch(run_sql(conn, "status/migration_version"))[0]["version"]
    if "meta.loads" in missing:
        return
    params = {"limit": limit}
    found.load_counts = {
        r["status"]: int(r["loads"]) for r in _fetch(run_sql(conn, "status/load_counts"))
    }
    found.recent_loads = _fetch(run_sql(conn, "status/recent_loads", params))
    found.rejected_files = _fetch(run_sql(conn, "status/rejected_files", params))
    if "core.account_daily" not in missing:
        found.platforms = _platform_days(_fetch(run_sql(conn, "status/platform_days")))
    if "quarantine.rows" not in missing:
        found.quarantine = _fetch(run_sql(conn, "status/quarantine_counts"))
        found.quarantine_reasons = _fetch(run_sql(conn, "status/quarantine_reasons", params))
    if "meta.validations" not in missing:
        found.audit = _fetch(run_sql(conn, "status/failed_count"))[0]
        found.audit_failures = _fetch(run_sql(conn, "status/audit_failures", params))
    if "meta.mart_audit_holds" not in missing:
        found.held_ranges = int(_fetch(run_sql(conn, "gate/count_held"))[0]["held"])
    if "meta.bi_copy_state" not in missing:
        copies = _fetch(run_sql(conn, "status/bi_copy"))
        found.bi_copy_published_at = copies[0]["published_at"] if copies else None
    tracked = accounts.read_tracked(conn)
    found.tracked_accounts = {name: 0 for name in platforms.names()}
    for account in tracked:
        found.tracked_accounts[account.platform] = (
            found.tracked_accounts.get(account.platform, 0) + 1
        )


def _platform_days(rows: Sequence[Row]) -> list[Row]:
    """One row per installed platform (those with nothing published too), then any other."""
    by_name = {r["platform"]: r for r in rows}
    empty = {"loads": 0, "last_published_at": None, "last_landing_day": None, "last_day": None}
    out = [by_name.pop(name, {"platform": name, **empty}) for name in platforms.names()]
    return out + list(by_name.values())


def _quota(settings: Settings, now: datetime, notes: list[str]) -> list[QuotaUse]:
    found: list[QuotaUse] = []
    for declared in platforms.platforms().values():
        if declared.quota is None:
            continue
        try:
            use = load_object(declared.quota)(settings.landing, now)
        except (OSError, ValueError) as exc:
            notes.append(redact(f"{declared.name} quota: cannot be read ({exc})"))
            continue
        if use is not None:
            found.append(use)
    return found


def _task_failures(settings: Settings, limit: int, notes: list[str]) -> list[Row]:
    from ingest.runs import failure_log

    path = failure_log(settings)
    if not path.is_file():
        return []
    entries: list[Row] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            notes.append(f"{path.name}, line {number}: not a JSON object (skipped)")
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries[-limit:][::-1]


# ---- plain values


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _plain_row(row: Row) -> dict[str, object]:
    return {key: _plain(value) for key, value in row.items()}


def _rows(rows: Sequence[Row]) -> list[dict[str, object]]:
    return [_plain_row(row) for row in rows]


# ---- text for people


def _when(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, date):
        return value.isoformat()
    return "-" if value is None else str(value)


def _text(found: Status) -> Iterator[str]:
    yield f"Warehouse: {found.warehouse}"
    if not found.exists:
        yield from (f"  {note}" for note in found.notes)
        yield from _quota_text(found)
        yield from _tokens_text(found)
        yield from _failures_text(found)
        return
    yield f"  schema {found.schema_version or '-'}; checked {_when(found.checked_at)}"
    if found.bi_copy_published_at is not None:
        yield f"  BI copy published {_when(found.bi_copy_published_at)}"
    if found.held_ranges:
        yield f"  {found.held_ranges} mart range(s) held back from BI until their audit passes"
    if found.empty:
        yield "  nothing loaded yet: `ingest load PATH` or `ingest demo` fills it"
    yield ""
    yield from _loads_text(found)
    yield from _platforms_text(found)
    yield from _rejected_text(found)
    yield from _quarantine_text(found)
    yield from _audit_text(found)
    yield from _accounts_text(found)
    yield from _quota_text(found)
    yield from _tokens_text(found)
    yield from _failures_text(found)
    if found.notes:
        yield "Notes"
        yield from (f"  {note}" for note in found.notes)


def _loads_text(found: Status) -> Iterator[str]:
    counts = ", ".join(f"{n} {status}" for status, n in found.load_counts.items()) or "none"
    yield f"Loads: {counts}"
    if found.recent_loads:
        yield f"  latest {len(found.recent_loads)}:"
    for load in found.recent_loads:
        what = f"{load['platform'] or '-'} {load['format'] or '-'}"
        counts = (
            f"read {load['rows_read']}, loaded {load['rows_loaded']},"
            f" quarantined {load['rows_quarantined']}"
        )
        yield f"  {_when(load['started_at'])}  {load['status']:<9} {what:<32} {counts}"
        yield f"      {load['source_file'] or '-'}"
    yield ""


def _platforms_text(found: Status) -> Iterator[str]:
    if not found.platforms:
        return
    yield "Per platform: last day published"
    for row in found.platforms:
        if not row["loads"] and row["last_day"] is None:
            yield f"  {row['platform']:<10} nothing published"
            continue
        landed = row["last_landing_day"]
        yield (
            f"  {row['platform']:<10} latest day {_when(row['last_day'])}"
            + (f" (landed under {_when(landed)})" if landed is not None else "")
            + f"; {row['loads']} published load(s), the last {_when(row['last_published_at'])}"
        )
    yield ""


def _rejected_text(found: Status) -> Iterator[str]:
    count = found.load_counts.get("rejected", 0)
    yield f"Rejected files: {count}"
    for row in found.rejected_files:
        yield f"  {_when(row['started_at'])}  {row['platform'] or '-'}: {row['message']}"
    if count:
        yield "  retry after a fix: ingest run --date D --retry-rejected"
    yield ""


def _quarantine_text(found: Status) -> Iterator[str]:
    total = sum(int(r["quarantined_rows"]) for r in found.quarantine)
    yield f"Quarantined rows: {total}"
    for row in found.quarantine:
        yield (
            f"  {row['platform'] or 'creators mapping':<16} {row['quarantined_rows']} row(s)"
            f" from {row['loads']} load(s), the latest {_when(row['latest'])}"
        )
    if found.quarantine_reasons:
        yield "  most frequent:"
    for row in found.quarantine_reasons:
        # the reason names its field already
        yield f"    {row['quarantined_rows']:>6}  {row['platform'] or '-'}: {row['example']}"
    yield ""


def _audit_text(found: Status) -> Iterator[str]:
    audit = found.audit
    if not audit:
        return
    yield (
        f"Audit: {audit['blocked_loads']} load(s) blocked; {audit['critical_failures']}"
        f" critical and {audit['warnings']} warning result(s) failed"
    )
    for row in found.audit_failures:
        checks = row["expectations"] or row["message"] or "see meta.validations"
        yield f"  {_when(row['started_at'])}  {row['platform'] or '-'} {row['source_file']}"
        yield f"      {checks}  (ingest validate {row['load_id']})"
    yield ""


def _accounts_text(found: Status) -> Iterator[str]:
    total = sum(found.tracked_accounts.values())
    counts = ", ".join(f"{p} {n}" for p, n in found.tracked_accounts.items())
    yield f"Tracked accounts: {total}" + (f" ({counts})" if counts else "")
    if not total:
        yield "  none: the API pulls have nothing to ask; ingest accounts add PLATFORM ACCOUNT..."
    yield ""


def _quota_text(found: Status) -> Iterator[str]:
    if not found.quota:
        return
    yield "API quota"
    for use in found.quota:
        state = "exhausted" if use.exhausted else f"{use.limit - use.used} left"
        yield (
            f"  {use.platform:<10} {use.used} of {use.limit} {use.unit} on {use.period}"
            f" ({state}); resets {_when(use.resets_at)}"
        )
    yield ""


def _tokens_text(found: Status) -> Iterator[str]:
    if not found.tokens:
        return
    yield "Tokens"
    for token in found.tokens:
        yield from (f"  {line}" for line in str(token).splitlines())
    yield ""


def _failures_text(found: Status) -> Iterator[str]:
    if not found.task_failures:
        return
    yield f"Failed Airflow tasks (latest {len(found.task_failures)})"
    for entry in found.task_failures:
        yield (
            f"  {entry.get('failed_at', '-')}  {entry.get('task_id', '-')}"
            f" ({entry.get('run_id', '-')}, try {entry.get('try_number', '-')}):"
            f" {entry.get('error', '-')}"
        )
    yield ""
