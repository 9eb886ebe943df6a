"""Snapchat Public Profile pulls: profiles, daily stats windows and HTTP 429."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ingest.extract import pull
from tests.extract.conftest import SNAP_TOKEN, loads_per_page, options, query, state_files
from tests.extract.fakes import DAY, NOW, Fault


def test_pull_loads_profiles_and_daily_stats_once(snapchat, settings, sleeps):
    api, url = snapchat
    ids = list(api.profiles)
    summary = pull(
        "snapchat", DAY, settings, accounts=ids, base_url=url, options=options(SNAP_TOKEN, sleeps)
    )
    assert summary.ok, str(summary)
    assert summary.pages_fetched == 2 * len(ids)
    stats = api.calls("/stats")
    assert all(r.query["granularity"] == "DAY" for r in stats)
    assert {(r.query["startTime"], r.query["endTime"]) for r in stats} == {
        (f"{DAY - timedelta(days=29)}T00:00:00.000Z", f"{DAY + timedelta(days=1)}T00:00:00.000Z")
    }
    rows = query(
        settings,
        "select account_id, day, followers, daily_views, daily_shares from core.account_daily"
        " where platform = 'snapchat'",
    )
    expected = {
        (pid, day, v["SUBSCRIBERS"], v["VIEWS"], v["SHARES"])
        for pid, profile in api.profiles.items()
        for day, v in profile["_daily"].items()
        if DAY - timedelta(days=29) <= day <= DAY
    }
    assert len(rows) == len(set(rows)) and set(rows) == expected
    handles = query(settings, "select account_id, handle from core.accounts order by 1")
    assert handles == sorted((pid, p["snap_user_name"]) for pid, p in api.profiles.items())
    assert set(loads_per_page(settings, "snapchat").values()) == {1}


def test_the_next_day_asks_only_for_new_days_plus_an_overlap(snapchat, settings, sleeps):
    api, url = snapchat
    ids = list(api.profiles)[:1]
    earlier = DAY - timedelta(days=5)
    assert pull(
        "snapchat",
        earlier,
        settings,
        accounts=ids,
        base_url=url,
        load=False,
        options=options(SNAP_TOKEN, sleeps),
    ).ok
    assert pull(
        "snapchat",
        DAY,
        settings,
        accounts=ids,
        base_url=url,
        load=False,
        options=options(SNAP_TOKEN, sleeps),
    ).ok
    first, second = api.calls("/stats")
    assert first.query["startTime"].startswith(str(earlier - timedelta(days=29)))
    assert second.query["startTime"].startswith(str(earlier - timedelta(days=2)))
    history = state_files(settings, "snapchat")[f"_accounts/{ids[0]}.json"]
    assert history["last_complete_day"] == str(DAY)
    assert history["window"] == {"from": str(earlier - timedelta(days=2)), "to": str(DAY)}


def test_stats_windows_never_exceed_90_days(snapchat, settings, sleeps):
    api, url = snapchat
    summary = pull(
        "snapchat",
        DAY,
        settings,
        accounts=list(api.profiles)[:1],
        base_url=url,
        load=False,
        options=options(SNAP_TOKEN, sleeps, lookback_days=200),
    )
    assert summary.ok, str(summary)
    (stats,) = api.calls("/stats")
    assert stats.query["startTime"].startswith(str(DAY - timedelta(days=89)))


@pytest.mark.parametrize(
    ("headers", "expected"), [({"Retry-After": "3"}, 3.0), ({}, None)], ids=["retry-after", "none"]
)
def test_429_is_retried(snapchat, settings, sleeps, headers, expected):
    api, url = snapchat
    body = {"request_status": "ERROR", "debug_message": "Too Many Requests"}
    rule = api.inject(Fault(429, body, headers), when=lambda r: "/stats" in r.path, times=2)
    summary = pull(
        "snapchat",
        DAY,
        settings,
        accounts=list(api.profiles)[:1],
        base_url=url,
        load=False,
        options=options(SNAP_TOKEN, sleeps),
    )
    assert summary.ok, str(summary)
    assert rule.fired == 2 and len(sleeps) == 2
    if expected is not None:
        assert sleeps == [expected, expected]
    else:
        assert 0 < sleeps[0] <= sleeps[1] * 2 and max(sleeps) <= 0.004


def test_429_that_never_ends_is_a_clear_error_and_a_rerun_completes(snapchat, settings, sleeps):
    api, url = snapchat
    ids = list(api.profiles)
    api.inject(Fault(429, {"request_status": "ERROR"}), when=lambda r: "/stats" in r.path, times=-1)
    first = pull(
        "snapchat",
        DAY,
        settings,
        accounts=ids,
        base_url=url,
        load=False,
        options=options(SNAP_TOKEN, sleeps),
    )
    assert not first.ok and "still throttled after 4 attempts" in first.errors[0]
    api.clear()
    later = pull(
        "snapchat",
        DAY,
        settings,
        accounts=ids,
        base_url=url,
        load=False,
        options=options(SNAP_TOKEN, sleeps, clock=lambda: NOW),
    )
    assert later.ok and later.accounts_complete == 3
    # the first profile page was not fetched again
    assert [r.path for r in api.requests].count(f"/public/v1/public_profiles/{ids[0]}") == 1
