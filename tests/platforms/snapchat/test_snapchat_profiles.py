"""Snapchat Public Profile responses -> accounts and account_daily."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from tests.conftest import FIXTURES, context, split

from ingest.errors import ParseError
from ingest.platforms.snapchat.exports import parse_public_profiles

MARA = "4e1c7a52-9d0b-4f3e-8a61-2b7d5c0e9f13"
KITCHEN = "b7f02c31-5a6e-4d89-9c14-7e3a0d2f6b58"
HIKES = "0c9d8e7f-1a2b-4c3d-8e5f-6a7b8c9d0e1f"
DAY = date(2026, 9, 1)


def _account(account_id: str, handle: str, name: str, **extra: object) -> dict[str, object]:
    return {
        "platform": "snapchat",
        "account_id": account_id,
        "handle": handle,
        "display_name": name,
        **extra,
    }


def _followers(account_id: str, followers: int | None) -> dict[str, object]:
    return {
        "platform": "snapchat",
        "account_id": account_id,
        "day": DAY,
        "followers": followers,
        "day_timezone": "UTC",
    }


def _parse(name: str) -> tuple[list[tuple[str, int, dict[str, object]]], list[tuple[int, str]]]:
    items = list(parse_public_profiles(FIXTURES / "snapchat" / name, context("snapchat", name)))
    records, rejects, notes = split(items)
    assert notes == []
    rows = [(r.entity, r.line, r.values) for group in records.values() for r in group]
    return sorted(rows, key=lambda r: (r[1], r[0])), [(r.line, r.reason) for r in rejects]


CASES = [
    pytest.param(
        "public_profiles.json",
        [
            ("account_daily", 1, _followers(MARA, 48210)),  # string count
            ("accounts", 1, _account(MARA, "mara.lindq", "Mara Lindqvist")),
            ("account_daily", 2, _followers(KITCHEN, 0)),  # int zero stays zero
            (
                "accounts",
                2,
                _account(
                    KITCHEN,
                    "tinykitchenco",
                    "Tiny Kitchen Co",
                    created_at=datetime(2021, 4, 12, 9, 30, tzinfo=UTC),
                ),
            ),
            # no subscriber_count: no follower row at all, so nothing is overwritten with NULL
            ("accounts", 4, _account(HIKES, "quiethikes", "Quiet Hikes")),
        ],
        [(3, "sub_request_status: ERROR: Public profile not found")],
        id="envelope",
    ),
    pytest.param(
        "public_profile_bare.json",
        [
            ("account_daily", 1, _followers(MARA, 48350)),  # "48,350"
            ("accounts", 1, _account(MARA, "mara.lindq", "Mara Lindqvist")),
        ],
        [],
        id="bare-profile",
    ),
    pytest.param(
        "public_profile_wrapped.json",
        [
            ("account_daily", 1, _followers(KITCHEN, 1250)),
            ("accounts", 1, _account(KITCHEN, "tinykitchenco", "Tiny Kitchen Co")),
        ],
        [],
        id="wrapped-profile",
    ),
    pytest.param(
        "public_profiles_bad_count.json",
        [],
        [
            (1, "public_profile.subscriber_count: expected a count, got '48.2K'"),
            (2, "public_profile.id: required value is missing"),
        ],
        id="bad-entries",
    ),
]


@pytest.mark.parametrize(("name", "expected", "expected_rejects"), CASES)
def test_public_profiles(name, expected, expected_rejects):
    rows, rejects = _parse(name)
    assert rows == expected
    assert rejects == expected_rejects


def test_subscriber_count_types_are_ints():
    rows, _ = _parse("public_profiles.json")
    followers = [v["followers"] for e, _, v in rows if e == "account_daily"]
    assert followers == [48210, 0]
    assert all(type(f) is int for f in followers)


def test_failed_request_is_a_parse_error():
    path = FIXTURES / "snapchat" / "public_profiles_failed.json"
    with pytest.raises(ParseError, match=r"request failed \(ERROR\): Unauthorized: token expired"):
        list(parse_public_profiles(path, context("snapchat", path.name)))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"request_status":"SUCCESS","public_profiles":{}}', "expected a list"),
        ('{"request_status":"SUCCESS","request_id":"x"}', "no public profile"),
        ("[]", "expected a JSON object"),
    ],
)
def test_unusable_documents(tmp_path, text, problem):
    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(ParseError, match=problem):
        list(parse_public_profiles(path, context("snapchat", "p.json")))
