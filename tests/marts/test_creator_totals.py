"""Creator totals as of each day (followers_as_of_v1): no jumps with the observation schedule."""

from __future__ import annotations

import random
from datetime import date, timedelta

import duckdb
import pytest

from ingest.bi_copy import publish_bi
from ingest.config import Settings
from ingest.transforms import FOLLOWERS_WINDOW_DAYS, MARTS, rebuild_marts
from ingest.warehouse import migrate, open_warehouse

from .helpers import insert, map_creators, pending

D0 = date(2026, 11, 1)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def observe(conn, platform: str, account: str, n: int, followers: int | None, **extra) -> None:
    """An observation of an account on day n, queued for the marts as a publish would."""
    insert(
        conn,
        "account_daily",
        platform=platform,
        account_id=account,
        day=day(n),
        followers=followers,
        **extra,
    )
    pending(conn, account, day(n), day(n + 27), platform=platform)


def totals(conn, creator: str = "ana") -> dict[date, tuple[object, ...]]:
    return {
        row[0]: row[1:]
        for row in conn.execute(
            "select day, total_followers, tier, accounts_counted, followers_oldest_age_days,"
            " accounts_stale, counted_accounts, platforms from marts.creator_daily"
            " where creator_id = $c order by day",
            {"c": creator},
        ).fetchall()
    }


def test_weekly_and_daily_accounts_give_a_flat_total(conn):
    # the demo's schedule: YouTube read nightly, Instagram and TikTok once a week
    map_creators(
        conn, ("ana", "youtube", "yt1"), ("ana", "instagram", "ig1"), ("ana", "tiktok", "tt1")
    )
    youtube = {n: 3_000 + 10 * n for n in range(21)}
    instagram = {n: 4_000 + 10 * n for n in (0, 7, 14)}
    tiktok = {n: 26_000 + 10 * n for n in (0, 7, 14)}
    for n in range(21):
        observe(conn, "youtube", "yt1", n, youtube[n])
        if n in instagram:
            observe(conn, "instagram", "ig1", n, instagram[n])
            observe(conn, "tiktok", "tt1", n, tiktok[n])
        rebuild_marts(conn)  # nightly
    got = totals(conn)
    assert sorted(got) == [day(n) for n in range(21)]
    for n in range(21):
        week = n - n % 7
        expected = youtube[n] + instagram[week] + tiktok[week]
        assert got[day(n)][:6] == (
            expected,
            "micro",
            3,
            n % 7,
            0,
            "instagram:ig1,tiktok:tt1,youtube:yt1",
        )
    steps = [abs(got[day(n + 1)][0] - got[day(n)][0]) for n in range(20)]
    # the weekly reads catch up a week of growth (at most 150 in one step), nothing like the
    # drop to YouTube alone between weekly reads that summing the observed accounts gave
    assert max(steps) <= 150


def test_a_count_older_than_the_window_is_dropped_and_the_total_says_so(conn):
    map_creators(conn, ("ana", "youtube", "yt1"), ("ana", "instagram", "ig1"))
    observe(conn, "instagram", "ig1", 0, 4_000)
    for n in range(FOLLOWERS_WINDOW_DAYS + 3):
        observe(conn, "youtube", "yt1", n, 3_000)
    rebuild_marts(conn)
    got = totals(conn)
    last_counted = day(FOLLOWERS_WINDOW_DAYS)
    first_dropped = day(FOLLOWERS_WINDOW_DAYS + 1)
    assert got[last_counted] == (
        7_000,
        "micro",
        2,
        FOLLOWERS_WINDOW_DAYS,
        0,
        "instagram:ig1,youtube:yt1",
        "instagram,youtube",
    )
    assert got[first_dropped] == (3_000, "nano", 1, 0, 1, "youtube:yt1", "youtube")
    assert conn.execute(
        "select status, followers, followers_day, followers_age_days, last_observed_day"
        " from marts.creator_account_daily where account_id = 'ig1' and day = $d",
        {"d": first_dropped},
    ).fetchall() == [("stale", None, day(0), FOLLOWERS_WINDOW_DAYS + 1, day(0))]


