"""On DuckLake the audited marts are the published state: a failed audit holds across refreshes."""

from __future__ import annotations

import pytest
from tests.validation.helpers import DAY, channel, write_channels

from ingest import runs
from ingest.pipeline import load_files
from ingest.warehouse import writer

pytestmark = pytest.mark.slow


def _write_broken(settings, followers: int) -> None:
    with writer(settings) as conn:
        conn.execute("delete from core.account_daily where account_id = 'UCbroken'")
        conn.execute(
            "insert into core.account_daily (platform, account_id, day, followers, load_id,"
            " observed_at) values ('youtube', 'UCbroken', $d, $f, 'test', current_timestamp)",
            {"d": DAY, "f": followers},
        )
        conn.execute(
            "insert into meta.pending_mart_days values ('youtube', 'UCbroken', $d, $d, 'test')",
            {"d": DAY},
        )


def test_failed_marts_on_the_lake_stay_held_and_unannounced(lake_settings, tmp_path):
    page = write_channels(tmp_path / "c.json", [channel(f"UClake{i:018d}") for i in range(3)])
    assert [r.status for r in load_files([page], lake_settings, day=DAY)] == ["published"]

    _write_broken(lake_settings, -5)
    failed = runs.refresh_marts(lake_settings)
    assert not failed["passed"] and not failed["published"]
    # nothing new pending: the held range is rebuilt and audited again, not waved through
    again = runs.refresh_marts(lake_settings)
    assert not again["passed"] and not again["published"] and again["held"] == 1

    _write_broken(lake_settings, 9000)
    fixed = runs.refresh_marts(lake_settings)
    assert fixed["published"] and fixed["target"].startswith("ducklake snapshot")
    with writer(lake_settings) as conn:
        assert conn.execute("select count(*) from meta.mart_audit_holds").fetchone() == (0,)
