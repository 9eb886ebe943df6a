"""``ingest pull`` and the DAG's pull task ask for the tracked accounts when given no other list.

Precedence: accounts handed to the pull (``--accounts``, ``--creators``; in the DAG the
connection's ``accounts`` extra and ``INGEST_CREATORS``) win; only without them are the
accounts tracked in the warehouse (``ingest accounts``) pulled. With none at all, the DAG skips
the platform with a warning that says how to add accounts.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from ingest import accounts, runs
from ingest.extract import pull
from tests.extract.conftest import SNAP_TOKEN, YT_KEY, options
from tests.extract.fakes import DAY


def test_a_pull_given_no_accounts_pulls_the_tracked_ones(youtube, settings, sleeps):
    api, url = youtube
    channels = list(api.channels)
    accounts.add(settings, "youtube", channels[:2], creator="c1")
    summary = pull(
        "youtube", DAY, settings, base_url=url, load=False, options=options(YT_KEY, sleeps)
    )
    assert summary.ok, str(summary)
    assert summary.accounts == 2 and summary.accounts_complete == 2
    asked = {i for r in api.calls("channels") for i in r.query.get("id", "").split(",") if i}
    assert asked == set(channels[:2])


def test_accounts_given_to_the_pull_win_over_the_tracked_ones(youtube, settings, sleeps):
    api, url = youtube
    channels = list(api.channels)
    accounts.add(settings, "youtube", channels[:2])
    summary = pull(
        "youtube",
        DAY,
        settings,
        accounts=[channels[2]],
        base_url=url,
        load=False,
        options=options(YT_KEY, sleeps),
    )
    assert summary.ok and summary.accounts == 1, str(summary)
    asked = {i for r in api.calls("channels") for i in r.query.get("id", "").split(",") if i}
    assert asked == {channels[2]}


def test_a_pull_with_nothing_tracked_says_how_to_add_accounts(youtube, settings, sleeps):
    api, url = youtube
    summary = pull(
        "youtube", DAY, settings, base_url=url, load=False, options=options(YT_KEY, sleeps)
    )
    assert not summary.ok and summary.accounts == 0
    assert "ingest accounts add youtube ACCOUNT" in summary.errors[0]
    assert api.requests == []
    assert not settings.warehouse.exists()  # looking for tracked accounts wrote nothing


def _backfilled() -> date:
    return datetime.now(UTC).date() - timedelta(days=20)


def test_the_dag_pull_skips_with_a_warning_when_nothing_is_tracked(
    snapchat, settings, monkeypatch, caplog
):
    monkeypatch.delenv("INGEST_CREATORS", raising=False)
    api, url = snapchat
    with caplog.at_level(logging.INFO, logger="ingest.runs"):
        pulled = runs.pull_platform_day(
            "snapchat", DAY, settings, token=SNAP_TOKEN, base_url=url, accounts=()
        )
    assert pulled["skipped"] is True
    assert "ingest accounts add snapchat ACCOUNT" in pulled["reason"]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "ingest accounts add snapchat" in warnings[0].getMessage()
    assert "snapchat_default" in warnings[0].getMessage()
    assert api.requests == []


def test_the_dag_pull_asks_for_the_tracked_accounts(snapchat, settings, monkeypatch):
    monkeypatch.delenv("INGEST_CREATORS", raising=False)
    monkeypatch.setenv("INGEST_HTTP_BASE_DELAY", "0.001")
    api, url = snapchat
    profiles = list(api.profiles)
    accounts.add(settings, "snapchat", profiles[:2])
    day = _backfilled()
    pulled = runs.pull_platform_day("snapchat", day, settings, token=SNAP_TOKEN, base_url=url)
    assert pulled["accounts"] == 2 and pulled["accounts_complete"] == 2, pulled
    asked = {r.path for r in api.calls("/stats")}
    assert asked and all(any(p in path for p in profiles[:2]) for path in asked)
    assert not any(profiles[2] in path for path in asked)


def test_the_dag_pull_of_tracked_accounts_without_a_token_warns_naming_it(
    snapchat, settings, monkeypatch, caplog
):
    monkeypatch.delenv("INGEST_CREATORS", raising=False)
    monkeypatch.delenv("INGEST_SNAPCHAT_TOKEN", raising=False)
    api, url = snapchat
    accounts.add(settings, "snapchat", list(api.profiles)[:1])
    with caplog.at_level(logging.INFO, logger="ingest.runs"):
        pulled = runs.pull_platform_day("snapchat", DAY, settings, base_url=url)
    assert pulled["skipped"] is True
    assert "1 account(s) tracked in the warehouse but no token" in pulled["reason"]
    assert "INGEST_SNAPCHAT_TOKEN" in pulled["reason"]
    assert [r.levelno for r in caplog.records if "no API pull" in r.getMessage()] == [
        logging.WARNING
    ]
    assert api.requests == []
