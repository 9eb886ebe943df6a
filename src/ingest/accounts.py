"""Tracked accounts: which accounts a platform's API pull asks for, kept in the warehouse.

``ingest accounts add|remove|list|import`` change ``meta.tracked_accounts`` one account at a
time, so an agency adds one creator without editing a file. Every account is checked first
against its platform's own rule (``Platform.read_account``, then ``Platform.check_account``):
an account the pull could not ask for is refused here, naming it, instead of failing every
night. Adding an account already tracked changes nothing and says so; a creator already
recorded for an account is never replaced (remove the account first).

``ingest pull`` and the nightly DAG use these accounts when they are given no other list
(``--accounts``, ``--creators``, ``INGEST_CREATORS``, the Airflow connection's ``accounts``
extra): see :func:`ingest.extract.resolve_accounts`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingest import platforms
from ingest.backends import claim, retry_on_conflict, transaction
from ingest.config import Settings
from ingest.errors import IngestError
from ingest.plugin import load_object
from ingest.pull_state import Account
from ingest.redaction import redact
from ingest.sqlfiles import run_sql
from ingest.warehouse import open_reader, writer

log = logging.getLogger(__name__)

TABLE = ("meta", "tracked_accounts")
ADDED_BY_CLI = "cli"
IMPORTED_BY = "import:"
# what happened to each account a change named
ADDED, UPDATED, UNCHANGED, REMOVED, NOT_TRACKED, CONFLICT, REFUSED = (
    "added",
    "updated",
    "unchanged",
    "removed",
    "not_tracked",
    "conflict",
    "refused",
)
_FAILED = (CONFLICT, REFUSED)
HOW_TO_ADD = "ingest accounts add {platform} ACCOUNT... (or ingest accounts import creators.csv)"

__all__ = [
    "AccountsChange",
    "Outcome",
    "TrackedAccount",
    "TrackedAccounts",
    "account_key",
    "add",
    "import_csv",
    "list_accounts",
    "missing_message",
    "read_tracked",
    "remove",
    "tracked_for_pull",
]


def account_key(account: Account) -> str:
    """What an account is tracked by: its id, else its handle (no ``@``, lower case)."""
    if account.account_id:
        return account.account_id
    return (account.handle or "").lstrip("@").lower()


@dataclass(frozen=True)
class TrackedAccount:
    """One row of ``meta.tracked_accounts``."""

    platform: str
    account: str
    account_id: str | None
    handle: str | None
    creator_id: str | None
    added_at: datetime
    added_by: str

    def for_pull(self) -> Account:
        """The account as a pull takes it."""
        return Account(self.platform, self.account_id, self.handle, self.creator_id)

    def to_dict(self) -> dict[str, object]:
        return {
            "platform": self.platform,
            "account": self.account,
            "account_id": self.account_id,
            "handle": self.handle,
            "creator_id": self.creator_id,
            "added_at": self.added_at.astimezone(UTC).isoformat(),
            "added_by": self.added_by,
        }

    def __str__(self) -> str:
        names = [self.account_id, f"@{self.handle}" if self.handle else None]
        shown = "  ".join(n for n in names if n)
        creator = f"  creator {self.creator_id}" if self.creator_id else ""
        added = self.added_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        return f"{self.platform:<10} {shown}{creator}  (added {added} UTC by {self.added_by})"


@dataclass(frozen=True)
class TrackedAccounts:
    """The tracked accounts of one platform (or of all when ``platform`` is None)."""

    platform: str | None
    accounts: tuple[TrackedAccount, ...]

    def per_platform(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for account in self.accounts:
            counts[account.platform] = counts.get(account.platform, 0) + 1
        return counts

    def to_dict(self) -> dict[str, object]:
        return {
            "platform": self.platform,
            "count": len(self.accounts),
            "per_platform": self.per_platform(),
            "accounts": [a.to_dict() for a in self.accounts],
        }

    def __str__(self) -> str:
        if not self.accounts:
            where = f"{self.platform} " if self.platform else ""
            how = HOW_TO_ADD.format(platform=self.platform or "PLATFORM")
            return f"no {where}accounts are tracked; add them with: {how}"
        counts = ", ".join(f"{p} {n}" for p, n in self.per_platform().items())
        lines = [f"{len(self.accounts)} tracked account(s): {counts}"]
        lines += [f"  {account}" for account in self.accounts]
        return "\n".join(lines)


@dataclass(frozen=True)
class Outcome:
    """What a change did to one account it named.

    Args:
        platform: the platform.
        account: the account as given (or its key once read).
        status: added, updated (a creator recorded where none was), unchanged, removed,
            not_tracked (removal of an account not tracked), conflict (tracked under another
            creator: left as it is) or refused (the platform's rule refuses it, or the line
            of a CSV is unusable).
        detail: why, in words, for anything but a plain add or remove.
        source: the CSV file an imported account came from.
        line: its line in that file.
        field: the column refused.
    """

    platform: str
    account: str
    status: str
    detail: str | None = None
    source: str | None = None
    line: int | None = None
    field: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "platform": self.platform,
            "account": self.account,
            "status": self.status,
            "detail": self.detail,
            "source": self.source,
            "line": self.line,
            "field": self.field,
        }

    def __str__(self) -> str:
        where = ""
        if self.source is not None:
            where = self.source
            where += f", line {self.line}" if self.line is not None else ""
            where += f", field {self.field!r}" if self.field is not None else ""
            where += ": "
        if self.source is not None and self.status == REFUSED and self.line is not None:
            # the line itself is in the file: its reason is what a person needs
            return f"{self.status:<11} {where}{self.detail}"
        what = f"{self.platform} {self.account}".strip()
        text = "; ".join(part for part in (what, self.detail) if part)
        return f"{self.status:<11} {where}{text}"


@dataclass
class AccountsChange:
    """What ``add``, ``remove`` or ``import`` did, account by account.

    ``ok`` is False when any account was refused or left in conflict; an account added twice
    (``unchanged``) or removed while not tracked (``not_tracked``) is reported, not an error.
    """

    action: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(o.status in _FAILED for o in self.outcomes)

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for outcome in self.outcomes:
            found[outcome.status] = found.get(outcome.status, 0) + 1
        return found

    def to_dict(self) -> dict[str, object]:
        return {
            "action": self.action,
            "ok": self.ok,
            "counts": self.counts(),
            "accounts": [o.to_dict() for o in self.outcomes],
        }

    def __str__(self) -> str:
        counts = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in self.counts().items())
        lines = [f"{self.action}: {counts or 'no accounts named'}"]
        lines += [f"  {outcome}" for outcome in self.outcomes]
        return "\n".join(lines)


# ---- reading


def _has_table(conn: duckdb.DuckDBPyConnection) -> bool:
    row = run_sql(conn, "warehouse/has_table", {"schema": TABLE[0], "name": TABLE[1]}).fetchone()
    return bool(row and row[0])


def read_tracked(
    conn: duckdb.DuckDBPyConnection, platform: str | None = None
) -> tuple[TrackedAccount, ...]:
    """The tracked accounts on an open connection (none when the table is not there yet)."""
    if not _has_table(conn):
        return ()
    rows = run_sql(conn, "accounts/list_tracked", {"platform": platform}).fetchall()
    return tuple(TrackedAccount(*row) for row in rows)


def list_accounts(settings: Settings, platform: str | None = None) -> TrackedAccounts:
    """The tracked accounts, of one platform or of all, read without writing anything.

    A warehouse that does not exist yet, or predates the table, tracks nothing. A warehouse
    another process is writing is waited for like any open (``busy_timeout``).
    """
    if platform is not None:
        platform = platforms.get(platform).name
    conn = open_reader(settings)
    if conn is None:
        return TrackedAccounts(platform, ())
    try:
        return TrackedAccounts(platform, read_tracked(conn, platform))
    finally:
        conn.close()


def tracked_for_pull(settings: Settings, platform: str) -> list[Account]:
    """The platform's tracked accounts as a pull takes them."""
    return [a.for_pull() for a in list_accounts(settings, platform).accounts]


