"""Stage one file the way a load does, for tests that need a batch without a warehouse."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ingest.config import Settings
from ingest.intake import land_input
from ingest.pipeline import stage_landed
from ingest.redaction import redact
from ingest.staging import StagedBatch


def stage_file(
    path: Path,
    settings: Settings,
    *,
    platform: str | None = None,
    account: str | None = None,
    day: date | None = None,
) -> StagedBatch:
    """Detect, land and parse one file into a staged batch (raises ParseError if unusable)."""
    shown = redact(str(path))
    landed = land_input(path, settings, platform=platform, account=account, day=day, shown=shown)
    return stage_landed(landed, settings, source=shown, account=account)