def test_a_hidden_count_stops_counting_and_a_series_row_does_not(conn):
    map_creators(
        conn, ("ana", "youtube", "yt1"), ("ana", "tiktok", "tt1"), ("ana", "instagram", "ig1")
    )
    for n in range(6):
        observe(conn, "youtube", "yt1", n, 3_000)
    observe(conn, "tiktok", "tt1", 0, 10_000)
    # the account hides its count from day 3 on: an older count is not a count of today
    observe(conn, "tiktok", "tt1", 3, None, followers_hidden=True)
    observe(conn, "instagram", "ig1", 0, 4_000)
    # a daily series (views only) says nothing about followers: the count of day 0 stands
    observe(conn, "instagram", "ig1", 2, None, daily_views=900)
    rebuild_marts(conn)
    got = totals(conn)
    assert [got[day(n)][0] for n in range(6)] == [17_000, 17_000, 17_000, 7_000, 7_000, 7_000]
    assert got[day(3)][2:] == (2, 3, 0, "instagram:ig1,youtube:yt1", "instagram,tiktok,youtube")
    assert conn.execute(
        "select platform, status, followers_day from marts.creator_account_daily"
        " where day = $d order by platform",
        {"d": day(3)},
    ).fetchall() == [
        ("instagram", "counted", day(0)),
        ("tiktok", "hidden", day(3)),
        ("youtube", "counted", day(3)),
    ]


def test_a_late_observation_updates_the_days_after_it(conn):
    map_creators(conn, ("ana", "youtube", "yt1"), ("ana", "instagram", "ig1"))
    for n in range(14):
        observe(conn, "youtube", "yt1", n, 3_000)
        if n % 7 == 0:
            observe(conn, "instagram", "ig1", n, 4_000)
        rebuild_marts(conn)
    assert [totals(conn)[day(n)][0] for n in range(14)] == [7_000] * 14
    # a backfill delivers Instagram's count of day 3, read late
    observe(conn, "instagram", "ig1", 3, 96_000)
    rebuild_marts(conn)
    got = totals(conn)
    assert [got[day(n)][0] for n in range(14)] == [7_000] * 3 + [99_000] * 4 + [7_000] * 7
    assert [got[day(n)][1] for n in range(14)] == ["micro"] * 14
    assert [got[day(n)][3] for n in range(7)] == [0, 1, 2, 0, 1, 2, 3]


@pytest.mark.parametrize("window", [FOLLOWERS_WINDOW_DAYS])
def test_the_window_is_recorded_on_every_row(conn, window):
    map_creators(conn, ("ana", "youtube", "yt1"))
    observe(conn, "youtube", "yt1", 0, 3_000)
    rebuild_marts(conn)
    assert conn.execute(
        "select followers_window_days, followers_rule from marts.creator_daily"
    ).fetchall() == [(window, "followers_as_of_v1")]


Observations = dict[tuple[str, str, int], dict[str, object]]


def schedule(seed: int, days: int) -> Observations:
    """Accounts read on different schedules, with gaps past the window and hidden counts."""
    rng = random.Random(seed)
    every = {
        ("youtube", "yt1"): 1,
        ("instagram", "ig1"): 7,
        ("tiktok", "tt1"): 10,
        ("youtube", "yt2"): 1,
        ("instagram", "ig2"): 5,
        ("snapchat", "sc1"): 14,
    }
    out: Observations = {}
    for (platform, account), step in every.items():
        followers = rng.randint(1_000, 60_000)
        offset = rng.randrange(step)
        for n in range(days):
            followers += rng.randint(-50, 120)
            if (n - offset) % step or rng.random() < 0.1:
                continue
            if platform == "tiktok" and 15 <= n < 35:
                continue  # a gap longer than the window
            roll = rng.random()
            if account == "ig2" and n < 6:
                roll = 0.1  # views before any follower count: present, count unknown
            if roll < 0.05:
                out[(platform, account, n)] = {"followers": None, "followers_hidden": True}
            elif roll < 0.12:
                out[(platform, account, n)] = {"followers": None, "daily_views": 10}
            else:
                out[(platform, account, n)] = {"followers": followers}
    return out


MAPPING_BEFORE = (
    ("ana", "youtube", "yt1"),
    ("ana", "instagram", "ig1"),
    ("ana", "tiktok", "tt1"),
    ("bo", "youtube", "yt2"),
    ("bo", "instagram", "ig2"),
    ("bo", "snapchat", "sc1"),
)
# tt1 moves to bo halfway
MAPPING_AFTER = tuple(
    (("bo" if account == "tt1" else creator), platform, account)
    for creator, platform, account in MAPPING_BEFORE
)
CREATOR_MARTS = ("marts.creator_account_daily", "marts.creator_daily")


def table_rows(conn, table: str) -> list[tuple[object, ...]]:
    return sorted(conn.execute(f"select * from {table}").fetchall(), key=repr)


