"""TikTok Research and Display API v2 responses -> canonical rows."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import FIXTURES, context

from ingest.errors import ParseError
from ingest.parsing import Item, Note, Record, Reject
from ingest.platforms.tiktok import exports

DAY = date(2026, 9, 1)


def ts(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def flat(items: list[Item]) -> list[tuple[Any, ...]]:
    """Every item as a comparable tuple, in the order the parser yielded it."""
    out: list[tuple[Any, ...]] = []
    for item in items:
        if isinstance(item, Record):
            out.append((item.entity, item.line, item.values))
        elif isinstance(item, Reject):
            out.append(("reject", item.line, item.field))
        elif isinstance(item, Note):
            out.append(("note", item.message))
    return out


def account(account_id: str, display_name: str) -> dict[str, Any]:
    return {
        "platform": "tiktok",
        "account_id": account_id,
        "handle": account_id,
        "display_name": display_name,
    }


def post(post_id: str, account_id: str, **values: Any) -> dict[str, Any]:
    keys = {"platform": "tiktok", "post_id": post_id, "account_id": account_id}
    return {**keys, "media_type": "video", **values}


def post_day(post_id: str, account_id: str, **values: Any) -> dict[str, Any]:
    keys = {"platform": "tiktok", "post_id": post_id, "account_id": account_id}
    return {**keys, "day": DAY, **values}


JOE = "joe123456"
ANA = "cocina_ana"
ID_1, ID_2 = "7213456789012345678", "7213456789012345679"
JOE_URL = "https://www.tiktok.com/@joe123456/video/"
ANA_URL = "https://www.tiktok.com/@cocina_ana/video/"

CASES = [
    pytest.param(
        "research_user_info.json",
        exports.parse_research_user_info,
        JOE,
        [
            ("accounts", 1, account(JOE, "Joe at the Lake")),
            (
                "account_daily",
                1,
                {
                    "platform": "tiktok",
                    "account_id": JOE,
                    "day": DAY,
                    "day_timezone": "UTC",
                    "followers": 15230,
                    "following": 0,  # a real zero stays zero
                    "total_likes": 402118,
                    "posts_count": 96,
                },
            ),
        ],
        id="research_user_info",
    ),
    pytest.param(
        "display_user_info.json",
        exports.parse_display_user_info,
        None,
        [
            ("accounts", 1, account(ANA, "Cocina con Ana")),
            (
                "account_daily",
                1,
                {
                    "platform": "tiktok",
                    "account_id": ANA,
                    "day": DAY,
                    "day_timezone": "UTC",
                    "followers": 48210,
                    "following": 312,
                    "total_likes": 1204331,
                    "posts_count": 187,
                },
            ),
        ],
        id="display_user_info",
    ),
    pytest.param(
        "research_video_query.json",
        exports.parse_research_video_query,
        None,
        [
            (
                "posts",
                1,
                post(
                    ID_1,
                    JOE,
                    published_at=ts(2026, 8, 20, 18, 3),
                    caption="desk setup, part 2 #wfh",
                    duration_seconds=31,
                    permalink=JOE_URL + ID_1,
                ),
            ),
            (
                "post_daily",
                1,
                post_day(
                    ID_1,
                    JOE,
                    published_at=ts(2026, 8, 20, 18, 3),
                    views=12400,
                    likes=980,
                    comments=41,
                    shares=17,
                    saves=64,
                ),
            ),
            (
                "posts",
                2,
                post(
                    ID_2,
                    JOE,
                    published_at=ts(2026, 8, 25, 7, 30),
                    caption=None,
                    duration_seconds=15,
                    permalink=JOE_URL + ID_2,
                ),
            ),
            (
                "post_daily",
                2,
                post_day(
                    ID_2,
                    JOE,
                    published_at=ts(2026, 8, 25, 7, 30),
                    views=5300,
                    likes=410,
                    comments=0,
                    shares=3,
                    saves=0,
                ),
            ),
            ("reject", 3, "create_time"),
        ],
        id="research_video_query",
    ),
    pytest.param(
        "display_video_list.json",
        exports.parse_display_video_list,
        ANA,
        [
            (
                "posts",
                1,
                post(
                    "7299876543210987654",
                    ANA,
                    published_at=ts(2026, 8, 30, 21, 15, 30),
                    caption="Receta rápida: tortilla en 60 s",
                    duration_seconds=58,
                    permalink=ANA_URL + "7299876543210987654",
                ),
            ),
            (
                "post_daily",
                1,
                post_day(
                    "7299876543210987654",
                    ANA,
                    published_at=ts(2026, 8, 30, 21, 15, 30),
                    views=8800,
                    likes=720,
                    comments=0,
                    shares=12,
                ),
            ),
            (
                "posts",
                2,
                post(
                    "7299876543210980001",
                    ANA,
                    # the page's cursor (ms) is not this video's time
                    published_at=ts(2026, 8, 28, 12),
                    caption="Pan sin horno",  # no description: the title stands in
                    duration_seconds=44,
                    permalink=ANA_URL + "7299876543210980001",
                ),
            ),
            (
                "post_daily",
                2,
                post_day(
                    "7299876543210980001",
                    ANA,
                    published_at=ts(2026, 8, 28, 12),
                    views=3100,
                    likes=None,  # null in the response: NULL, never 0
                    comments=19,
                    shares=4,
                ),
            ),
        ],
        id="display_video_list",
    ),
]


@pytest.mark.parametrize(("name", "parse", "account_id", "expected"), CASES)
def test_api_responses_give_exact_rows(name, parse, account_id, expected):
    ctx = context("tiktok", name, account=account_id, day=DAY)
    assert flat(list(parse(FIXTURES / "tiktok" / name, ctx))) == expected


def test_research_ids_above_2_53_stay_exact_strings():
    # the fixture's first two ids are one apart and collapse to one value as floats
    assert float(ID_1) == float(ID_2)
    ctx = context("tiktok", account=None, day=DAY)
    items = exports.parse_research_video_query(
        FIXTURES / "tiktok" / "research_video_query.json", ctx
    )
    ids = [i.values["post_id"] for i in items if isinstance(i, Record) and i.entity == "posts"]
    assert ids == [ID_1, ID_2]
    assert all(type(i) is str for i in ids)


def test_research_favourites_count_is_saves(tmp_path):
    video = {"id": 7213456789012345678, "username": JOE, "favourites_count": 7}
    path = write(tmp_path, {"data": {"videos": [video]}, "error": {"code": "ok"}})
    items = list(exports.parse_research_video_query(path, context("tiktok", day=DAY)))
    assert items[1].values == post_day(ID_1, JOE, saves=7)


@pytest.mark.parametrize(
    ("bad_id", "reason"),
    [
        (7.213456789012346e18, "expected an integer video id"),
        ("7213456789O12345678", "expected an integer video id"),
        (None, "required value is missing"),
    ],
)
def test_video_ids_that_lost_digits_are_rejected(tmp_path, bad_id, reason):
    path = write(tmp_path, {"data": {"videos": [{"id": bad_id, "username": JOE}]}})
    (reject,) = exports.parse_research_video_query(path, context("tiktok", day=DAY))
    assert isinstance(reject, Reject)
    assert (reject.line, reject.field) == (1, "id")
    assert reason in reject.reason


def test_fields_not_requested_are_left_out_but_nulls_are_kept(tmp_path):
    data = {"display_name": "Joe", "follower_count": None, "video_count": 3}
    path = write(tmp_path, {"data": data, "error": {"code": "ok", "message": ""}})
    _, daily = exports.parse_research_user_info(path, context("tiktok", account=JOE, day=DAY))
    assert daily.values == {
        "platform": "tiktok",
        "account_id": JOE,
        "day": DAY,
        "day_timezone": "UTC",
        "followers": None,
        "posts_count": 3,
    }


def test_error_code_other_than_ok_is_a_parse_error():
    path = FIXTURES / "tiktok" / "research_user_info_error.json"
    with pytest.raises(ParseError) as caught:
        list(exports.parse_research_user_info(path, context("tiktok", "info.json", account=JOE)))
    assert caught.value.field == "error.code"
    assert "info.json" in str(caught.value)
    assert "'access_token_invalid'" in str(caught.value)
    assert "The access token is invalid or not found in the request." in str(caught.value)


def test_oauth_error_shape_is_a_parse_error(tmp_path):
    path = write(tmp_path, {"error": "invalid_grant", "error_description": "code expired"})
    with pytest.raises(ParseError, match="'invalid_grant': code expired"):
        list(exports.parse_display_video_list(path, context("tiktok", account=ANA)))


@pytest.mark.parametrize(
    "parse", [exports.parse_research_user_info, exports.parse_display_video_list]
)
def test_responses_without_their_user_need_an_account(parse):
    path = FIXTURES / "tiktok" / "display_video_list.json"
    with pytest.raises(ParseError, match="does not name its user"):
        list(parse(path, context("tiktok", account=None)))


def test_malformed_video_entry_is_rejected_with_its_index(tmp_path):
    path = write(tmp_path, {"data": {"videos": [{"id": "1", "username": JOE}, "oops"]}})
    items = flat(list(exports.parse_research_video_query(path, context("tiktok", day=DAY))))
    assert [i[:2] for i in items] == [("posts", 1), ("post_daily", 1), ("reject", 2)]


def write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "response.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path
