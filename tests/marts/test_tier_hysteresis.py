"""Tier hysteresis (mission-v2: 5% around every boundary), hand-walked day by day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ingest.tiers import load_rules
from ingest.transforms import rebuild_marts
from tests.marts.helpers import account_day, pending

D = date(2026, 9, 1)

# followers, threshold tier, tier held under a 5% margin (5,000 boundary: up at 5,250,
# down below 4,750; 100,000 boundary: up at 105,000)
WALK = [
    (4_900, "nano", "nano"),  # first day: the threshold tier
    (5_100, "micro", "nano"),  # above 5,000 but not by 5%
    (5_250, "micro", "micro"),  # exactly 5,000 * 1.05: crosses
    (4_800, "nano", "micro"),  # below 5,000 but not by 5%
    (4_750, "nano", "micro"),  # exactly 5,000 * 0.95: still inside the margin
    (None, None, None),  # hidden: no tier, the held tier carries over the gap
    (4_749, "nano", "nano"),  # below the margin: falls
    (200_000, "macro", "macro"),  # a jump over two boundaries lands in the tier it is in
    (102_000, "macro", "macro"),
    (4_000, "nano", "nano"),  # a crash past the margins falls all the way
]


def day(n: int) -> date:
    return D + timedelta(days=n)


def tiers(conn):
    return conn.execute(
        "select followers, raw_tier, tier, tier_rule_version from marts.creator_tier_daily"
        " order by day"
    ).fetchall()


def test_the_configured_margins():
    assert {v.name: v.hysteresis_pct for v in load_rules().versions} == {
        "mission-v1": 0,
        "mission-v2": 5,
    }


def test_hysteresis_holds_a_tier_inside_the_margin(conn):
    for n, (followers, _, _) in enumerate(WALK):
        account_day(conn, "acc", day(n), followers)
    pending(conn, "acc", day(0), day(len(WALK) - 1))
    rebuild_marts(conn, rule_version="mission-v2")
    assert tiers(conn) == [(f, raw, held, "mission-v2") for f, raw, held in WALK]
    assert conn.execute(
        "select tier, valid_from, valid_to, tier_rule_version from marts.creator_tier_history"
        " order by valid_from"
    ).fetchall() == [
        ("nano", day(0), day(2), "mission-v2"),
        ("micro", day(2), day(6), "mission-v2"),
        ("nano", day(6), day(7), "mission-v2"),
        ("macro", day(7), day(9), "mission-v2"),
        ("nano", day(9), None, "mission-v2"),
    ]


def test_without_margin_the_tier_is_the_threshold_tier(conn):
    for n, (followers, _, _) in enumerate(WALK):
        account_day(conn, "acc", day(n), followers)
    pending(conn, "acc", day(0), day(len(WALK) - 1))
    rebuild_marts(conn, rule_version="mission-v1")
    assert tiers(conn) == [(f, raw, raw, "mission-v1") for f, raw, _ in WALK]


@pytest.mark.parametrize(
    ("later", "held"),
    [
        (4_800, "micro"),  # seeded from the stored micro of day 2
        (4_749, "nano"),
    ],
)
def test_an_incremental_rebuild_continues_from_the_stored_tier(conn, later, held):
    for n, followers in enumerate((4_900, 5_100, 5_250)):
        account_day(conn, "acc", day(n), followers)
    pending(conn, "acc", day(0), day(2))
    rebuild_marts(conn, rule_version="mission-v2")
    account_day(conn, "acc", day(3), later)
    pending(conn, "acc", day(3), day(3))
    rebuild_marts(conn, rule_version="mission-v2")
    assert [t for _, _, t, _ in tiers(conn)] == ["nano", "nano", "micro", held]


def test_a_restated_day_rewalks_every_later_day(conn):
    # the pending range ends at day 1, yet day 3 changes: tiers carry forward
    for n, followers in enumerate((4_900, 5_300, 5_100, 5_100)):
        account_day(conn, "acc", day(n), followers)
    pending(conn, "acc", day(0), day(3))
    rebuild_marts(conn, rule_version="mission-v2")
    assert [t for _, _, t, _ in tiers(conn)] == ["nano", "micro", "micro", "micro"]
    conn.execute("update core.account_daily set followers = 5_000 where day = $d", {"d": day(1)})
    pending(conn, "acc", day(1), day(1))
    rebuild_marts(conn, rule_version="mission-v2")
    assert [t for _, _, t, _ in tiers(conn)] == ["nano", "nano", "nano", "nano"]
