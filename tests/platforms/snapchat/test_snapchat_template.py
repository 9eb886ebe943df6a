"""The hand-copied Snapchat Insights CSV template -> account_daily."""

from __future__ import annotations

from datetime import date

import pytest
from tests.conftest import FIXTURES, context, split

from ingest.errors import ParseError
from ingest.platforms.snapchat.exports import parse_insights_template

MARA = "4e1c7a52-9d0b-4f3e-8a61-2b7d5c0e9f13"


def _row(account: str, day: date, **metrics: object) -> dict[str, object]:
    return {"platform": "snapchat", "account_id": account, "day": day, **metrics}


FULL = [
    (
        2,
        _row(
            MARA,
            date(2026, 8, 29),
            followers=48150,
            followers_gained=95,
            followers_lost=12,
            daily_shares=88,
            daily_likes=140,
            daily_comments=17,
            daily_views=24810,  # 4310 snap views + 20500 spotlight views
        ),
    ),
    (
        3,
        _row(
            MARA,
            date(2026, 8, 30),
            followers=48210,  # "48,210"
            followers_gained=70,
            followers_lost=10,
            daily_shares=0,  # a written 0 stays 0
            daily_likes=None,  # blank favorites: not copied
            daily_comments=5,
            daily_views=None,  # spotlight views blank: the sum is not known
        ),
    ),
    (
        5,
        _row(
            "given-by-user",  # blank account cell
            date(2026, 9, 1),
            followers=48290,
            followers_gained=55,
            followers_lost=7,
            daily_shares=0,
            daily_likes=0,
            daily_comments=0,
            daily_views=0,
        ),
    ),
]


def _parse(name: str, account: str | None) -> tuple[list, list, list]:
    path = FIXTURES / "snapchat" / name
    records, rejects, notes = split(
        list(parse_insights_template(path, context("snapchat", name, account=account)))
    )
    assert set(records) <= {"account_daily"}
    rows = [(r.line, r.values) for r in records.get("account_daily", [])]
    return rows, [(r.line, r.field, r.reason) for r in rejects], [n.message for n in notes]


def test_template_rows():
    rows, rejects, notes = _parse("insights_template.csv", "given-by-user")
    assert rows == FULL
    # abbreviations are not the figure
    assert rejects == [(4, "followers", "followers: expected a count, got '48.3K'")]
    assert notes == []


def test_blank_account_without_given_account_is_rejected():
    rows, rejects, _ = _parse("insights_template.csv", None)
    assert [line for line, _ in rows] == [2, 3]
    assert rejects[-1] == (5, "account", "account: required value is missing")


def test_edited_header_semicolons_and_bom():
    # header typed as the app names things, semicolon-separated, saved with a BOM
    rows, rejects, notes = _parse("insights_template_edited.csv", "given-by-user")
    assert rows == [
        (2, _row("given-by-user", date(2026, 8, 30), followers=48210, daily_views=24480)),
        (3, _row("given-by-user", date(2026, 8, 31), followers=48260, daily_views=None)),
    ]
    assert rejects == []
    assert notes == ["insights_template_edited.csv: columns not used: Notes"]


def test_no_account_column_needs_an_account():
    path = FIXTURES / "snapchat" / "insights_template_edited.csv"
    with pytest.raises(ParseError, match="pass --account"):
        list(parse_insights_template(path, context("snapchat", path.name)))


def test_missing_date_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("day,account,snap_views\n2026-08-31,a,1\n")
    with pytest.raises(ParseError, match="'date' is missing") as info:
        list(parse_insights_template(path, context("snapchat", "t.csv")))
    assert info.value.field == "date"