# ---- checking


@dataclass(frozen=True)
class _Candidate:
    account: Account
    given: str
    line: int | None = None


def _checker(platform: str) -> Callable[[Account], None] | None:
    declared = platforms.get(platform)
    return load_object(declared.check_account) if declared.check_account else None


def _pulled(platform: str) -> str:
    """The platform's name, when it has an API pull to track accounts for."""
    declared = platforms.get(platform)  # an unknown name fails here, listing the known ones
    if declared.pull is None:
        raise IngestError(
            f"{declared.name} has no API pull, so no accounts to track: load its exports"
            " with `ingest load`"
        )
    return declared.name


def _check(
    platform: str, candidates: Sequence[_Candidate], source: str | None
) -> tuple[list[_Candidate], list[Outcome]]:
    """The candidates the platform's rule accepts, and an outcome for each it refuses."""
    from ingest.client import InvalidAccountError

    check = _checker(platform)
    good: list[_Candidate] = []
    refused: list[Outcome] = []
    for candidate in candidates:
        account = candidate.account
        problem: tuple[str, str | None] | None = None
        if not account_key(account):
            problem = ("neither an id nor a handle", "account_id")
        elif check is not None:
            try:
                check(account)
            except InvalidAccountError as exc:
                problem = (str(exc), exc.field)
        if problem is None:
            good.append(candidate)
            continue
        refused.append(
            Outcome(
                platform,
                candidate.given,
                REFUSED,
                redact(problem[0]),
                source=source,
                line=candidate.line,
                field=problem[1] if source is not None else None,
            )
        )
    return good, refused


