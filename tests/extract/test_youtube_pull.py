"""YouTube Data API pulls: batching, paging, the unit budget and quotaExceeded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ingest.extract import pull
from ingest.platforms.youtube.pull import Options
from tests.extract.conftest import YT_KEY, loads_per_page, options, query
from tests.extract.fakes import DAY, NOW, QUOTA_EXCEEDED, FakeYouTube, Fault


def channel_ids(api: FakeYouTube) -> list[str]:
    return list(api.channels)


def test_pull_loads_channels_and_videos_exactly_once(youtube, settings, sleeps):
    api, url = youtube
    ids = channel_ids(api)
    summary = pull(
        "youtube",
        DAY,
        settings,
        accounts=[ids[0], ids[1], "@channel2"],  # ids and a handle
        base_url=url,
        options=options(YT_KEY, sleeps, page_size=4),
    )
    assert summary.ok, str(summary)
    # one channels.list for both ids, one forHandle; 8/9/10 uploads in pages of 4
    assert len(api.calls("/channels")) == 2
    assert len(api.calls("/playlistItems")) == 2 + 3 + 3
    assert len(api.calls("/videos")) == 3
    rows = query(
        settings,
        "select post_id, account_id, views, likes, comments, likes_hidden from core.post_daily"
        f" where platform = 'youtube' and day = '{DAY}'",
    )
    expected = {
        (
            vid,
            v["snippet"]["channelId"],
            int(v["statistics"]["viewCount"]),
            int(v["statistics"]["likeCount"]) if "likeCount" in v["statistics"] else None,
            int(v["statistics"]["commentCount"]) if "commentCount" in v["statistics"] else None,
            "likeCount" not in v["statistics"],
        )
        for vid, v in api.videos.items()
    }
    assert len(rows) == len(set(rows)) and set(rows) == expected
    followers = query(
        settings,
        "select account_id, followers, posts_count from core.account_daily"
        " where platform = 'youtube'",
    )
    assert sorted(followers) == sorted(
        (c["id"], int(c["statistics"]["subscriberCount"]), len(c["_uploads"]))
        for c in api.channels.values()
    )
    assert set(loads_per_page(settings, "youtube").values()) == {1}
    # the key travels as key=, as the API wants; it is masked in every manifest
    assert all(r.query["key"] == YT_KEY for r in api.requests)
    for manifest in (settings.landing / "youtube" / str(DAY)).glob("*.manifest.json"):
        text = manifest.read_text()
        assert YT_KEY not in text and '"key": "***"' in text


def test_channels_list_asks_for_at_most_50_ids(settings, sleeps):
    api = FakeYouTube(YT_KEY, channels=60, videos=1)
    url = api.start()
    try:
        summary = pull(
            "youtube",
            DAY,
            settings,
            accounts=list(api.channels),
            base_url=url,
            load=False,
            options=options(YT_KEY, sleeps),
        )
    finally:
        api.stop()
    assert summary.ok, str(summary)
    sizes = [len(r.query["id"].split(",")) for r in api.calls("/channels")]
    assert sizes == [50, 10]
    assert summary.accounts_complete == 60


def test_quota_exceeded_stops_until_midnight_pacific_then_resumes(youtube, settings, sleeps):
    api, url = youtube
    ids = channel_ids(api)
    # the quota resets at 08:00 UTC, past the default 6 h in which the nightly run may still
    # take the day just ended as its snapshot; a site pulling YouTube resumes with a wider grace
    grace = timedelta(hours=9)
    # the sixth call of the day meets quotaExceeded (channels, 3 upload pages, 2 videos batches)
    api.inject(
        Fault(403, QUOTA_EXCEEDED),
        when=lambda r: len(api.requests) >= 6,
        times=-1,
    )
    first = pull(
        "youtube",
        DAY,
        settings,
        accounts=ids,
        base_url=url,
        options=options(YT_KEY, sleeps, page_size=4, snapshot_grace=grace),
    )
    assert not first.ok
    assert any("quotaExceeded" in e and "midnight Pacific" in e for e in first.errors)
    assert len(api.requests) == 6 and sleeps == []  # not retried, nothing after it
    # what was landed before the quota ran out is loaded
    assert first.loads == 5

    # same Pacific day: nothing is even asked
    api.clear()
    calls = len(api.requests)
    blocked = pull(
        "youtube",
        DAY,
        settings,
        accounts=ids,
        base_url=url,
        options=options(
            YT_KEY,
            sleeps,
            page_size=4,
            snapshot_grace=grace,
            clock=lambda: NOW + timedelta(hours=1),
        ),
    )
    assert not blocked.ok and len(api.requests) == calls

    # 2026-11-21T06:00Z is 22:00 Pacific on the 20th; the quota resets at 08:00Z
    after = NOW + timedelta(hours=2, minutes=1)
    done = pull(
        "youtube",
        DAY,
        settings,
        accounts=ids,
        base_url=url,
        options=options(YT_KEY, sleeps, page_size=4, snapshot_grace=grace, clock=lambda: after),
    )
    assert done.ok, str(done)
    # only what was missing: channel 1's last two upload pages and its videos, all of channel 2
    assert done.pages_fetched == 2 + 1 + 3 + 1
    # page 1 of the first channel's uploads was fetched once in all
    firsts = [r for r in api.calls("/playlistItems") if "pageToken" not in r.query]
    assert len(firsts) == 3
    rows = query(settings, "select count(*), count(distinct post_id) from core.post_daily")
    assert rows == [(len(api.videos), len(api.videos))]
    assert set(loads_per_page(settings, "youtube").values()) == {1}


def test_unit_budget_is_respected_before_calling(youtube, settings, sleeps):
    api, url = youtube
    summary = pull(
        "youtube",
        DAY,
        settings,
        accounts=channel_ids(api),
        base_url=url,
        load=False,
        options=options(YT_KEY, sleeps, page_size=4, platform_options=Options(quota_units=4)),
    )
    assert not summary.ok
    assert any("budget of 4 units" in e for e in summary.errors)
    assert len(api.requests) == 4


@pytest.mark.parametrize("expired", [True, False], ids=["expired", "invalid"])
def test_a_bad_key_says_where_to_renew_it(youtube, settings, sleeps, expired):
    api, url = youtube
    api.key_expired = expired
    key = YT_KEY if expired else "AIzaWRONGkeyWRONGkey0000"
    summary = pull(
        "youtube",
        DAY,
        settings,
        accounts=channel_ids(api),
        base_url=url,
        load=False,
        options=options(key, sleeps),
    )
    assert not summary.ok and len(api.requests) == 1
    message = summary.errors[0]
    assert "youtube_default" in message and "INGEST_YOUTUBE_API_KEY" in message
    assert key not in message


def test_a_page_no_parser_can_read_is_rejected_and_the_pulls_other_pages_load(
    youtube, settings, sleeps
):
    """A parser bug on one pulled page rejects that page alone, recorded once like any file."""
    from dataclasses import replace as replace_format

    from ingest.platforms import names as platform_names
    from ingest.platforms import registry

    def broken(path, ctx):
        raise ZeroDivisionError("division by zero")

    registries = [registry(("youtube",)), registry(platform_names())]
    originals = [list(reg.formats) for reg in registries]
    for reg in registries:
        reg.formats[:] = [
            replace_format(f, parse=broken, native=None) if f.name == "channels_list" else f
            for f in reg.formats
        ]
    api, url = youtube
    try:
        first = pull(
            "youtube",
            DAY,
            settings,
            accounts=channel_ids(api)[:2],
            base_url=url,
            options=options(YT_KEY, sleeps),
        )
        again = pull(
            "youtube",
            DAY,
            settings,
            accounts=channel_ids(api)[:2],
            base_url=url,
            options=options(YT_KEY, sleeps),
        )
    finally:
        for reg, formats in zip(registries, originals, strict=True):
            reg.formats[:] = formats
    assert not first.ok
    assert "cannot be read (ZeroDivisionError: division by zero)" in str(first)
    statuses = query(
        settings,
        "select format, status, count(*) from meta.loads where platform = 'youtube'"
        " group by all order by all",
    )
    assert ("channels_list", "rejected", 1) in statuses
    assert {"playlist_items", "videos_list"} <= {f for f, s, _ in statuses if s == "published"}
    # the next pull of the day skips the page its parser version rejected
    assert "division by zero" not in str(again)
