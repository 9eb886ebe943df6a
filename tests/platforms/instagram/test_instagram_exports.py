"""Exports: "Download your information" (zip or JSON) and Business Suite per-metric CSVs."""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import FIXTURES, context, split

from ingest.coerce import repair_mojibake
from ingest.errors import ParseError
from ingest.parsing import Item, Record
from ingest.platforms.instagram import exports

DAY = date(2026, 9, 1)
ACCOUNT = "17841400000000009"
KEY = {"platform": "instagram", "account_id": ACCOUNT}
IG_DIR = FIXTURES / "instagram"


def dyi_zip(tmp_path: Path) -> Path:
    """Zip the fixture export tree the way Instagram names its download."""
    path = tmp_path / "instagram-cafe.lina-2026-09-01-a1b2c3.zip"
    root = IG_DIR / "dyi_export"
    with zipfile.ZipFile(path, "w") as archive:
        for member in sorted(root.rglob("*.json")):
            archive.write(member, member.relative_to(root).as_posix())
    return path


def run(parser: Any, path: Path, account: str | None = ACCOUNT) -> list[Item]:
    return list(parser(path, context("instagram", path.name, account=account)))


def rows(records: dict[str, list[Record]], entity: str) -> list[dict[str, Any]]:
    return [r.values for r in records.get(entity, [])]


def at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def post(post_id: str, created: int, **values: Any) -> dict[str, Any]:
    return {**KEY, "post_id": post_id, "published_at": at(created), **values}


def daily(post_id: str, created: int, **values: Any) -> dict[str, Any]:
    return {**KEY, "post_id": post_id, "day": DAY, "published_at": at(created), **values}


# one fixture per quirk: each expected row breaks if that quirk's handling goes
DYI_FILES = [
    pytest.param(
        "dyi_posts_case_drift.json",
        [post("17960458724069999", 1786000000, caption="Rainy window")],
        [daily("17960458724069999", 1786000000, reach=640, likes=51, comments=3)],
        [],
        id="case_drift",
    ),
    pytest.param(
        "dyi_posts_italian.json",
        [post("17960458724060001", 1785000000, caption="Tramonto a Napoli")],
        [
            daily(
                "17960458724060001",
                1785000000,
                reach=1130,
                likes=95,
                comments=7,
                shares=3,
                saves=12,
            )
        ],
        ["dyi_posts_italian.json: insight labels not used: Interazioni con il post"],
        id="italian_labels_dot_thousands",
    ),
    pytest.param(
        "dyi_reels_portuguese.json",
        [post("17990000000000007", 1786500000, caption="Radosław na praia \u2615")],
        [
            daily(
                "17990000000000007",
                1786500000,
                reach=95911,
                likes=3412,
                comments=120,
                shares=860,
                saves=1004,
            )
        ],
        [],
        id="portuguese_mojibake_labels",
    ),
    pytest.param(
        "dyi_posts_missing.json",
        [post("17960458724065555", 1786000000, caption="New menu")],
        [
            daily(
                "17960458724065555",
                1786000000,
                reach=310,
                likes=0,
                comments=None,
                shares=None,
                saves=None,
            )
        ],
        [],
        id="dashes_and_empty_are_null",
    ),
]


@pytest.mark.parametrize(("name", "posts", "post_daily", "notes"), DYI_FILES)
def test_dyi_insights_files(
    name: str, posts: list[Any], post_daily: list[Any], notes: list[str]
) -> None:
    records, rejects, got_notes = split(run(exports.parse_dyi_export, IG_DIR / name))
    assert set(records) == {"posts", "post_daily"}
    assert rows(records, "posts") == posts
    assert rows(records, "post_daily") == post_daily
    assert rejects == []
    assert [n.message for n in got_notes] == notes


def test_dyi_zip(tmp_path: Path) -> None:
    path = dyi_zip(tmp_path)
    records, rejects, notes = split(run(exports.parse_dyi_export, path))
    assert rows(records, "posts") == [
        # caption arrives as UTF-8 bytes escaped one by one (Caf\u00c3\u00a9 …)
        post("17960458724061234", 1787900000, caption="Café morning \u2615"),
        # no media id in the reel's file name: the creation second names it
        post("dyi-1787000000", 1787000000),
    ]
    assert rows(records, "post_daily") == [
        daily(
            "17960458724061234", 1787900000, reach=1200, likes=80, comments=4, shares=6, saves=11
        ),
        daily(
            "dyi-1787000000",
            1787000000,
            reach=95911,
            likes=3412,
            comments=120,
            shares=860,
            saves=1004,
        ),
    ]
    # followers_1.json (3) + followers_2.json (2); following.json (2)
    assert rows(records, "account_daily") == [{**KEY, "day": DAY, "followers": 5, "following": 2}]
    assert [(r.line, r.field) for r in rejects] == [(2, "Likes")]
    assert rejects[0].reason == (
        f"{path.name}!logged_information/past_instagram_insights/reels.json: "
        "Likes: expected a count, got 'lots'"
    )
    assert notes == []


