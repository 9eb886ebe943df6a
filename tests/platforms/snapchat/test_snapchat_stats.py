"""Snapchat profile stats responses (both reported shapes) -> account_daily."""

from __future__ import annotations

from datetime import date

import pytest
from tests.conftest import FIXTURES, context, split

from ingest.errors import ParseError
from ingest.platforms.snapchat.exports import parse_profile_stats

MARA = "4e1c7a52-9d0b-4f3e-8a61-2b7d5c0e9f13"
KITCHEN = "b7f02c31-5a6e-4d89-9c14-7e3a0d2f6b58"
GIVEN = "given-by-user"


def _row(account: str, day: date, tz: str = "UTC", **metrics: object) -> dict[str, object]:
    return {
        "platform": "snapchat",
        "account_id": account,
        "day": day,
        "day_timezone": tz,
        **metrics,
    }


CASES = [
    pytest.param(
        "stats_timeseries_day.json",
        [
            (
                1,
                _row(
                    MARA,
                    date(2026, 8, 28),
                    followers=48100,
                    followers_gained=140,
                    daily_views=51234,
                    daily_shares=0,
                ),
            ),
            # SHARES absent that day: NULL, not zero; a negative gain is a correction, kept
            (
                2,
                _row(
                    MARA,
                    date(2026, 8, 29),
                    followers=48150,
                    followers_gained=-3,
                    daily_views=49870,
                    daily_shares=None,
                ),
            ),
        ],
        [(3, "VIEWS", "VIEWS: expected a count, got 'fifty'")],
        ["metrics not loaded: VIEWERS"],
        id="timeseries_stats-shape",
    ),
    pytest.param(
        "stats_assets_day.json",
        [
            # the DEFAULT breakdown is the total, not the GENDER slice listed first
            (1, _row(GIVEN, date(2026, 8, 30), daily_views=20500, daily_shares=88)),
            # only a demographic slice: the total is not exposed
            (2, _row(GIVEN, date(2026, 8, 31), daily_views=18044, daily_shares=None)),
        ],
        [],
        [],
        id="assets-shape",
    ),
    pytest.param(
        "stats_offset_days.json",
        [
            # days stay as Snap wrote them; the offset is recorded, not shifted away
            (1, _row(KITCHEN, date(2026, 8, 30), "UTC+09:00", daily_views=700)),
            (2, _row(KITCHEN, date(2026, 8, 31), "UTC+09:00", daily_views=640)),
        ],
        [],
        [],
        id="offset-days",
    ),
    pytest.param(
        "stats_lifetime.json",
        [(1, _row(MARA, date(2026, 9, 1), followers=48210, total_views=9120455))],
        [],
        ["metrics not loaded: SPOTLIGHT_VIEWS"],
        id="lifetime-on-ctx-day",
    ),
    pytest.param(
        "stats_total_window.json",
        # end_time 2026-08-31T00:00 is exclusive: the window ends on Aug 30;
        # a 4-week VIEWS sum is no daily flow and must not land in daily_views
        [(1, _row(MARA, date(2026, 8, 30), followers=48210))],
        [
            (
                2,
                "sub_request_status",
                "sub_request_status: ERROR: startTime must be within the past 90 days",
            )
        ],
        ["metrics not loaded: SHARES, VIEWS"],
        id="total-window",
    ),
]


@pytest.mark.parametrize(("name", "expected", "expected_rejects", "expected_notes"), CASES)
def test_profile_stats(name, expected, expected_rejects, expected_notes):
    path = FIXTURES / "snapchat" / name
    items = list(parse_profile_stats(path, context("snapchat", name, account=GIVEN)))
    records, rejects, notes = split(items)
    assert set(records) <= {"account_daily"}
    assert [(r.line, r.values) for r in records.get("account_daily", [])] == expected
    assert [(r.line, r.field, r.reason) for r in rejects] == expected_rejects
    assert [n.message for n in notes] == [f"{name}: {text}" for text in expected_notes]


def test_response_id_wins_over_given_account():
    path = FIXTURES / "snapchat" / "stats_lifetime.json"
    items = list(parse_profile_stats(path, context("snapchat", account="someone-else")))
    records, _, _ = split(items)
    assert [r.values["account_id"] for r in records["account_daily"]] == [MARA]


def test_stats_without_profile_id_need_an_account():
    path = FIXTURES / "snapchat" / "stats_assets_day.json"
    with pytest.raises(ParseError, match="pass --account"):
        list(parse_profile_stats(path, context("snapchat", path.name)))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"request_status":"ERROR","debug_message":"Invalid field"}', "Invalid field"),
        ('{"request_status":"SUCCESS","request_id":"x"}', "no stats"),
        ('{"timeseries_stats":{"a":1}}', "expected a list"),
    ],
)
def test_unusable_documents(tmp_path, text, problem):
    path = tmp_path / "s.json"
    path.write_text(text)
    with pytest.raises(ParseError, match=problem):
        list(parse_profile_stats(path, context("snapchat", "s.json", account=GIVEN)))


def test_granularity_inferred_from_one_day_windows(tmp_path):
    # no granularity anywhere: one-day windows are days, fields given as a plain list
    path = tmp_path / "s.json"
    path.write_text(
        '{"assets":[{"id":"p1","timeseries":[{"start_time":"2026-08-31T00:00:00Z",'
        '"end_time":"2026-09-01T00:00:00Z","fields":[{"field_name":"SUBSCRIBERS",'
        '"value":"12"},{"field_name":"SHARES","value":3}]}]}]}'
    )
    records, rejects, _ = split(list(parse_profile_stats(path, context("snapchat"))))
    assert rejects == []
    assert [r.values for r in records["account_daily"]] == [
        _row("p1", date(2026, 8, 31), followers=12, daily_shares=3)
    ]