# ---- writing


def _apply(
    conn: duckdb.DuckDBPyConnection,
    candidates: Sequence[_Candidate],
    *,
    added_by: str,
    source: str | None,
) -> list[Outcome]:
    """Add each candidate not yet tracked, in the caller's transaction."""
    now = datetime.now(UTC)
    return [_apply_one(conn, c, now=now, added_by=added_by, source=source) for c in candidates]


def _apply_one(
    conn: duckdb.DuckDBPyConnection,
    candidate: _Candidate,
    *,
    now: datetime,
    added_by: str,
    source: str | None,
) -> Outcome:
    account = candidate.account
    key = account_key(account)
    params = {"platform": account.platform, "account": key}

    def outcome(status: str, detail: str | None = None) -> Outcome:
        return Outcome(account.platform, key, status, detail, source=source, line=candidate.line)

    stored = run_sql(conn, "accounts/tracked_one", params).fetchone()
    if stored is None:
        handle = (account.handle or "").lstrip("@") or None
        row = {"account_id": account.account_id, "handle": handle, "creator_id": account.creator_id}
        run_sql(
            conn,
            "accounts/insert_tracked",
            {**params, **row, "added_at": now, "added_by": added_by},
        )
        return outcome(ADDED)
    creator = stored[2]
    if account.creator_id is None or account.creator_id == creator:
        return outcome(UNCHANGED, "already tracked")
    if creator is None:
        run_sql(conn, "accounts/set_creator", {**params, "creator_id": account.creator_id})
        return outcome(UPDATED, f"already tracked; creator {account.creator_id} recorded")
    return outcome(
        CONFLICT,
        f"tracked for creator {creator}, not {account.creator_id};"
        " remove it first to change its creator",
    )


def _write(
    settings: Settings,
    candidates: Sequence[_Candidate],
    *,
    added_by: str,
    source: str | None,
) -> list[Outcome]:
    if not candidates:
        return []

    def work(conn: duckdb.DuckDBPyConnection) -> list[Outcome]:
        with transaction(conn):
            claim(conn, "tracked_accounts")
            return _apply(conn, candidates, added_by=added_by, source=source)

    with writer(settings) as conn:
        # why: on DuckLake another writer may commit first; the adds are then checked again
        return retry_on_conflict(conn, lambda: work(conn), what="tracked accounts")


def _dedupe(candidates: Sequence[_Candidate]) -> tuple[list[_Candidate], list[Outcome]]:
    """The first of candidates naming the same account; the later ones as unchanged."""
    seen: dict[tuple[str, str], _Candidate] = {}
    repeats: list[Outcome] = []
    for candidate in candidates:
        key = (candidate.account.platform, account_key(candidate.account))
        first = seen.setdefault(key, candidate)
        if first is not candidate:
            said = f" (first on line {first.line})" if first.line is not None else ""
            repeats.append(
                Outcome(key[0], key[1], UNCHANGED, "named twice" + said, line=candidate.line)
            )
    return list(seen.values()), repeats


def _read(platform: str, value: str, creator: str | None) -> _Candidate:
    account_id, handle = platforms.get(platform).read_account(value)
    return _Candidate(Account(platform, account_id, handle, creator), value)


def add(
    settings: Settings, platform: str, accounts: Sequence[str], creator: str | None = None
) -> AccountsChange:
    """``ingest accounts add PLATFORM ACCOUNT... [--creator C]``: track accounts for the pull.

    Each value is read as the platform reads an ``--accounts`` value (an id or a handle) and
    checked against the platform's rule; a refused value is reported and the others are still
    added. An account already tracked is reported ``unchanged`` (``updated`` when it had no
    creator and one is given now; a different creator already recorded is a ``conflict``).

    Raises:
        IngestError: the platform is unknown or has no API pull; WarehouseBusyError when
            another writer holds the warehouse.
    """
    name = _pulled(platform)
    creator = (creator or "").strip() or None
    values = [v.strip() for v in accounts if v.strip()]
    candidates = [_read(name, value, creator) for value in values]
    unique, repeats = _dedupe(candidates)
    good, refused = _check(name, unique, None)
    outcomes = _write(settings, good, added_by=ADDED_BY_CLI, source=None)
    return AccountsChange("add", refused + outcomes + repeats)


