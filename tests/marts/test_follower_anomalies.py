"""Follower-spike flags: median / MAD of the trailing 28 daily changes, hand-computed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ingest.transforms import rebuild_marts
from tests.marts.helpers import account_day, insert, pending

D0 = date(2026, 8, 1)
MAD_SCALE = 1.4826


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def load(conn, followers: list[int | None]) -> None:
    for n, value in enumerate(followers):
        account_day(conn, "acc", day(n), value)
    pending(conn, "acc", day(0), day(len(followers) - 1))
    rebuild_marts(conn)


def row(conn, n: int):
    return conn.execute(
        "select followers_change_1d, window_days, window_changes, median_change, mad_change,"
        " scale, robust_score, threshold, is_spike, anomaly_method"
        " from marts.follower_anomalies_daily where day = $d",
        {"d": day(n)},
    ).fetchone()


def alternating(days: int, start: int = 1_000) -> list[int]:
    """Day 0 = start; then +10 on odd days and +20 on even days."""
    followers = [start]
    for n in range(1, days):
        followers.append(followers[-1] + (10 if n % 2 else 20))
    return followers


def test_a_spike_against_a_noisy_baseline(conn):
    followers = alternating(29)  # days 0..28
    followers.append(followers[-1] + 100)  # day 29: +100
    followers.append(followers[-1] + 10)  # day 30: +10
    load(conn, followers)
    # day 29: baseline days 1..28 = 14 x 10 and 14 x 20 -> median 15, every deviation 5
    # scale = max(1.4826 * 5, 0.001 * 1,420, 1) = 7.413; score (100 - 15) / 7.413
    assert row(conn, 29) == (
        100,
        28,
        28,
        15.0,
        5.0,
        pytest.approx(MAD_SCALE * 5),
        pytest.approx(85 / (MAD_SCALE * 5)),
        5.0,
        True,
        "anomaly_spike_mad_v1",
    )
    # day 30: baseline days 2..29 = 13 x 10, 14 x 20, 100 -> median 20; deviations
    # 13 x 10, 14 x 0, 80 -> MAD 5; score (10 - 20) / 7.413
    assert row(conn, 30)[:9] == (
        10,
        28,
        28,
        20.0,
        5.0,
        pytest.approx(MAD_SCALE * 5),
        pytest.approx(-10 / (MAD_SCALE * 5)),
        5.0,
        False,
    )


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, (None, 28, 0, None, None, None, None, 5.0, False)),
        # 13 changes before day 14: too few to score, the median is still shown
        (14, (20, 28, 13, 10.0, 0.0, pytest.approx(1.0 * 1.0), None, 5.0, False)),
        (
            15,
            (
                10,
                28,
                14,
                15.0,
                5.0,
                pytest.approx(MAD_SCALE * 5),
                pytest.approx(-5 / 7.413),
                5.0,
                False,
            ),
        ),
    ],
)
def test_a_short_history_gives_no_score(conn, n, expected):
    load(conn, alternating(20, start=100))
    assert row(conn, n)[:9] == expected


def test_a_steady_account_is_scaled_by_its_size(conn):
    # +5 every day: MAD 0, so the scale is 0.1% of the day before's followers
    followers = [100_000 + 5 * n for n in range(29)]  # days 0..28, day 28 = 100,140
    followers.append(followers[-1] + 800)  # day 29
    followers.append(followers[-1] + 50)  # day 30
    load(conn, followers)
    assert row(conn, 29)[:9] == (
        800,
        28,
        28,
        5.0,
        0.0,
        pytest.approx(100.14),
        pytest.approx(795 / 100.14),
        5.0,
        True,
    )
    # day 30: baseline now holds the 800; median 5, MAD 0; scale 0.001 * 100,940
    assert row(conn, 30)[6:9] == (pytest.approx(45 / 100.94), 5.0, False)


def test_missing_and_hidden_days_give_no_change(conn):
    followers: list[int | None] = alternating(32)
    followers[20] = None  # hidden: no change on days 20 and 21
    load(conn, followers)
    assert row(conn, 20)[:3] == (None, 28, 19)
    assert row(conn, 21)[:3] == (None, 28, 19)
    # day 31: baseline days 3..30 minus the two unknown changes
    assert row(conn, 31)[:3] == (10, 28, 26)


def test_one_step_of_a_rounded_count_is_not_a_spike(conn):
    # a channel shown as 123K, then 124K: changes of 0 and one step of 1,000 (3 significant
    # figures); the scale is the step, so one step scores 1 and five steps score 5
    followers = [123_000] * 29 + [124_000, 129_000]  # days 0..28, day 29, day 30
    for n, value in enumerate(followers):
        insert(
            conn,
            "account_daily",
            platform="youtube",
            account_id="acc",
            day=day(n),
            followers=value,
            followers_rounded=True,
        )
    pending(conn, "acc", day(0), day(30))
    rebuild_marts(conn)
    assert row(conn, 29)[:9] == (1_000, 28, 28, 0.0, 0.0, 1_000.0, 1.0, 5.0, False)
    # day 30: baseline 27 zeros and 1,000 -> median 0, MAD 0; +5,000 is five steps
    assert row(conn, 30)[:9] == (5_000, 28, 28, 0.0, 0.0, 1_000.0, 5.0, 5.0, True)
