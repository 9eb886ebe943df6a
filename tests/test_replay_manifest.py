"""Replaying the landing zone trusts each file's manifest for its format, and says so when a
manifest names a format this version does not know (a newer writer, a hand-edited manifest)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from ingest.config import Settings
from ingest.errors import UnknownFormatError
from ingest.landing import land_file, manifest_path, read_landed
from ingest.pipeline import stage_landed
from tests.conftest import FIXTURES

DAY = date(2026, 9, 1)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")


def _landed(settings: Settings, fmt: str) -> Path:
    landed = land_file(
        FIXTURES / "youtube" / "channels_list.json",
        settings.landing,
        platform="youtube",
        day=DAY,
        format=fmt,
    )
    return landed.path


def test_the_manifest_format_is_used(settings: Settings) -> None:
    batch = stage_landed(read_landed(_landed(settings, "channels_list")), settings)
    try:
        assert batch.rows_read > 0
        assert "accounts" in batch.entities
    finally:
        batch.discard()


def test_an_unknown_manifest_format_names_the_file_and_the_known_ones(settings: Settings) -> None:
    path = _landed(settings, "channels_list")
    manifest = json.loads(manifest_path(path).read_text())
    manifest["format"] = "channels_list_v9"
    manifest_path(path).write_text(json.dumps(manifest))

    with pytest.raises(UnknownFormatError) as raised:
        stage_landed(read_landed(path), settings)
    message = str(raised.value)
    assert message.startswith("channels_list.json: ")
    assert "youtube/channels_list_v9" in message
    known = message.split("known youtube formats: ", 1)[1].rstrip(")").split(", ")
    assert "channels_list" in known
