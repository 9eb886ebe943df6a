"""Tracked accounts on DuckLake: the same library functions, on a real PostgreSQL catalog."""

from __future__ import annotations

from ingest import accounts

CHANNEL = "UC" + "a" * 22


def test_tracked_accounts_on_ducklake(lake_settings):
    change = accounts.add(lake_settings, "youtube", [CHANNEL, "@handle_1"], creator="c1")
    assert [o.status for o in change.outcomes] == ["added", "added"]
    assert [o.status for o in accounts.add(lake_settings, "youtube", [CHANNEL]).outcomes] == [
        "unchanged"
    ]
    removed = accounts.remove(lake_settings, "youtube", ["@HANDLE_1"])
    assert [o.status for o in removed.outcomes] == ["removed"]
    listed = accounts.list_accounts(lake_settings, "youtube")
    assert [(a.account, a.creator_id) for a in listed.accounts] == [(CHANNEL, "c1")]


def test_status_reads_the_lake_read_only(lake_settings):
    from ingest.status import status

    missing = status(lake_settings)  # reading creates no lake
    assert not missing.exists and "no warehouse at" in str(missing)
    assert accounts.list_accounts(lake_settings).accounts == ()
    accounts.add(lake_settings, "youtube", [CHANNEL])
    found = status(lake_settings)
    assert found.exists and found.empty and "nothing loaded yet" in str(found)
    assert found.tracked_accounts["youtube"] == 1 and found.schema_version
    assert found.load_counts == {} and found.held_ranges == 0
