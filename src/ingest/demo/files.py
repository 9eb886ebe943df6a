"""What a demo writer produces: files, with the day and account a pull would land them under."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class DemoFile:
    path: Path
    platform: str
    day: date
    fetched_at: datetime
    account: str | None = None


def nightly_fetch(day: date) -> datetime:
    """When the nightly run would have fetched day ``day``: early the next morning, UTC."""
    return datetime.combine(day + timedelta(days=1), time(5, 30), UTC)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# per-creator endpoints (one request per account, such as a profile lookup or a creator's
# stats) are pulled for everyone once a week, counting back from the window's last day;
# batched endpoints are pulled every night. one file per account and day would make the
# demo's load time grow with creators x days.
SNAPSHOT_EVERY = 7
# posts younger than this are refreshed every night (most interactions arrive in the first
# days); older ones, up to FULL_REFRESH_DAYS, with the weekly snapshot
YOUNG_DAYS = 3
FULL_REFRESH_DAYS = 28


def snapshot_day(day: date, end: date) -> bool:
    """True on the nights the weekly per-creator pulls run (always including ``end``)."""
    return (end - day).days % SNAPSHOT_EVERY == 0


def refresh_due(published: date, day: date, end: date) -> bool:
    """True when a nightly pull on ``day`` refreshes a post published on ``published``."""
    age = (day - published).days
    if age < 0:
        return False
    return age < YOUNG_DAYS or (age < FULL_REFRESH_DAYS and snapshot_day(day, end))


def stable_digits(seed: str, count: int) -> str:
    """``count`` decimal digits derived from ``seed`` (request and log ids): stable per seed."""
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return str(int(digest, 16))[:count].rjust(count, "0")


def stable_hex(seed: str, count: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:count]


def dump_json(path: Path, document: Any, *, ascii_only: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=1, ensure_ascii=ascii_only)
    path.write_text(text, encoding="utf-8")


def zip_member(name: str, day: date) -> zipfile.ZipInfo:
    """A deflated zip entry stamped with the export's day, not the clock: same seed, same bytes."""
    info = zipfile.ZipInfo(name, (max(day.year, 1980), day.month, day.day, 6, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info
