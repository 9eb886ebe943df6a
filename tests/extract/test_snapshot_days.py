"""Snapshots describe the day they were observed: a past day's pull asks series endpoints only."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from ingest import cli, runs
from ingest.errors import ParseError
from ingest.extract import pull
from ingest.landing import land_stream
from ingest.pipeline import stage_landed
from ingest.platforms import registry
from ingest.snapshots import snapshot_fits
from tests.conftest import FIXTURES
from tests.extract.conftest import SNAP_TOKEN, YT_KEY, options, query
from tests.extract.fakes import DAY, NOW

MIDNIGHT_AFTER = datetime.combine(DAY + timedelta(days=1), datetime.min.time(), UTC)


@pytest.mark.parametrize(
    ("observed_at", "fits"),
    [
        (MIDNIGHT_AFTER - timedelta(days=1), True),  # the day's first instant
        (MIDNIGHT_AFTER - timedelta(seconds=1), True),
        (MIDNIGHT_AFTER + timedelta(hours=6), True),  # the nightly run, at the end of the grace
        (MIDNIGHT_AFTER + timedelta(hours=6, seconds=1), False),  # a late catch-up run
        (MIDNIGHT_AFTER + timedelta(days=30), False),  # a backfill
        (MIDNIGHT_AFTER - timedelta(days=1, seconds=1), False),  # before the day began
    ],
)
def test_the_snapshot_day_rule(observed_at, fits):
    assert snapshot_fits(DAY, observed_at, timedelta(hours=6)) is fits


def test_pulling_a_past_day_does_not_record_todays_counts_for_it(
    youtube, settings, monkeypatch, capsys
):
    api, url = youtube
    channel = next(iter(api.channels))
    past = datetime.now(UTC).date() - timedelta(days=30)
    monkeypatch.setenv("INGEST_YOUTUBE_API_KEY", YT_KEY)
    code = cli.main(
        [
            "pull",
            "--platform",
            "youtube",
            "--date",
            past.isoformat(),
            "--accounts",
            channel,
            "--base-url",
            url,
            "--warehouse",
            str(settings.warehouse),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    # every YouTube Data API endpoint reports current state: nothing is asked, each is named
    assert api.requests == []
    for endpoint in ("channels_list (channels)", "playlist_items", "videos_list"):
        assert f"skipped: {endpoint}" in out
    assert f"is not {past}'s state" in out
    rows = (
        query(settings, "select count(*) from core.account_daily")
        if settings.warehouse.exists()
        else [(0,)]
    )
    assert rows == [(0,)]


def test_a_late_pull_keeps_series_and_names_the_snapshots_it_skipped(snapchat, settings, sleeps):
    api, url = snapchat
    ids = list(api.profiles)
    late = MIDNIGHT_AFTER + timedelta(hours=7)
    summary = pull(
        "snapchat",
        DAY,
        settings,
        accounts=ids,
        base_url=url,
        options=options(SNAP_TOKEN, sleeps, clock=lambda: late),
    )
    assert summary.ok, str(summary)
    assert api.calls("/stats") and not api.calls("/public/v1/")
    assert len(summary.skipped) == 1 and summary.skipped[0].startswith("public_profiles (profile)")
    assert summary.to_dict()["skipped"] == summary.skipped
    # the daily stats of the window are there, with their own days; no profile row was taken
    days = query(settings, "select max(day) from core.account_daily where platform = 'snapchat'")
    assert days == [(DAY,)]
    assert query(settings, "select count(*) from core.accounts where handle is not null") == [(0,)]


def test_the_dag_pull_of_a_backfilled_day_asks_series_only(
    snapchat, youtube, settings, monkeypatch
):
    """``runs.pull_platform_day`` is what the DAG's pull task calls, with the run's own day."""
    monkeypatch.setenv("INGEST_HTTP_BASE_DELAY", "0.001")
    snap, snap_url = snapchat
    yt, yt_url = youtube
    backfilled = datetime.now(UTC).date() - timedelta(days=20)
    pulled = runs.pull_platform_day(
        "snapchat",
        backfilled,
        settings,
        token=SNAP_TOKEN,
        base_url=snap_url,
        accounts=list(snap.profiles),
    )
    stats = snap.calls("/stats")
    assert stats and not snap.calls("/public/v1/")
    assert {r.query["endTime"] for r in stats} == {
        f"{backfilled + timedelta(days=1)}T00:00:00.000Z"
    }
    assert [s.split(" ")[0] for s in pulled["skipped"]] == ["public_profiles"]
    pulled = runs.pull_platform_day(
        "youtube", backfilled, settings, token=YT_KEY, base_url=yt_url, accounts=list(yt.channels)
    )
    assert yt.requests == []
    assert [s.split(" ")[0] for s in pulled["skipped"]] == [
        "channels_list",
        "playlist_items",
        "videos_list",
    ]


def _channels_page(day: date, observed_at: datetime | None, settings):
    body = (FIXTURES / "youtube" / "channels_list.json").read_bytes()
    return land_stream(
        io.BytesIO(body),
        settings.landing,
        platform="youtube",
        day=day,
        source_name="channels-all-p1.json",
        format="channels_list",
        fetched_at=observed_at,
        observed_at=observed_at,
    )


def test_a_pulled_snapshot_observed_outside_its_day_is_refused_on_every_replay(settings):
    late = _channels_page(DAY, MIDNIGHT_AFTER + timedelta(hours=9), settings)
    for _ in range(2):
        with pytest.raises(ParseError) as refused:
            stage_landed(late, settings)
        assert "channels-all-p1.json" in str(refused.value)
        assert f"is not recorded for {DAY}" in str(refused.value)
    # the nightly's page is taken, and so is a file handed in for the day (no observed_at)
    nightly = _channels_page(DAY - timedelta(days=1), NOW - timedelta(days=1), settings)
    handed_in = _channels_page(DAY - timedelta(days=40), None, settings)
    for landed in (nightly, handed_in):
        batch = stage_landed(landed, settings)
        try:
            assert batch.rows_loaded > 0
        finally:
            batch.discard()
    manifest = json.loads(nightly.manifest_path.read_text())
    assert manifest["observed_at"] == (NOW - timedelta(days=1)).isoformat()


def test_a_replayed_nightly_pull_keeps_its_days(youtube, settings, sleeps, monkeypatch):
    api, url = youtube
    summary = pull(
        "youtube",
        DAY,
        settings,
        accounts=list(api.channels)[:1],
        base_url=url,
        options=options(YT_KEY, sleeps),
    )
    assert summary.ok and not summary.skipped, str(summary)
    sql = (
        "select 'account', account_id, day, followers from core.account_daily union all"
        " select 'post', post_id, day, views from core.post_daily order by all"
    )
    first = query(settings, sql)
    assert first and {row[2] for row in first} == {DAY}
    # the pages keep the grace they were taken with: a later, narrower setting changes nothing
    monkeypatch.setenv("INGEST_SNAPSHOT_GRACE_HOURS", "1")
    replayed = runs.run_day(DAY, settings, platforms=("youtube",))
    assert replayed.ok, str(replayed)
    assert query(settings, sql) == first


@pytest.mark.parametrize(
    ("platform", "name", "dating"),
    [
        ("youtube", "channels_list", "snapshot"),
        ("youtube", "videos_list", "snapshot"),
        ("youtube", "playlist_items", "snapshot"),
        ("youtube", "analytics_report", "series"),
        ("youtube", "studio_zip", "series"),
        ("instagram", "business_discovery", "snapshot"),
        ("instagram", "user", "snapshot"),
        ("instagram", "media_list", "snapshot"),
        ("instagram", "media_insights", "snapshot"),
        ("instagram", "user_insights", "series"),
        ("instagram", "suite_csv", "series"),
        ("tiktok", "research_user_info", "snapshot"),
        ("tiktok", "display_video_list", "snapshot"),
        ("tiktok", "studio_overview", "series"),
        ("snapchat", "public_profiles", "snapshot"),
        ("snapchat", "profile_stats", "series"),
    ],
)
def test_formats_declare_how_their_rows_are_dated(platform, name, dating):
    assert registry().get(platform, name, "test").dating == dating


def test_a_pull_that_outruns_the_grace_keeps_no_later_snapshot(snapchat, settings, sleeps):
    api, url = snapchat
    in_grace = MIDNIGHT_AFTER + timedelta(hours=5, minutes=59)
    late = MIDNIGHT_AFTER + timedelta(hours=6, minutes=1)
    summary = pull(
        "snapchat",
        DAY,
        settings,
        accounts=list(api.profiles)[:1],
        base_url=url,
        # the pull starts inside the grace; its first answer arrives after it
        options=options(SNAP_TOKEN, sleeps, clock=lambda: late if api.requests else in_grace),
    )
    assert not summary.ok and not summary.skipped
    assert any("profile-" in e and "is not kept" in e for e in summary.errors), summary.errors
    manifests = [json.loads(p.read_text()) for p in settings.landing.rglob("*.manifest.json")]
    assert all(m["format"] != "public_profiles" for m in manifests)
