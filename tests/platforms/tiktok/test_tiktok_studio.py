"""TikTok Studio CSV exports (and a zip of them) -> canonical rows."""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import FIXTURES, context

from ingest.errors import ParseError
from ingest.parsing import Item, Note, Record, Reject
from ingest.platforms.tiktok import exports

JOE = "joe123456"
DAY = date(2026, 9, 1)
TIKTOK = FIXTURES / "tiktok"


def flat(items: list[Item]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for item in items:
        if isinstance(item, Record):
            out.append((item.entity, item.line, item.values))
        elif isinstance(item, Reject):
            out.append(("reject", item.line, item.field, item.raw))
        elif isinstance(item, Note):
            out.append(("note", item.message))
    return out


def daily(day: date, **values: Any) -> dict[str, Any]:
    return {"platform": "tiktok", "account_id": JOE, "day": day, **values}


def flows(day: date, views: int, likes: int, comments: int, shares: int) -> dict[str, Any]:
    return daily(
        day, daily_views=views, daily_likes=likes, daily_comments=comments, daily_shares=shares
    )


def parse(name: str, parser: Any, day: date = DAY, path: Path | None = None) -> list[Any]:
    ctx = context("tiktok", name, account=JOE, day=day)
    return flat(list(parser(path or TIKTOK / name, ctx)))


CASES = [
    pytest.param(
        "Overview.csv",
        exports.parse_studio_overview,
        DAY,
        [
            # quoted "1,204" is a count; Comments -1 is a correction, kept negative
            ("account_daily", 2, flows(date(2026, 8, 29), 1204, 310, 12, 4)),
            ("account_daily", 3, flows(date(2026, 8, 30), 987, 198, -1, 0)),
            ("account_daily", 4, flows(date(2026, 8, 31), 1530, 402, 9, 7)),
        ],
        id="overview",
    ),
    pytest.param(
        "overview_new_year.csv",
        exports.parse_studio_overview,
        date(2027, 1, 3),
        [
            ("account_daily", 2, flows(date(2026, 12, 30), 820, 95, 3, 1)),
            ("account_daily", 3, flows(date(2026, 12, 31), 1010, 120, 4, 2)),
            ("account_daily", 4, flows(date(2027, 1, 1), 1402, 160, 6, 3)),
            ("account_daily", 5, flows(date(2027, 1, 2), 700, 80, 2, 0)),
        ],
        id="overview_across_new_year",
    ),
    pytest.param(
        "overview_new_year.csv",
        exports.parse_studio_overview,
        # filed under January 1 while Studio (a zone ahead) already wrote January 2: the rows
        # stay in this window, they do not move back a year
        date(2027, 1, 1),
        [
            ("account_daily", 2, flows(date(2026, 12, 30), 820, 95, 3, 1)),
            ("account_daily", 3, flows(date(2026, 12, 31), 1010, 120, 4, 2)),
            ("account_daily", 4, flows(date(2027, 1, 1), 1402, 160, 6, 3)),
            ("account_daily", 5, flows(date(2027, 1, 2), 700, 80, 2, 0)),
        ],
        id="overview_newest_label_one_day_past_the_load_day",
    ),
    pytest.param(
        "overview_new_year.csv",
        exports.parse_studio_overview,
        # more than the lead past the anchor: the window is the one a year earlier
        date(2026, 12, 29),
        [
            ("account_daily", 2, flows(date(2025, 12, 30), 820, 95, 3, 1)),
            ("account_daily", 3, flows(date(2025, 12, 31), 1010, 120, 4, 2)),
            ("account_daily", 4, flows(date(2026, 1, 1), 1402, 160, 6, 3)),
            ("account_daily", 5, flows(date(2026, 1, 2), 700, 80, 2, 0)),
        ],
        id="overview_window_ends_after_the_anchor_and_its_lead",
    ),
    pytest.param(
        "overview_lowercase_iso.csv",
        exports.parse_studio_overview,
        DAY,
        [
            ("note", "overview_lowercase_iso.csv: columns not used: watch time"),
            ("account_daily", 2, {**flows(date(2026, 8, 30), 500, 60, 2, 1), "followers": 15010}),
            ("account_daily", 3, {**flows(date(2026, 8, 31), 620, 71, 3, 2), "followers": 15022}),
        ],
        id="overview_lowercase_iso",
    ),
    pytest.param(
        "overview_day_first.csv",
        exports.parse_studio_overview,
        DAY,
        [
            ("account_daily", 2, flows(date(2026, 8, 13), 300, 40, 1, 0)),
            ("account_daily", 3, flows(date(2026, 8, 14), 280, 35, 0, 1)),
            ("reject", 4, "Date", "32/08/2026,250,3,30,0,0"),
            ("reject", 5, "Likes", "15/08/2026,260,4,many,1,1"),
        ],
        id="overview_day_first",
    ),
    pytest.param(
        "FollowerHistory.csv",
        exports.parse_studio_follower_history,
        DAY,
        [
            ("account_daily", 2, daily(date(2026, 8, 29), followers=15002)),
            ("account_daily", 3, daily(date(2026, 8, 30), followers=None)),  # "undefined"
            ("account_daily", 4, daily(date(2026, 8, 31), followers=15010)),
        ],
        id="follower_history",
    ),
    pytest.param(
        "Viewers.csv",
        exports.parse_studio_viewers,
        DAY,
        [("note", "Viewers.csv: viewer counts have no canonical column; nothing loaded")],
        id="viewers",
    ),
]


@pytest.mark.parametrize(("name", "parser", "day", "expected"), CASES)
def test_studio_daily_exports_give_exact_rows(name, parser, day, expected):
    assert parse(name, parser, day) == expected


def post(post_id: str, link: str, caption: str, published: datetime) -> dict[str, Any]:
    keys = {"platform": "tiktok", "post_id": post_id, "account_id": JOE, "media_type": "video"}
    return {**keys, "permalink": link, "caption": caption, "published_at": published}


def post_day(post_id: str, published: datetime, **counts: Any) -> dict[str, Any]:
    keys = {"platform": "tiktok", "post_id": post_id, "account_id": JOE, "day": DAY}
    return {**keys, "published_at": published, **counts}


JOE_URL = "https://www.tiktok.com/@joe123456/video/"
ANA_URL = "https://www.tiktok.com/@cocina_ana/video/"
ID_1, ID_2, ID_ES = "7213456789012345678", "7213456789012345679", "7299876543210987654"
T_1 = datetime(2026, 8, 20, 18, 3, tzinfo=UTC)
T_2 = datetime(2026, 8, 25, 7, 30, tzinfo=UTC)
T_ES = datetime(2026, 8, 14, 19, 45, tzinfo=UTC)

CONTENT_CASES = [
    pytest.param(
        "content.csv",
        [
            ("posts", 2, post(ID_1, JOE_URL + ID_1, "Desk setup, part 2", T_1)),
            (
                "post_daily",
                2,
                post_day(ID_1, T_1, views=12400, likes=980, comments=41, shares=17, reach=9100),
            ),
            ("posts", 3, post(ID_2, JOE_URL + ID_2, "Lake day", T_2)),
            (
                "post_daily",
                3,
                # an empty Reach cell is NULL; Total comments 0 is a real zero
                post_day(ID_2, T_2, views=5300, likes=410, comments=0, shares=3, reach=None),
            ),
            (
                "reject",
                4,
                "Video link",
                "Broken link,2026-08-26 10:00:00,https://www.tiktok.com/@joe123456/photo/abc,"
                "1,1,1,1,1s,1",
            ),
        ],
        id="content",
    ),
    pytest.param(
        "content_es.csv",
        [
            ("posts", 2, post(ID_ES, ANA_URL + ID_ES, "Receta rápida", T_ES)),
            (
                "post_daily",
                2,
                post_day(ID_ES, T_ES, views=8800, likes=720, comments=0, shares=12, reach=7000),
            ),
        ],
        id="content_spanish_headers_day_first",
    ),
]


NEW_YEAR = [
    flows(date(2026, 12, 30), 820, 95, 3, 1),
    flows(date(2026, 12, 31), 1010, 120, 4, 2),
    flows(date(2027, 1, 1), 1402, 160, 6, 3),
    flows(date(2027, 1, 2), 700, 80, 2, 0),
]


@pytest.mark.parametrize(
    ("source", "filed_under"),
    [
        # the export's own date in its name wins over the day it was filed under, however late
        ("Overview 2027-01-02.csv", date(2028, 3, 1)),
        ("Overview_2026-12-04_2027-01-02.csv", date(2028, 3, 1)),
        # a folder's date is not the export's: the base name alone counts
        ("downloads/2031-05-05/Overview_2026-12-04_2027-01-02.csv", date(2027, 1, 3)),
        ("Overview.csv", date(2027, 1, 3)),
    ],
)
def test_year_less_labels_are_anchored_on_the_exports_own_date(source, filed_under):
    ctx = context("tiktok", source, account=JOE, day=filed_under)
    items = list(exports.parse_studio_overview(TIKTOK / "overview_new_year.csv", ctx))
    assert [i.values for i in items if isinstance(i, Record)] == NEW_YEAR


def test_labels_outside_the_window_in_the_name_refuse_the_file():
    ctx = context("tiktok", "Overview_2027-01-05_2027-01-09.csv", account=JOE, day=DAY)
    with pytest.raises(ParseError) as refused:
        list(exports.parse_studio_overview(TIKTOK / "overview_new_year.csv", ctx))
    message = str(refused.value)
    assert "Overview_2027-01-05_2027-01-09.csv" in message and "ambiguous" in message
    assert "2026-12-30 to 2027-01-02" in message


@pytest.mark.parametrize(("name", "expected"), CONTENT_CASES)
def test_studio_content_export_gives_exact_rows(name, expected):
    assert parse(name, exports.parse_studio_content) == expected


def test_descending_year_less_window_gets_its_years(tmp_path):
    path = write(tmp_path, "Date,Video Views\nJanuary 2,5\nJanuary 1,4\nDecember 31,3\n")
    days = [row[2]["day"] for row in parse("x.csv", exports.parse_studio_overview, path=path)]
    assert days == [date(2026, 1, 2), date(2026, 1, 1), date(2025, 12, 31)]


def test_month_first_slash_dates_are_recognised(tmp_path):
    path = write(tmp_path, "Date,Video Views\n08/13/2026,5\n08/14/2026,6\n")
    days = [row[2]["day"] for row in parse("x.csv", exports.parse_studio_overview, path=path)]
    assert days == [date(2026, 8, 13), date(2026, 8, 14)]


def test_february_29_in_an_inferred_common_year_is_rejected(tmp_path):
    path = write(tmp_path, "Date,Video Views\nFebruary 28,5\nFebruary 29,6\nMarch 1,7\n")
    rows = parse("x.csv", exports.parse_studio_overview, date(2026, 3, 2), path=path)
    assert [(r[0], r[1], r[2] if r[0] == "reject" else r[2]["day"]) for r in rows] == [
        ("account_daily", 2, date(2026, 2, 28)),
        ("reject", 3, "Date"),
        ("account_daily", 4, date(2026, 3, 1)),
    ]


@pytest.mark.parametrize(
    ("parser", "text", "column"),
    [
        (exports.parse_studio_overview, "Date,Profile Views,Likes\nAugust 31,1,2\n", "video views"),
        (exports.parse_studio_follower_history, "Followers\n12\n", "date"),
        (exports.parse_studio_content, "Video title,Total views\nhi,3\n", "video link"),
    ],
)
def test_missing_required_column_is_a_parse_error(tmp_path, parser, text, column):
    with pytest.raises(ParseError) as caught:
        parse("export.csv", parser, path=write(tmp_path, text))
    assert caught.value.field == column
    assert str(caught.value).startswith("export.csv")


def test_studio_exports_need_an_account():
    ctx = context("tiktok", "Overview.csv", account=None)
    with pytest.raises(ParseError, match="pass --account"):
        list(exports.parse_studio_overview(TIKTOK / "Overview.csv", ctx))


def test_zip_loads_each_member_by_its_header(tmp_path):
    path = tmp_path / "tiktok_export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("Overview.csv", "FollowerHistory.csv", "Viewers.csv", "content.csv"):
            archive.write(TIKTOK / name, f"export/{name}")
        archive.writestr("export/FollowerGender.csv", "Gender,Distribution\nFemale,0.51\n")
    got = parse("tiktok_export.zip", exports.parse_studio_zip, path=path)
    overview = parse("Overview.csv", exports.parse_studio_overview)
    history = parse("FollowerHistory.csv", exports.parse_studio_follower_history)
    content = parse("content.csv", exports.parse_studio_content)
    assert got == [
        *overview,
        *history,
        (
            "note",
            "tiktok_export.zip!export/Viewers.csv: viewer counts have no canonical column; "
            "nothing loaded",
        ),
        *content,
        (
            "note",
            "tiktok_export.zip!export/FollowerGender.csv: not a TikTok Studio table this "
            "pipeline loads; skipped",
        ),
    ]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    return path