def test_dyi_followers_file() -> None:
    path = IG_DIR / "dyi_export/connections/followers_and_following/followers_1.json"
    records, rejects, _ = split(run(exports.parse_dyi_export, path))
    assert rows(records, "account_daily") == [{**KEY, "day": DAY, "followers": 3}]
    assert set(records) == {"account_daily"} and rejects == []


@pytest.mark.parametrize("name", ["dyi_posts_case_drift.json", "zip"])
def test_dyi_needs_account(tmp_path: Path, name: str) -> None:
    path = dyi_zip(tmp_path) if name == "zip" else IG_DIR / name
    with pytest.raises(ParseError, match="--account") as info:
        run(exports.parse_dyi_export, path, account=None)
    assert info.value.source == path.name


def test_dyi_zip_without_instagram_files(tmp_path: Path) -> None:
    path = tmp_path / "instagram-x-2026-09-01-ff.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("personal_information/personal_information.json", "{}")
    with pytest.raises(ParseError, match="no Instagram insights or followers files"):
        run(exports.parse_dyi_export, path)


@pytest.mark.parametrize(
    ("text", "repaired"),
    [
        ("Rados\u00c5\u0082aw", "Radosław"),
        ("\u00d0\u0094\u00d0\u00b0", "Да"),
        ("caf\u00e9", "café"),  # real Latin-1 text does not round-trip: kept
        ("plain", "plain"),
        ("Radosław", "Radosław"),  # already right: outside Latin-1, kept
    ],
)
def test_repair_mojibake(text: str, repaired: str) -> None:
    assert repair_mojibake(text) == repaired


SUITE = [
    pytest.param(
        "suite_views.csv",
        [
            (4, {**KEY, "day": date(2026, 8, 22), "daily_views": 8226}),
            (5, {**KEY, "day": date(2026, 8, 23), "daily_views": 9013}),
            (6, {**KEY, "day": date(2026, 8, 24), "daily_views": None}),
            (8, {**KEY, "day": date(2026, 8, 26), "daily_views": 0}),
        ],
        [(7, "Primary")],
        [],
        id="views_utf16_sep_title",
    ),
    pytest.param(
        "suite_follows.csv",
        [
            (4, {**KEY, "day": date(2026, 8, 22), "followers_gained": 31}),
            (5, {**KEY, "day": date(2026, 8, 23), "followers_gained": 12}),
        ],
        [],
        [],
        id="follows",
    ),
    pytest.param(
        "suite_reach.csv",
        [],
        [],
        ["suite_reach.csv: metric 'Reach' has no canonical column; not loaded"],
        id="known_title_without_column",
    ),
]


@pytest.mark.parametrize(("name", "expected", "rejects", "notes"), SUITE)
def test_suite_csv(name: str, expected: list[Any], rejects: list[Any], notes: list[str]) -> None:
    path = IG_DIR / name
    assert path.read_bytes().startswith(b"\xff\xfes\x00e\x00p\x00=\x00")
    records, got_rejects, got_notes = split(run(exports.parse_suite_csv, path))
    assert [(r.line, r.values) for r in records.get("account_daily", [])] == expected
    assert [(r.line, r.field) for r in got_rejects] == rejects
    assert [n.message for n in got_notes] == notes


def test_suite_csv_unknown_title() -> None:
    with pytest.raises(ParseError, match="'Mystery metric'") as info:
        run(exports.parse_suite_csv, IG_DIR / "suite_unknown_title.csv")
    assert (info.value.source, info.value.line) == ("suite_unknown_title.csv", 2)


def test_suite_csv_needs_account() -> None:
    with pytest.raises(ParseError, match="--account"):
        run(exports.parse_suite_csv, IG_DIR / "suite_views.csv", account=None)


def test_suite_csv_without_title(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b'sep=,\n"Date","Primary"\n"2026-08-22T00:00:00","1"\n')
    with pytest.raises(ParseError, match="no metric title"):
        run(exports.parse_suite_csv, path)
