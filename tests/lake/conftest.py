"""DuckLake fixtures: each test gets a database of its own in the session's PostgreSQL cluster
and a data path in its own temporary folder, so lakes never share state."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.postgres import Postgres

from ingest.config import Settings


@pytest.fixture
def lake_warehouse(postgres: Postgres, tmp_path: Path) -> tuple[str, Path]:
    """A fresh, empty lake: the ``--warehouse`` value and the data path."""
    name = postgres.new_database()
    return "ducklake:postgres:" + postgres.conninfo(name), tmp_path / "lake" / "data"


@pytest.fixture
def lake_settings(lake_warehouse: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for var in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING", "INGEST_LAKE_DATA_PATH"):
        monkeypatch.delenv(var, raising=False)
    warehouse, data_path = lake_warehouse
    return Settings.from_env(warehouse, data_path)