def remove(settings: Settings, platform: str, accounts: Sequence[str]) -> AccountsChange:
    """``ingest accounts remove PLATFORM ACCOUNT...``: stop pulling accounts.

    An account is named as it was added (its id, or its handle with or without ``@``, in any
    case). One that is not tracked is reported ``not_tracked``; nothing else changes.
    """
    name = platforms.get(platform).name
    values = [v.strip() for v in accounts if v.strip()]
    if not values:
        return AccountsChange("remove")
    keys = list(dict.fromkeys(account_key(_read(name, value, None).account) for value in values))

    def work(conn: duckdb.DuckDBPyConnection) -> list[Outcome]:
        outcomes: list[Outcome] = []
        with transaction(conn):
            claim(conn, "tracked_accounts")
            for key in keys:
                params = {"platform": name, "account": key}
                if run_sql(conn, "accounts/tracked_one", params).fetchone() is None:
                    outcomes.append(Outcome(name, key, NOT_TRACKED, "was not tracked"))
                    continue
                run_sql(conn, "accounts/delete_tracked", params)
                outcomes.append(Outcome(name, key, REMOVED))
        return outcomes

    tracked = {a.account for a in list_accounts(settings, name).accounts}
    if not tracked.intersection(keys):
        # nothing to remove: the warehouse is neither opened for writing nor created
        return AccountsChange(
            "remove", [Outcome(name, key, NOT_TRACKED, "was not tracked") for key in keys]
        )
    with writer(settings) as conn:
        outcomes = retry_on_conflict(conn, lambda: work(conn), what="tracked accounts")
    return AccountsChange("remove", outcomes)


def import_csv(settings: Settings, path: Path) -> AccountsChange:
    """``ingest accounts import creators.csv``: track every account of a creators mapping.

    The file has the creators mapping's columns (``creator_id, platform, account_id,
    handle``). Its accounts are added to those tracked, never replacing one: an account
    already tracked is ``unchanged`` (or a ``conflict`` under another creator). A line that
    cannot be used (no creator, an unknown platform, no id or handle, a handle or id the
    platform refuses, an account named twice) is refused, naming the file, line and field;
    the other lines are still added. The creator rollups still come from the mapping loaded
    with ``ingest load``: importing tracks accounts, it does not change the mapping.

    Raises:
        ParseError: the file is not a creators mapping at all (naming the file).
    """
    from ingest.creators import parse_mapping

    shown = redact(str(path))
    mapping = parse_mapping(path, shown)
    outcomes = [
        Outcome(
            "",
            reject.raw or "",
            REFUSED,
            reject.reason,
            source=shown,
            line=reject.line,
            field=reject.field,
        )
        for reject in mapping.rejects
    ]
    by_platform: dict[str, list[_Candidate]] = {}
    for row in mapping.rows:
        account = Account(row.platform, row.account_id, row.handle, row.creator_id)
        given = row.account_id or row.handle or ""
        by_platform.setdefault(row.platform, []).append(_Candidate(account, given, row.line))
    good: list[_Candidate] = []
    for name, candidates in by_platform.items():
        if platforms.get(name).pull is None:
            reason = f"{name} has no API pull, so no accounts to track"
            outcomes += [
                Outcome(name, c.given, REFUSED, reason, source=shown, line=c.line, field="platform")
                for c in candidates
            ]
            continue
        accepted, refused = _check(name, candidates, shown)
        good += accepted
        outcomes += refused
    unique, repeats = _dedupe(good)
    added_by = IMPORTED_BY + redact(path.name)
    outcomes += _write(settings, unique, added_by=added_by, source=shown)
    outcomes += [replace(o, source=shown) for o in repeats]
    outcomes.sort(key=lambda o: o.line or 0)
    return AccountsChange("import", outcomes)


def missing_message(platform: str) -> str:
    """How to track accounts of ``platform``, for a pull that found none to ask for."""
    return f"no {platform} accounts are tracked; add them with: " + HOW_TO_ADD.format(
        platform=platform
    )
