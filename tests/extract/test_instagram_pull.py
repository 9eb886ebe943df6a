"""Instagram business_discovery pulls against the loopback Graph API."""

from __future__ import annotations

import pytest

from ingest.extract import pull
from tests.extract.conftest import (
    IG_TOKEN,
    loads_per_page,
    options,
    query,
    state_files,
)
from tests.extract.fakes import DAY, FakeInstagram, Fault

ACCOUNTS = ["creator_0", "creator_1", "creator_2"]


def served_posts(api: FakeInstagram) -> set[tuple[str, str, int | None, int]]:
    return {
        (account["id"], item["id"], item.get("like_count"), item["comments_count"])
        for account in api.accounts.values()
        for item in account["media"]
    }


def test_pull_loads_every_served_post_exactly_once(instagram, settings, sleeps):
    api, url = instagram
    summary = pull(
        "instagram",
        DAY,
        settings,
        accounts=ACCOUNTS,
        base_url=url,
        options=options(IG_TOKEN, sleeps, page_size=3),
    )
    assert summary.ok, str(summary)
    # 7, 8 and 9 posts in pages of 3, each full page followed by an empty one that has `next`
    assert summary.pages_fetched == 5 + 5 + 5
    assert summary.accounts_complete == 3
    rows = query(
        settings,
        "select account_id, post_id, likes, comments from core.post_daily"
        f" where platform = 'instagram' and day = '{DAY}'",
    )
    assert len(rows) == len(set(rows))
    assert set(rows) == served_posts(api)
    accounts = query(
        settings,
        "select a.account_id, a.handle, d.followers, d.following, d.posts_count"
        " from core.accounts a join core.account_daily d using (platform, account_id)"
        " where a.platform = 'instagram'",
    )
    assert sorted(accounts) == sorted(
        (a["id"], a["username"], a["followers_count"], a["follows_count"], a["media_count"])
        for a in api.accounts.values()
    )
    hidden = query(
        settings,
        "select count(*) from core.post_daily where platform = 'instagram' and likes_hidden",
    )
    assert hidden == [(3,)]  # post 1 of each account hides its likes: NULL, not 0
    assert set(loads_per_page(settings, "instagram").values()) == {1}
    # every page was asked with the token in a header, never in the URL
    assert all(r.bearer == IG_TOKEN and "access_token" not in r.query for r in api.requests)

    again = pull(
        "instagram",
        DAY,
        settings,
        accounts=ACCOUNTS,
        base_url=url,
        options=options(IG_TOKEN, sleeps, page_size=3),
    )
    assert again.ok and again.pages_fetched == 0 and again.loads == 0
    assert again.pages_resumed == 15


@pytest.mark.parametrize(("status", "code"), [(400, 4), (403, 17), (400, 32), (403, 613)], ids=str)
def test_throttle_codes_in_error_bodies_are_retried(instagram, settings, sleeps, status, code):
    api, url = instagram
    body = {
        "error": {
            "message": f"(#{code}) Application request limit reached",
            "type": "OAuthException",
            "code": code,
            "is_transient": True,
            "fbtrace_id": "x",
        }
    }
    rule = api.inject(
        Fault(status, body), when=lambda r: "after" in r.query.get("fields", ""), times=2
    )
    summary = pull(
        "instagram",
        DAY,
        settings,
        accounts=["creator_0"],
        base_url=url,
        load=False,
        options=options(IG_TOKEN, sleeps, page_size=3),
    )
    assert summary.ok, str(summary)
    assert rule.fired == 2 and len(sleeps) == 2
    assert summary.pages_fetched == 5


def test_throttling_that_outlasts_the_retries_stops_the_platform(instagram, settings, sleeps):
    api, url = instagram
    body = {"error": {"message": "(#4) Application request limit reached", "code": 4}}
    api.inject(Fault(400, body), when=lambda r: "after" in r.query.get("fields", ""), times=-1)
    summary = pull(
        "instagram",
        DAY,
        settings,
        accounts=ACCOUNTS,
        base_url=url,
        load=False,
        options=options(IG_TOKEN, sleeps, page_size=3),
    )
    assert not summary.ok
    assert "still throttled after 4 attempts" in summary.errors[0]
    # throttling is app-wide: the other accounts were not tried
    assert {r.query["fields"].split(")")[0] for r in api.calls("/v21.0/1784")} == {
        "business_discovery.username(creator_0"
    }
    api.clear()
    rerun = pull(
        "instagram",
        DAY,
        settings,
        accounts=ACCOUNTS,
        base_url=url,
        load=False,
        options=options(IG_TOKEN, sleeps, page_size=3),
    )
    assert rerun.ok and rerun.accounts_complete == 3
    assert rerun.pages_resumed == 1  # creator_0's first page was not fetched again


def test_expired_token_names_the_connection_not_the_token(instagram, settings, sleeps):
    _, url = instagram
    summary = pull(
        "instagram",
        DAY,
        settings,
        accounts=ACCOUNTS,
        base_url=url,
        load=False,
        options=options("EAAGexpiredTOKENvalue99999", sleeps),
    )
    assert not summary.ok and len(summary.errors) == 1
    message = summary.errors[0]
    assert "instagram_default" in message and "INGEST_INSTAGRAM_TOKEN" in message
    assert "190" in message and "EAAGexpiredTOKENvalue99999" not in message
    assert sleeps == []  # an expired token is not retried


def test_a_repeating_cursor_is_an_error_and_a_rerun_finishes(instagram, settings, sleeps):
    api, url = instagram
    api.repeat_cursor = True
    first = pull(
        "instagram",
        DAY,
        settings,
        accounts=["creator_0"],
        base_url=url,
        load=False,
        options=options(IG_TOKEN, sleeps, page_size=3),
    )
    assert not first.ok and "repeated cursor" in first.errors[0]
    assert len(api.requests) < 10  # it stopped instead of looping
    api.repeat_cursor = False
    second = pull(
        "instagram",
        DAY,
        settings,
        accounts=["creator_0"],
        base_url=url,
        options=options(IG_TOKEN, sleeps, page_size=3),
    )
    assert second.ok, str(second)
    rows = query(settings, "select count(distinct post_id) from core.post_daily")
    assert rows == [(7,)]
    state = state_files(settings, "instagram")[f"{DAY}/creator_0.json"]
    assert state["complete"] and state["streams"]["business_discovery"]["done"]