@pytest.mark.parametrize("seed", [3, 8])
def test_incremental_rebuilds_and_bi_copies_equal_a_rebuild_from_scratch(conn, tmp_path, seed):
    days = 45
    data = schedule(seed, days)
    # late deliveries: counts of ig1 and sc1 for days they were not read, and a restatement of
    # yt1, all arriving on night 30
    late: Observations = {
        ("instagram", "ig1", 11): {"followers": 90_000},
        ("instagram", "ig1", 12): {"followers": 91_000},
        ("snapchat", "sc1", 20): {"followers": 4_321},
        ("youtube", "yt1", 22): {"followers": 150_000},
    }
    settings = Settings.from_env(tmp_path / "w.duckdb")
    map_creators(conn, *MAPPING_BEFORE)
    for night in range(days):
        for (platform, account, n), values in data.items():
            if n == night:
                observe(conn, platform, account, n, **values)  # type: ignore[arg-type]
        if night == 30:
            for (platform, account, n), values in late.items():
                conn.execute(
                    "delete from core.account_daily where account_id = $a and day = $d",
                    {"a": account, "d": day(n)},
                )
                observe(conn, platform, account, n, **values)  # type: ignore[arg-type]
        if night == 25:
            map_creators(conn, *MAPPING_AFTER)
        if night % 3 == 0 or night == days - 1:
            rebuild_marts(conn)
            publish_bi(conn, settings)
    data.update(late)

    reference = open_warehouse(tmp_path / "reference.duckdb")
    migrate(reference)
    try:
        map_creators(reference, *MAPPING_AFTER)
        for (platform, account, n), values in data.items():
            observe(reference, platform, account, n, **values)  # type: ignore[arg-type]
        rebuild_marts(reference)
        for table in CREATOR_MARTS:
            expected = table_rows(reference, table)
            assert table_rows(conn, table) == expected, table
        for mart in MARTS:
            assert table_rows(conn, mart.table) == table_rows(reference, mart.table), mart.name
        reader = duckdb.connect(str(settings.bi_warehouse), read_only=True)
        try:
            for mart in MARTS:
                assert table_rows(reader, mart.table) == table_rows(conn, mart.table), mart.name
        finally:
            reader.close()
        # the schedule reaches every case
        assert reference.execute(
            "select list(distinct status order by status) from marts.creator_account_daily"
        ).fetchone() == (["counted", "hidden", "stale", "unknown"],)
    finally:
        reference.close()


def test_an_existing_warehouse_is_rolled_up_again_under_the_new_rule(tmp_path, monkeypatch):
    from ingest import warehouse

    every = warehouse.migrations()
    monkeypatch.setattr(warehouse, "migrations", lambda: [m for m in every if m[0] < "V014"])
    conn = open_warehouse(tmp_path / "old.duckdb")
    try:
        migrate(conn)
        map_creators(conn, ("ana", "youtube", "yt1"), ("ana", "instagram", "ig1"))
        for n in range(3):
            insert(
                conn,
                "account_daily",
                platform="youtube",
                account_id="yt1",
                day=day(n),
                followers=3_000,
            )
        insert(
            conn,
            "account_daily",
            platform="instagram",
            account_id="ig1",
            day=day(0),
            followers=4_000,
        )
        # the account marts as a rebuild left them, and the rollups as the rule before summed
        # them: the accounts observed that day
        conn.execute(
            "insert into marts.creator_engagement_daily (platform, account_id, day, followers,"
            " posts_28d, engagement_formula, engagement_views_formula)"
            " select platform, account_id, day, followers, 0, 'x', 'x' from core.account_daily"
        )
        conn.execute(
            "insert into marts.creator_daily (creator_id, day, platforms, platforms_count,"
            " accounts_count, total_followers, tier, tier_rule_version, engagement_formula)"
            " select 'ana', day, 'youtube', 1, 1, 3_000, 'nano', 'mission-v1', 'x'"
            " from core.account_daily where account_id = 'yt1' and day > $d",
            {"d": day(0)},
        )
        conn.execute(
            "insert into marts.creator_daily (creator_id, day, platforms, platforms_count,"
            " accounts_count, total_followers, tier, tier_rule_version, engagement_formula)"
            " values ('ana', $d, 'instagram,youtube', 2, 2, 7_000, 'micro', 'mission-v1', 'x')",
            {"d": day(0)},
        )
        conn.execute("delete from meta.pending_creator_days")
        monkeypatch.setattr(warehouse, "migrations", lambda: every)
        assert migrate(conn) == [m[0] for m in every if m[0] >= "V014"]
        rebuild_marts(conn)
        assert [row[:3] for row in totals(conn).values()] == [(7_000, "micro", 2)] * 3
    finally:
        conn.close()
