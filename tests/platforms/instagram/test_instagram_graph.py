"""Graph API responses: IG User, business_discovery, media lists and insights."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from tests.conftest import FIXTURES, context, split

from ingest.errors import ParseError
from ingest.parsing import Item, Record
from ingest.platforms.instagram import exports

DAY = date(2026, 9, 1)
IG = {"platform": "instagram"}
OWN = "17841405309211844"
ANNA = "17841400000000001"
LA = "America/Los_Angeles"


def run(parser: Any, name: str, account: str | None = None) -> list[Item]:
    path = FIXTURES / "instagram" / name
    return list(parser(path, context("instagram", name, account=account)))


def rows(records: dict[str, list[Record]], entity: str) -> list[tuple[int, dict[str, Any]]]:
    return [(r.line, r.values) for r in records.get(entity, [])]


def at(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


CASES = [
    pytest.param(
        exports.parse_user,
        "user.json",
        None,
        {
            "accounts": [
                (
                    1,
                    {
                        **IG,
                        "account_id": OWN,
                        "handle": "bluebottle",
                        "display_name": "Blue Bottle Coffee",
                    },
                )
            ],
            "account_daily": [
                (
                    1,
                    {
                        **IG,
                        "account_id": OWN,
                        "day": DAY,
                        "followers": 267793,
                        "following": 1204,
                        "posts_count": 1205,
                        "followers_hidden": False,
                        "followers_rounded": False,
                        "day_timezone": "UTC",
                    },
                )
            ],
        },
        [],
        ["user.json: fields not used: has_profile_pic"],
        id="user",
    ),
    pytest.param(
        exports.parse_business_discovery,
        "business_discovery.json",
        None,
        {
            "accounts": [
                (
                    1,
                    {
                        **IG,
                        "account_id": "17841401441775531",
                        "handle": "bluebottle",
                        "display_name": "Blue Bottle",
                    },
                )
            ],
            # follows_count was not asked for: following is left out, not NULL
            "account_daily": [
                (
                    1,
                    {
                        **IG,
                        "account_id": "17841401441775531",
                        "day": DAY,
                        "followers": 267793,
                        "posts_count": 1205,
                        "followers_hidden": False,
                        "followers_rounded": False,
                        "day_timezone": "UTC",
                    },
                )
            ],
            "posts": [
                (
                    1,
                    {
                        **IG,
                        "post_id": "17858843269216389",
                        "account_id": "17841401441775531",
                        "published_at": at(2026, 8, 30, 21, 15, 7),
                        "caption": "New beans from Huila",
                        "media_type": "image",
                        "permalink": "https://www.instagram.com/p/DAbc123xyz/",
                    },
                ),
                (
                    2,
                    {
                        **IG,
                        "post_id": "17895695668004550",
                        "account_id": "17841401441775531",
                        "published_at": at(2026, 8, 29, 7, 56, 32),
                        "caption": None,
                        "media_type": "reel",
                        "permalink": "https://www.instagram.com/reel/DXyz789abc/",
                    },
                ),
            ],
            "post_daily": [
                (
                    1,
                    {
                        **IG,
                        "post_id": "17858843269216389",
                        "account_id": "17841401441775531",
                        "day": DAY,
                        "published_at": at(2026, 8, 30, 21, 15, 7),
                        "likes": 1520,
                        "comments": 33,
                        "likes_hidden": False,
                    },
                ),
                # like_count omitted (hidden): NULL and flagged; comments really are 0
                (
                    2,
                    {
                        **IG,
                        "post_id": "17895695668004550",
                        "account_id": "17841401441775531",
                        "day": DAY,
                        "published_at": at(2026, 8, 29, 7, 56, 32),
                        "likes": None,
                        "comments": 0,
                        "likes_hidden": True,
                    },
                ),
            ],
        },
        [],
        [],
        id="business_discovery",
    ),
    pytest.param(
        exports.parse_media_list,
        "media_list.json",
        None,
        {
            "posts": [
                (
                    1,
                    {
                        **IG,
                        "post_id": "18031234567890123",
                        "account_id": ANNA,
                        "published_at": at(2026, 8, 31, 18, 2, 11),
                        "caption": "Sunday ride \U0001f6b2",
                        "media_type": "carousel",
                        "permalink": "https://www.instagram.com/p/C1aaaaaaaaa/",
                    },
                ),
                (
                    2,
                    {
                        **IG,
                        "post_id": "18031234567890124",
                        "account_id": ANNA,
                        "published_at": at(2026, 8, 31, 23, 30),
                        "caption": "Downhill",
                        "media_type": "reel",
                        "permalink": "https://www.instagram.com/reel/C1bbbbbbbbb/",
                    },
                ),
                (
                    3,
                    {
                        **IG,
                        "post_id": "18031234567890125",
                        "account_id": ANNA,
                        "published_at": at(2026, 9, 1, 5, 0),
                        "caption": None,
                        "media_type": "image",
                        "permalink": "https://www.instagram.com/p/C1ccccccccc/",
                    },
                ),
            ],
            "post_daily": [
                (
                    1,
                    {
                        **IG,
                        "post_id": "18031234567890123",
                        "account_id": ANNA,
                        "day": DAY,
                        "published_at": at(2026, 8, 31, 18, 2, 11),
                        "likes": 212,
                        "comments": 14,
                        "likes_hidden": False,
                    },
                ),
                # inline insights; like_count 0 is a real zero
                (
                    2,
                    {
                        **IG,
                        "post_id": "18031234567890124",
                        "account_id": ANNA,
                        "day": DAY,
                        "published_at": at(2026, 8, 31, 23, 30),
                        "views": 5400,
                        "reach": 3900,
                        "saves": 41,
                        "likes": 0,
                        "comments": 3,
                        "likes_hidden": False,
                    },
                ),
                # empty insights data: unknown, not zero
                (
                    3,
                    {
                        **IG,
                        "post_id": "18031234567890125",
                        "account_id": ANNA,
                        "day": DAY,
                        "published_at": at(2026, 9, 1, 5, 0),
                        "views": None,
                        "reach": None,
                        "saves": None,
                        "shares": None,
                        "likes": 7,
                        "comments": 1,
                        "likes_hidden": False,
                    },
                ),
            ],
            "accounts": [(1, {**IG, "account_id": ANNA, "handle": "rider.anna"})],
        },
        [(4, "timestamp")],
        [
            "media_list.json: fields not used: boost_eligibility_info",
            "media_list.json: insight metrics not used: ig_reels_avg_watch_time",
        ],
        id="media_list",
    ),
    pytest.param(
        exports.parse_media_list,
        "media_list_no_owner.json",
        "17841400000000009",
        {
            "posts": [
                (
                    1,
                    {
                        **IG,
                        "post_id": "18100000000000001",
                        "account_id": "17841400000000009",
                        "published_at": at(2026, 8, 30, 10, 0),
                        "caption": "Studio day",
                        "media_type": "image",
                        "permalink": "https://www.instagram.com/p/C2eeeeeeeee/",
                    },
                )
            ],
            "post_daily": [
                (
                    1,
                    {
                        **IG,
                        "post_id": "18100000000000001",
                        "account_id": "17841400000000009",
                        "day": DAY,
                        "published_at": at(2026, 8, 30, 10, 0),
                        "likes": 5,
                        "comments": 2,
                        "likes_hidden": False,
                    },
                )
            ],
        },
        [],
        [],
        id="media_list_account_from_user",
    ),
    pytest.param(
        exports.parse_media_insights,
        "media_insights.json",
        ANNA,
        {
            "post_daily": [
                (
                    1,
                    {
                        **IG,
                        "post_id": "18031234567890124",
                        "account_id": ANNA,
                        "day": DAY,
                        "views": 12840,
                        "reach": 9120,
                        "saves": 310,
                        "shares": 0,
                        "likes": 1540,
                        "comments": 41,
                    },
                )
            ]
        },
        [],
        ["media_insights.json: insight metrics not used: total_interactions"],
        id="media_insights",
    ),
    pytest.param(
        exports.parse_media_insights,
        "media_insights_empty.json",
        ANNA,
        {},
        [],
        ["media_insights_empty.json: no insights available (empty data); nothing recorded"],
        id="media_insights_empty",
    ),
    # end_time T07:00+0000 closes a Pacific (PDT) day: 2026-08-21T07:00Z is the end of 08-20
    pytest.param(
        exports.parse_user_insights,
        "user_insights_time_series.json",
        None,
        {
            "account_daily": [
                (
                    1,
                    {
                        **IG,
                        "account_id": OWN,
                        "day": date(2026, 8, 20),
                        "day_timezone": LA,
                        "daily_views": 1830,
                        "followers_gained": 12,
                    },
                ),
                (
                    1,
                    {
                        **IG,
                        "account_id": OWN,
                        "day": date(2026, 8, 21),
                        "day_timezone": LA,
                        "daily_views": 2104,
                        "followers_gained": 9,
                    },
                ),
            ]
        },
        [],
        ["user_insights_time_series.json: insight metrics not used: reach"],
        id="user_insights_time_series",
    ),
    # in winter (PST) the day ends at T08:00+0000
    pytest.param(
        exports.parse_user_insights,
        "user_insights_winter.json",
        None,
        {
            "account_daily": [
                (
                    1,
                    {
                        **IG,
                        "account_id": OWN,
                        "day": date(2026, 1, 10),
                        "day_timezone": LA,
                        "daily_views": 640,
                    },
                )
            ]
        },
        [],
        [],
        id="user_insights_winter",
    ),
    # follows_and_unfollows outranks follower_count; total_value is the pull's day
    pytest.param(
        exports.parse_user_insights,
        "user_insights_total_value.json",
        None,
        {
            "account_daily": [
                (
                    1,
                    {
                        **IG,
                        "account_id": OWN,
                        "day": DAY,
                        "daily_likes": 388,
                        "daily_shares": 41,
                        "followers_gained": 57,
                        "followers_lost": 12,
                    },
                )
            ]
        },
        [],
        [
            "user_insights_total_value.json: insight metrics not used: "
            "follower_count, follower_demographics"
        ],
        id="user_insights_total_value",
    ),
]


@pytest.mark.parametrize(("parser", "name", "account", "expected", "rejects", "notes"), CASES)
def test_graph_responses(
    parser: Any,
    name: str,
    account: str | None,
    expected: dict[str, list[tuple[int, dict[str, Any]]]],
    rejects: list[tuple[int, str]],
    notes: list[str],
) -> None:
    records, got_rejects, got_notes = split(run(parser, name, account))
    assert set(records) == set(expected)
    for entity, want in expected.items():
        assert rows(records, entity) == want, entity
    assert [(r.line, r.field) for r in got_rejects] == rejects
    assert [n.message for n in got_notes] == notes


def test_timestamps_with_compact_offset_are_utc() -> None:
    records, _, _ = split(run(exports.parse_business_discovery, "business_discovery.json"))
    published = records["posts"][1].values["published_at"]
    assert published == at(2026, 8, 29, 7, 56, 32)
    assert published.utcoffset() is not None and published.utcoffset().total_seconds() == 0


def test_ids_stay_exact_strings(tmp_path: Any) -> None:
    records, _, _ = split(run(exports.parse_business_discovery, "business_discovery.json"))
    assert [r.values["post_id"] for r in records["posts"]] == [
        "17858843269216389",
        "17895695668004550",
    ]
    # an id sent as a JSON number keeps every digit (a float would end in ...6388)
    path = tmp_path / "user.json"
    path.write_text('{"id":17858843269216389,"media_count":2}', encoding="utf-8")
    records, _, _ = split(list(exports.parse_user(path, context("instagram", "user.json"))))
    assert records["accounts"][0].values["account_id"] == "17858843269216389"


@pytest.mark.parametrize(
    ("parser", "name", "match"),
    [
        (exports.parse_media_list, "media_list_no_owner.json", "--account"),
        (exports.parse_media_insights, "media_insights.json", "--account"),
    ],
)
def test_account_required_when_response_does_not_name_it(
    parser: Any, name: str, match: str
) -> None:
    with pytest.raises(ParseError, match=match) as info:
        run(parser, name)
    assert info.value.source == name


@pytest.mark.parametrize(
    ("parser", "body", "problem"),
    [
        (
            exports.parse_user,
            '{"error":{"message":"(#4) Application request limit reached",'
            '"type":"OAuthException","code":4}}',
            "(#4) Application request limit reached",
        ),
        (exports.parse_user, '{"username":"nobody","followers_count":3}', "no usable id"),
        (exports.parse_media_list, '{"data":{"id":"1"}}', "expected a list"),
        (exports.parse_business_discovery, '{"id":"1","followers_count":3}', "expected an object"),
        (exports.parse_user, "[1, 2]", "expected a JSON object"),
    ],
)
def test_unusable_responses_raise(tmp_path: Any, parser: Any, body: str, problem: str) -> None:
    path = tmp_path / "response.json"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ParseError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        list(parser(path, context("instagram", "response.json")))


def test_bad_count_rejects_the_account_record(tmp_path: Any) -> None:
    path = tmp_path / "user.json"
    path.write_text('{"id":"17841400000000003","followers_count":-4}', encoding="utf-8")
    records, rejects, _ = split(list(exports.parse_user(path, context("instagram", "user.json"))))
    assert records == {}
    assert [(r.line, r.field) for r in rejects] == [(1, "followers_count")]


def test_media_insight_with_foreign_id_is_rejected(tmp_path: Any) -> None:
    path = tmp_path / "insights.json"
    path.write_text(
        '{"data":[{"name":"reach","period":"lifetime","values":[{"value":3}],"id":"reach"},'
        '{"name":"reach","period":"lifetime","values":[{"value":"x"}],'
        '"id":"18000000000000001/insights/reach/lifetime"}]}',
        encoding="utf-8",
    )
    items = list(exports.parse_media_insights(path, context("instagram", "i.json", account="1")))
    records, rejects, _ = split(items)
    assert records == {}
    assert [(r.line, r.field) for r in rejects] == [(1, "id"), (2, "reach")]
