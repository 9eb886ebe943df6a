from __future__ import annotations

from pathlib import Path

import pytest

from ingest.warehouse import migrate, open_warehouse


@pytest.fixture
def conn(tmp_path: Path):
    connection = open_warehouse(tmp_path / "w.duckdb")
    migrate(connection)
    yield connection
    connection.close()
