"""Fixtures for pull tests: a temp warehouse, fast retry options and loopback fake APIs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest.config import Settings
from ingest.extract import PullOptions
from ingest.http import RetryPolicy
from tests.extract.fakes import (
    NOW,
    FakeApi,
    FakeInstagram,
    FakeSnapchat,
    FakeTikTok,
    FakeYouTube,
)

# recognisable secrets: any leak shows up in a plain substring search
IG_TOKEN = "EAAGsecretINSTAGRAMtoken0123456789"
YT_KEY = "AIzaSyYOUTUBEsecretKEY0123456789abcd"
TT_TOKEN = "clt.TIKTOKsecretRESEARCH0123456789"
TT_DISPLAY_TOKEN = "act.TIKTOKsecretDISPLAY0123456789"
SNAP_TOKEN = "snapSECRETbearerTOKEN0123456789xyz"

FAST = RetryPolicy(
    max_attempts=4,
    base_delay=0.001,
    max_delay=0.004,
    max_retry_after=5.0,
    connect_timeout=2.0,
    read_timeout=1.0,
)


class Sleeps(list[float]):
    """Records the waits a pull asked for instead of waiting (tests stay fast)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def options(token: str, sleeps: Sleeps, **changes: Any) -> PullOptions:
    base = PullOptions(token=token, policy=FAST, sleep=sleeps, clock=lambda: NOW)
    return replace(base, **changes)


def _serve(api: FakeApi) -> Iterator[tuple[FakeApi, str]]:
    url = api.start()
    try:
        yield api, url
    finally:
        api.stop()


@pytest.fixture
def instagram() -> Iterator[tuple[FakeApi, str]]:
    yield from _serve(FakeInstagram(IG_TOKEN))


@pytest.fixture
def youtube() -> Iterator[tuple[FakeApi, str]]:
    yield from _serve(FakeYouTube(YT_KEY))


@pytest.fixture
def tiktok() -> Iterator[tuple[FakeApi, str]]:
    yield from _serve(FakeTikTok(TT_TOKEN))


@pytest.fixture
def snapchat() -> Iterator[tuple[FakeApi, str]]:
    yield from _serve(FakeSnapchat(SNAP_TOKEN))


def query(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    conn = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def loads_per_page(settings: Settings, platform: str) -> dict[str, int]:
    """How often each landed page was published: exactly once each when nothing doubled."""
    rows = query(
        settings,
        "select source_sha256, count(*) from meta.loads"
        f" where platform = '{platform}' and status = 'published' group by 1",
    )
    return {sha: count for sha, count in rows}


def landed_pages(settings: Settings, platform: str) -> list[Path]:
    folder = next((settings.landing / platform).iterdir())
    return sorted(p for p in folder.iterdir() if not p.name.endswith(".manifest.json"))


def state_files(settings: Settings, platform: str) -> dict[str, Any]:
    root = settings.landing / "_state" / platform
    return {
        str(p.relative_to(root)): json.loads(p.read_text())
        for p in root.rglob("*.json")
        if not p.name.startswith(".")
    }


def pytest_configure(config: pytest.Config) -> None:
    # the volume audit compares a day's pages together now and is always on; the marker stays
    # registered for the test that still carries it
    config.addinivalue_line("markers", "volume_audit: exercises the batch-volume audit")
