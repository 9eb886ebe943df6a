"""Shared test helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ingest import replays
from ingest.landing import INDEX_FOLDER
from ingest.parsing import Item, Note, ParseContext, Record, Reject

FIXTURES = Path(__file__).parent / "fixtures"
# what staging keeps beside the batches: the indexes of published bytes and of manifests
STAGING_INDEXES = frozenset({replays.FOLDER, INDEX_FOLDER})


def staged_left(staging: Path) -> list[str]:
    """The names of what staging holds beside its indexes: batches not yet discarded."""
    if not staging.exists():
        return []
    return sorted(p.name for p in staging.iterdir() if p.name not in STAGING_INDEXES)


def context(
    platform: str,
    source: str = "input",
    *,
    account: str | None = None,
    day: date = date(2026, 9, 1),
    observed_at: datetime = datetime(2026, 9, 1, 6, 0, tzinfo=UTC),
) -> ParseContext:
    return ParseContext(
        source=source, platform=platform, account=account, observed_at=observed_at, day=day
    )


def split(items: list[Item]) -> tuple[dict[str, list[Record]], list[Reject], list[Note]]:
    """Group parser output by entity, with rejects and notes apart."""
    records: dict[str, list[Record]] = {}
    rejects: list[Reject] = []
    notes: list[Note] = []
    for item in items:
        if isinstance(item, Record):
            records.setdefault(item.entity, []).append(item)
        elif isinstance(item, Reject):
            rejects.append(item)
        else:
            notes.append(item)
    return records, rejects, notes


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


pytest_plugins = ["tests.postgres"]
