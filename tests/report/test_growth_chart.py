"""The growth chart draws the followers the data shows, not the observation schedule."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import plotly.graph_objects as go
import pytest

from ingest.report import _growth_chart, _growth_picks
from ingest.transforms import FOLLOWERS_WINDOW_DAYS, rebuild_marts
from ingest.warehouse import migrate, open_warehouse
from tests.marts.helpers import insert, map_creators, pending

D0 = date(2026, 11, 1)
DAYS = 42


def observe(conn, platform: str, account: str, n: int, followers: int) -> None:
    day = D0 + timedelta(days=n)
    insert(
        conn, "account_daily", platform=platform, account_id=account, day=day, followers=followers
    )
    pending(conn, account, day, day + timedelta(days=27), platform=platform)


@pytest.fixture
def conn(tmp_path: Path):
    connection = open_warehouse(tmp_path / "w.duckdb")
    migrate(connection)
    yield connection
    connection.close()


def test_weekly_reads_and_a_stale_account_draw_no_spike(conn):
    # YouTube read nightly, Instagram weekly, TikTok weekly but not read for three weeks in the
    # middle (its count goes stale and leaves the total, then comes back): every account grows
    # by 0.1% a day, so the creator does too
    map_creators(
        conn, ("ana", "youtube", "yt1"), ("ana", "instagram", "ig1"), ("ana", "tiktok", "tt1")
    )
    start = {"yt1": 3_000, "ig1": 4_000, "tt1": 26_000}
    platform = {"yt1": "youtube", "ig1": "instagram", "tt1": "tiktok"}
    tiktok_silent = range(8, 29)
    for n in range(DAYS):
        for account, first in start.items():
            weekly = account != "yt1"
            if weekly and n % 7:
                continue
            if account == "tt1" and n in tiktok_silent:
                continue
            observe(conn, platform[account], account, n, round(first * 1.001**n))
    rebuild_marts(conn)
    # the total does leave TikTok out while its count is too old...
    totals = [
        row[0]
        for row in conn.execute(
            "select total_followers from marts.creator_daily order by day"
        ).fetchall()
    ]
    assert len(totals) == DAYS
    assert totals[7 + FOLLOWERS_WINDOW_DAYS + 1] < totals[7] / 3
    # ...but the chart draws growth only
    chart = _growth_chart(conn, go, D0 + timedelta(days=DAYS - 1))
    (trace,) = chart.figure.data
    assert len(trace.y) == DAYS and trace.y[0] == 100
    steps = [after / before for before, after in zip(trace.y, trace.y[1:], strict=False)]
    # a weekly read brings a week of growth at once: at most 1.001 ** 7
    assert all(0.999 <= step <= 1.0075 for step in steps), steps
    # the growth a stale account made while unread is not drawn either: never more than real
    assert 102 < trace.y[-1] <= 100 * 1.001 ** (DAYS - 1)
    # the hover still says what the total holds
    assert trace.customdata[7 + FOLLOWERS_WINDOW_DAYS + 1][2] == "instagram:ig1,youtube:yt1"


def test_fastest_growers_are_ranked_by_growth_not_by_accounts_joining_the_total(conn):
    # ana is flat, but her weekly Instagram is first read on day 7 and quadruples her total;
    # bo grows 1% a day on one account
    map_creators(
        conn, ("ana", "youtube", "yt1"), ("ana", "instagram", "ig1"), ("bo", "youtube", "yt2")
    )
    for n in range(14):
        observe(conn, "youtube", "yt1", n, 3_000)
        observe(conn, "youtube", "yt2", n, round(10_000 * 1.01**n))
        if n in (7, 13):
            observe(conn, "instagram", "ig1", n, 9_000)
    rebuild_marts(conn)
    assert _growth_picks(conn, D0 + timedelta(days=13)) == [
        ("bo", "fastest growth"),
        ("ana", "fastest growth"),
    ]
