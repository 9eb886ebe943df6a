"""What a demo writer produces: files, with the day and account a pull would land them under."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TypeVar

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
