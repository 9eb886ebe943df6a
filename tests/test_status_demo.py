"""``ingest status`` on the demo warehouse: every platform published, the demo's broken rows
quarantined, nothing rejected or blocked."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ingest.config import Settings
from ingest.demo import run_demo
from ingest.platforms import names
from ingest.status import status

END = date(2026, 1, 4)


def test_status_of_the_demo_warehouse(tmp_path: Path, monkeypatch):
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")
    run_demo(settings, out=tmp_path / "demo-data", creators=4, days=3, seed=7, end=END)
    found = status(settings)
    assert found.exists and found.bi_copy_published_at is not None
    assert set(found.load_counts) == {"published"}
    assert [p["platform"] for p in found.platforms] == list(names())
    assert all(p["loads"] > 0 and p["last_day"] == END for p in found.platforms), found.platforms
    assert sum(r["quarantined_rows"] for r in found.quarantine) >= 1
    assert found.audit["blocked_loads"] == 0 and found.held_ranges == 0
    text = str(found)
    assert "Rejected files: 0" in text and "BI copy published" in text
    print(text)  # the closing note quotes it
