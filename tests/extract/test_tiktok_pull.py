"""TikTok Research and Display pulls: cursors, search ids, narrowed windows and rate limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ingest.extract import pull
from tests.extract.conftest import TT_DISPLAY_TOKEN, TT_TOKEN, loads_per_page, options, query
from tests.extract.fakes import DAY, FakeTikTok, Fault, tiktok_error

USERS = ["creator_0", "creator_1", "creator_2"]


def served(api: FakeTikTok, users: list[str]) -> set[tuple[str, str, int, int, int, int, int]]:
    return {
        (
            str(v["id"]),
            user,
            v["view_count"],
            v["like_count"],
            v["comment_count"],
            v["share_count"],
            v["favourites_count"],
        )
        for user in users
        for v in api.users[user]["videos"]
    }


def loaded(settings) -> set[tuple]:
    rows = query(
        settings,
        "select post_id, account_id, views, likes, comments, shares, saves from core.post_daily"
        f" where platform = 'tiktok' and day = '{DAY}'",
    )
    assert len(rows) == len(set(rows))
    return set(rows)


def test_research_pull_loads_every_video_once_with_narrowed_windows(tiktok, settings, sleeps):
    api, url = tiktok
    # wide windows fail with HTTP 500, as they do in the wild: 30 days -> 15 -> 8 and 7
    api.max_window_days = 8
    summary = pull(
        "tiktok",
        DAY,
        settings,
        accounts=USERS,
        base_url=url,
        options=options(TT_TOKEN, sleeps, page_size=None),
    )
    assert summary.ok, str(summary)
    assert loaded(settings) == served(api, USERS)
    queries = api.calls("/v2/research/video/query/")
    widths = {
        (
            datetime.strptime(q.body["end_date"], "%Y%m%d")
            - datetime.strptime(q.body["start_date"], "%Y%m%d")
        ).days
        + 1
        for q in queries
    }
    assert max(w for w in widths) == 30 and {w for w in widths if w <= 8}
    assert all(q.body["max_count"] <= 100 for q in queries)
    # 19-digit ids arrive intact (never through a float)
    assert ("7300000000001000000",) in query(settings, "select post_id from core.posts")
    followers = query(
        settings, "select account_id, followers from core.account_daily where platform = 'tiktok'"
    )
    assert sorted(followers) == [(u, api.users[u]["follower_count"]) for u in USERS]
    assert set(loads_per_page(settings, "tiktok").values()) == {1}


def test_research_paging_with_cursor_and_search_id(settings, sleeps):
    api = FakeTikTok(TT_TOKEN, users=2, videos=12)
    url = api.start()
    try:
        from ingest.platforms.tiktok.api import ResearchClient

        client = ResearchClient(TT_TOKEN, base_url=url, max_count=5, policy=None, sleep=sleeps)
        pages = list(client.fetch_videos("creator_1", since=DAY - timedelta(days=29), until=DAY))
    finally:
        api.stop()
    bodies = [r.body for r in api.calls("/v2/research/video/query/")]
    assert "search_id" not in bodies[0]
    assert [b.get("cursor") for b in bodies[1:]] == [5, 10]
    assert len({b["search_id"] for b in bodies[1:]}) == 1
    assert [p.resume is None for p in pages] == [False, False, True]


def test_expired_search_id_restarts_the_query(tiktok, settings, sleeps):
    api, url = tiktok
    api.expire_first_search = True
    summary = pull(
        "tiktok",
        DAY,
        settings,
        accounts=USERS,
        base_url=url,
        options=options(TT_TOKEN, sleeps),
    )
    assert summary.ok, str(summary)
    assert loaded(settings) == served(api, USERS)


def test_research_max_count_pages(settings, sleeps):
    api = FakeTikTok(TT_TOKEN, users=1, videos=9)
    api.expire_first_search = True
    url = api.start()
    try:
        from ingest.platforms.tiktok.api import ResearchClient

        client = ResearchClient(TT_TOKEN, base_url=url, max_count=4, sleep=sleeps)
        pages = list(client.fetch_videos("creator_0", since=DAY - timedelta(days=29), until=DAY))
    finally:
        api.stop()
    bodies = [r.body for r in api.calls("/v2/research/video/query/")]
    # page 1, page 2 meets the expired id, the query restarts: pages 1, 2, 3
    assert [b.get("cursor", 0) for b in bodies] == [0, 4, 0, 4, 8]
    assert len(pages) == 4


def test_display_pull_pages_the_users_own_videos(settings, sleeps):
    api = FakeTikTok(TT_DISPLAY_TOKEN, users=1, videos=45)
    url = api.start()
    try:
        summary = pull(
            "tiktok",
            DAY,
            settings,
            accounts=["creator_0"],
            base_url=url,
            options=options(TT_DISPLAY_TOKEN, sleeps),
        )
    finally:
        api.stop()
    assert summary.ok, str(summary)
    lists = api.calls("/v2/video/list/")
    assert len(lists) == 3 and all(r.body["max_count"] <= 20 for r in lists)
    # the first page starts at the end of the pull's day (milliseconds)
    start = datetime(DAY.year, DAY.month, DAY.day + 1, tzinfo=UTC).timestamp() * 1000
    assert lists[0].body["cursor"] == int(start)
    rows = query(
        settings,
        f"select post_id, views, likes from core.post_daily where day = '{DAY}'",
    )
    videos = api.users["creator_0"]["videos"]
    assert sorted(rows) == sorted((str(v["id"]), v["view_count"], v["like_count"]) for v in videos)


def test_rate_limit_429_is_retried_with_and_without_retry_after(tiktok, settings, sleeps):
    api, url = tiktok
    body = tiktok_error("rate_limit_exceeded", "API rate limit was exceeded")
    api.inject(Fault(429, body, {"Retry-After": "2"}), when=lambda r: "user/info" in r.path)
    api.inject(Fault(429, body), when=lambda r: "video/query" in r.path)
    summary = pull(
        "tiktok",
        DAY,
        settings,
        accounts=["creator_0"],
        base_url=url,
        load=False,
        options=options(TT_TOKEN, sleeps),
    )
    assert summary.ok, str(summary)
    assert sleeps[0] == 2.0  # the server's Retry-After
    assert 0 < sleeps[1] <= 0.004  # our own backoff


def test_expired_token_is_reported_by_connection_and_variable(tiktok, settings, sleeps):
    _, url = tiktok
    summary = pull(
        "tiktok",
        DAY,
        settings,
        accounts=USERS,
        base_url=url,
        load=False,
        options=options("clt.EXPIREDtokenVALUE12345", sleeps),
    )
    assert not summary.ok and len(summary.errors) == 1
    assert "access_token_invalid" in summary.errors[0]
    assert "tiktok_default" in summary.errors[0] and "INGEST_TIKTOK_TOKEN" in summary.errors[0]
    assert "EXPIREDtokenVALUE" not in summary.errors[0]
