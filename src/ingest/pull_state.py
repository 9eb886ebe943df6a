"""Progress of API pulls, kept in small JSON files under ``<landing>/_state/``.

Per platform, day and account: each paged stream's pages so far and how to resume it, and
whether the account's day is complete; per platform and day, which landed pages are loaded.
Never in the warehouse: extraction runs in parallel with the single warehouse writer.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

STATE_DIR = "_state"


@dataclass(frozen=True)
class Account:
    """A tracked account: its id and/or handle, and the creator it belongs to."""

    platform: str
    account_id: str | None
    handle: str | None
    creator_id: str | None = None

    @property
    def key(self) -> str:
        """What the account is known by in state files and messages."""
        return self.account_id or self.handle or ""


@dataclass(frozen=True)
class QuotaUse:
    """How much of an API's quota the pulls spent in its current period (``Platform.quota``).

    Args:
        platform: the platform.
        period: the quota period as the platform counts it (a day in its own zone).
        used: what was spent in it, in ``unit``.
        limit: the allocation the pulls keep to.
        unit: what is counted (units, requests).
        exhausted: whether the platform said the quota is spent, whatever the count.
        resets_at: when the next period begins.
    """

    platform: str
    period: str
    used: int
    limit: int
    unit: str
    exhausted: bool
    resets_at: datetime | None

    def to_dict(self) -> dict[str, object]:
        return {
            "platform": self.platform,
            "period": self.period,
            "used": self.used,
            "limit": self.limit,
            "unit": self.unit,
            "exhausted": self.exhausted,
            "resets_at": self.resets_at.isoformat() if self.resets_at else None,
        }


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".state-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, sort_keys=True, default=str)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def safe_name(key: str) -> str:
    """A file name for an account key; odd characters are replaced, a hash keeps it unique."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", key)[:80]
    if clean == key and not key.startswith("."):
        return key
    return f"{clean.lstrip('.')}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


class AccountState:
    """Progress of one account on one day: ``<landing>/_state/<platform>/<day>/<account>.json``.

    ``streams`` maps each paged request sequence (``uploads``, ``videos``) to its pages so far,
    the opaque ``resume`` its client handed back after the last landed page, and ``done``.
    """

    def __init__(self, path: Path, account: Account, day: date) -> None:
        self.path = path
        self.data = _read_json(path) or {
            "platform": account.platform,
            "account": account.key,
            "day": day.isoformat(),
            "streams": {},
            "complete": False,
        }

    def stream(self, name: str) -> dict[str, Any]:
        streams: dict[str, dict[str, Any]] = self.data.setdefault("streams", {})
        return streams.setdefault(name, {"pages": 0, "resume": None, "done": False})

    @property
    def complete(self) -> bool:
        return bool(self.data.get("complete"))

    def save(self) -> None:
        self.data["updated_at"] = datetime.now(UTC).isoformat()
        _write_json(self.path, self.data)


class DayState:
    """All state of one platform-day, plus ``_pages.json``: what was landed and what was loaded."""

    def __init__(self, landing: Path, platform: str, day: date) -> None:
        self.platform = platform
        self.day = day
        self.root = landing / STATE_DIR / platform
        self.folder = self.root / day.isoformat()
        self.pages_path = self.folder / "_pages.json"
        self.pages: dict[str, dict[str, Any]] = _read_json(self.pages_path).get("pages", {})
        self._accounts: dict[str, AccountState] = {}

    def account(self, account: Account) -> AccountState:
        if account.key not in self._accounts:
            path = self.folder / f"{safe_name(account.key)}.json"
            self._accounts[account.key] = AccountState(path, account, self.day)
        return self._accounts[account.key]

    def history_path(self, account: Account) -> Path:
        return self.root / "_accounts" / f"{safe_name(account.key)}.json"

    def history(self, account: Account) -> dict[str, Any]:
        """What was fetched for the account up to when, across days."""
        return _read_json(self.history_path(account))

    def finish_account(self, account: Account, state: AccountState) -> None:
        state.data["complete"] = True
        state.data["completed_at"] = datetime.now(UTC).isoformat()
        state.save()
        history = self.history(account)
        last = history.get("last_complete_day")
        if last is None or last <= self.day.isoformat():
            history.update(
                account=account.key,
                last_complete_day=self.day.isoformat(),
                window=state.data.get("window"),
                completed_at=state.data["completed_at"],
            )
            _write_json(self.history_path(account), history)

    def add_page(self, sha256: str, file: str, account: str | None, stream: str) -> None:
        if sha256 in self.pages:
            return
        self.pages[sha256] = {"file": file, "account": account, "stream": stream, "loaded": False}
        self.save_pages()

    def pending(self) -> list[tuple[str, dict[str, Any]]]:
        return [(sha, info) for sha, info in self.pages.items() if not info.get("loaded")]

    def save_pages(self) -> None:
        _write_json(self.pages_path, {"pages": self.pages})
