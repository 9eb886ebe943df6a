"""Tracked accounts (``ingest accounts``): kept in the warehouse, checked by each platform's rule,
idempotent, never replacing a creator, a bad CSV line named by file, line and field."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ingest import accounts
from ingest.config import Settings
from ingest.errors import IngestError, ParseError, WarehouseBusyError

CHANNEL = "UC" + "a" * 22
OTHER_CHANNEL = "UC" + "b" * 22


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")


def rows(settings: Settings) -> list[tuple[object, ...]]:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        return conn.execute(
            "select platform, account, account_id, handle, creator_id, added_by"
            " from meta.tracked_accounts order by platform, account"
        ).fetchall()


def statuses(change: accounts.AccountsChange) -> list[tuple[str, str]]:
    return [(o.account, o.status) for o in change.outcomes]


def test_a_new_warehouse_tracks_nothing_and_listing_it_creates_nothing(settings):
    listed = accounts.list_accounts(settings)
    assert listed.accounts == ()
    assert "ingest accounts add PLATFORM ACCOUNT" in str(listed)
    assert not settings.warehouse.exists()
    removed = accounts.remove(settings, "youtube", [CHANNEL])
    assert statuses(removed) == [(CHANNEL, "not_tracked")]
    assert not settings.warehouse.exists()


def test_adding_twice_is_unchanged_and_handles_match_in_any_case(settings):
    first = accounts.add(settings, "instagram", ["@Creator_0", "creator_1"], creator="c1")
    assert statuses(first) == [("creator_0", "added"), ("creator_1", "added")]
    assert first.ok
    again = accounts.add(settings, "instagram", ["creator_0", "CREATOR_1"])
    assert statuses(again) == [("creator_0", "unchanged"), ("creator_1", "unchanged")]
    assert again.ok and "already tracked" in str(again)
    assert rows(settings) == [
        ("instagram", "creator_0", None, "Creator_0", "c1", "cli"),
        ("instagram", "creator_1", None, "creator_1", "c1", "cli"),
    ]


def test_a_creator_is_recorded_once_and_never_replaced(settings):
    accounts.add(settings, "youtube", [CHANNEL])
    updated = accounts.add(settings, "youtube", [CHANNEL], creator="c1")
    assert statuses(updated) == [(CHANNEL, "updated")] and updated.ok
    conflict = accounts.add(settings, "youtube", [CHANNEL], creator="c2")
    assert statuses(conflict) == [(CHANNEL, "conflict")] and not conflict.ok
    assert "tracked for creator c1, not c2" in str(conflict)
    assert rows(settings) == [("youtube", CHANNEL, CHANNEL, None, "c1", "cli")]


# values each platform's pull would refuse, from the API rules in platforms/<name>/api.py
REFUSED = [
    ("instagram", "creator_0){id},business_discovery.username(x)", "username"),
    ("instagram", "../../creator_1", "username"),
    ("tiktok", 'creator_1","x', "username"),
    ("youtube", "@channel1&part=id", "handle"),
    ("youtube", "x)", "handle"),
    ("snapchat", "../v1/public_profiles/x", "profile id"),
    ("snapchat", "x" * 65, "profile id"),
]


@pytest.mark.parametrize(("platform", "value", "what"), REFUSED)
def test_an_account_the_pull_would_refuse_is_refused_and_the_others_are_added(
    settings, platform, value, what
):
    good = {"instagram": "creator_0", "tiktok": "creator_0", "youtube": CHANNEL}
    good_value = good.get(platform, "4e1c7a52-ok")
    change = accounts.add(settings, platform, [value, good_value])
    assert not change.ok
    [refused] = [o for o in change.outcomes if o.status == "refused"]
    assert refused.account == value and what in (refused.detail or "")
    assert repr(value.lstrip("@")) in str(change) or repr(value) in str(change)
    assert [o.status for o in change.outcomes if o is not refused] == ["added"]
    assert [r[0] for r in rows(settings)] == [platform]


def test_remove_removes_and_reports_an_account_not_tracked(settings):
    accounts.add(settings, "youtube", [CHANNEL, "@SomeHandle"])
    removed = accounts.remove(settings, "youtube", ["@somehandle", OTHER_CHANNEL])
    assert statuses(removed) == [("somehandle", "removed"), (OTHER_CHANNEL, "not_tracked")]
    assert "was not tracked" in str(removed)
    assert [r[1] for r in rows(settings)] == [CHANNEL]
    assert [a.account for a in accounts.list_accounts(settings, "youtube").accounts] == [CHANNEL]


def test_an_unknown_platform_is_an_error_listing_the_known_ones(settings):
    with pytest.raises(IngestError, match=r"unknown platform 'myspace'.*youtube"):
        accounts.add(settings, "myspace", ["x"])


def test_a_platform_without_an_api_pull_has_no_accounts_to_track(settings, tmp_path, monkeypatch):
    from ingest import platforms

    exports_only = dataclasses.replace(platforms.get("snapchat"), pull=None)
    real_get = platforms.get
    monkeypatch.setattr(
        platforms, "get", lambda name: exports_only if name == "snapchat" else real_get(name)
    )
    with pytest.raises(IngestError, match="snapchat has no API pull"):
        accounts.add(settings, "snapchat", ["4e1c7a52"])
    path = tmp_path / "creators.csv"
    path.write_text(
        f"creator_id,platform,account_id\nc1,snapchat,4e1c7a52\nc2,youtube,{CHANNEL}\n",
        encoding="utf-8",
    )
    change = accounts.import_csv(settings, path)
    assert [(o.line, o.status, o.field) for o in change.outcomes] == [
        (2, "refused", "platform"),
        (3, "added", None),
    ]
    assert not settings.warehouse.exists() or [r[0] for r in rows(settings)] == ["youtube"]


MAPPING = (
    "creator_id,platform,account_id,handle\n"
    "c1,instagram,,creator_0\n"
    f"c2,youtube,{CHANNEL},\n"
    "c3,instagram,17841400000000001,\n"  # an id only: business_discovery asks by username
    "c4,snapchat,,snapper\n"  # a handle only: the Public Profile API asks by id
    ",tiktok,,someone\n"
    "c5,tiktok,,Bad Name\n"
    "c6,myspace,,x\n"
)


def test_import_adds_the_good_lines_and_names_file_line_and_field_of_each_bad_one(
    settings, tmp_path
):
    path = tmp_path / "creators.csv"
    path.write_text(MAPPING, encoding="utf-8")
    change = accounts.import_csv(settings, path)
    assert not change.ok
    refused = {(o.line, o.field) for o in change.outcomes if o.status == "refused"}
    assert refused == {
        (4, "handle"),
        (5, "account_id"),
        (6, "creator_id"),
        (7, "handle"),
        (8, "platform"),
    }
    text = str(change)
    for line in (4, 5, 6, 7, 8):
        assert f"creators.csv, line {line}, field" in text
    assert rows(settings) == [
        ("instagram", "creator_0", None, "creator_0", "c1", "import:creators.csv"),
        ("youtube", CHANNEL, CHANNEL, None, "c2", "import:creators.csv"),
    ]
    # a second import adds nothing and changes nothing
    again = accounts.import_csv(settings, path)
    assert [o.status for o in again.outcomes if o.status != "refused"] == ["unchanged"] * 2
    assert len(rows(settings)) == 2


def test_import_never_replaces_the_creator_of_a_tracked_account(settings, tmp_path):
    accounts.add(settings, "instagram", ["creator_0"], creator="c9")
    path = tmp_path / "creators.csv"
    path.write_text("creator_id,platform,handle\nc1,instagram,creator_0\n", encoding="utf-8")
    change = accounts.import_csv(settings, path)
    assert statuses(change) == [("creator_0", "conflict")]
    assert rows(settings)[0][4] == "c9"


def test_a_file_that_is_not_a_mapping_is_refused_naming_it(settings, tmp_path):
    path = tmp_path / "followers.csv"
    path.write_text("day,followers\n2026-09-01,10\n", encoding="utf-8")
    with pytest.raises(ParseError, match=r"followers\.csv, line 1: not a creators mapping"):
        accounts.import_csv(settings, path)
    assert not settings.warehouse.exists()


def test_results_are_plain_json(settings, tmp_path):
    change = accounts.add(settings, "youtube", [CHANNEL, "x)"], creator="c1")
    listed = accounts.list_accounts(settings)
    decoded = json.loads(json.dumps([change.to_dict(), listed.to_dict()]))
    assert decoded[0]["counts"] == {"refused": 1, "added": 1}
    assert decoded[0]["ok"] is False
    assert decoded[1]["per_platform"] == {"youtube": 1}
    assert decoded[1]["accounts"][0]["creator_id"] == "c1"
    assert decoded[1]["accounts"][0]["added_by"] == "cli"


def test_a_busy_warehouse_is_waited_for_then_named(settings):
    accounts.add(settings, "youtube", [CHANNEL])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('holding', flush=True);"
            " sys.stdin.read(); c.close()",
            str(settings.warehouse),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        impatient = dataclasses.replace(settings, busy_timeout=0.2)
        with pytest.raises(WarehouseBusyError, match="busy"):
            accounts.add(impatient, "youtube", [OTHER_CHANNEL])
        with pytest.raises(WarehouseBusyError, match="busy"):
            accounts.list_accounts(impatient)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(60)
    assert [r[1] for r in rows(settings)] == [CHANNEL]
