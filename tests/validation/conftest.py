"""Fixtures for the audit tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingest.config import Settings
from ingest.validation.gx import session


@pytest.fixture(scope="session")
def gx_session() -> Any:
    """Import GX once for the whole run (it takes seconds); tests that audit depend on it."""
    return session()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")
