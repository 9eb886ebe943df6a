"""The index of published bytes: read once, and read again when it grows."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from ingest import replays
from ingest.config import Settings

DAY = "2026-11-20"


def published(sha: str, load_id: str) -> tuple[SimpleNamespace, SimpleNamespace]:
    batch = SimpleNamespace(
        load_id=load_id,
        platform="tiktok",
        format="research_video_query",
        source_sha256=sha,
        account=None,
        parser_version="7.1",
        landing_day=DAY,
        replay_of=None,
        rows_read=100,
        rows_quarantined=1,
    )
    return batch, SimpleNamespace(status="published", load_id=load_id)


def found(settings: Settings, sha: str) -> str | None:
    earlier = replays.published_load(
        settings,
        platform="tiktok",
        day=DAY,
        sha256=sha,
        format="research_video_query",
        account=None,
        parser_version="7.1",
    )
    return None if earlier is None else earlier.load_id


def test_the_index_is_read_again_once_this_process_or_a_second_later_another_appends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    settings = Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")
    monkeypatch.setattr(replays, "RECHECK_SECONDS", 3600.0)
    replays.note_published(settings, [published("a" * 64, "load-a")])
    assert found(settings, "a" * 64) == "load-a"
    # this process appends: found at once
    replays.note_published(settings, [published("b" * 64, "load-b")])
    assert found(settings, "b" * 64) == "load-b"
    # another process appends: believed as read until the recheck is due
    entry = {
        "sha256": "c" * 64,
        "load_id": "load-c",
        "format": "research_video_query",
        "account": None,
        "parser_version": "7.1",
        "rows_read": 5,
        "rows_quarantined": 0,
    }
    with replays.index_path(settings, "tiktok", DAY).open("a") as out:
        out.write(json.dumps(entry) + "\n")
    assert found(settings, "c" * 64) is None
    monkeypatch.setattr(replays, "RECHECK_SECONDS", 0.0)
    assert found(settings, "c" * 64) == "load-c"
    assert found(settings, "a" * 64) == "load-a"
