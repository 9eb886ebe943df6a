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
