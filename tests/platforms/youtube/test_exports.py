"""YouTube Data API and Studio export parsers: exact canonical rows for each quirk."""

from __future__ import annotations

import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ingest.errors import ParseError, UnknownFormatError
from ingest.platforms import registry
from ingest.platforms.youtube.exports import (
    parse_channels_list,
    parse_studio_zip,
    parse_videos_list,
    studio_day,
)
from tests.conftest import FIXTURES, context, split

YT = FIXTURES / "youtube"
STUDIO = YT / "Content 2026-08-04_2026-08-31 Rounded Micro.zip"
DAY = date(2026, 9, 1)


def parse(parser, name: str, **kwargs):
    path = YT / name
    return split(list(parser(path, context("youtube", name, **kwargs))))


def test_channels_list_counts_are_strings_and_rounding_is_flagged():
    records, rejects, _ = parse(parse_channels_list, "channels_list.json")
    assert rejects == []
    daily = {r.values["account_id"]: r.values for r in records["account_daily"]}
    assert daily["UCplainSmallChannel000001"] == {
        "platform": "youtube",
        "account_id": "UCplainSmallChannel000001",
        "day": DAY,
        "followers": 987,
        "followers_hidden": False,
        "followers_rounded": False,
        "posts_count": 41,
        "total_views": 98765,
        "day_timezone": "UTC",
    }
    rounded = daily["UCroundedMicroChannel0002"]
    assert (rounded["followers"], rounded["followers_rounded"]) == (42300, True)
    assert rounded["total_views"] == 12345678901


def test_hidden_subscriber_count_is_null_and_flagged_not_zero():
    records, _, _ = parse(parse_channels_list, "channels_list.json")
    hidden = next(
        r.values for r in records["account_daily"] if r.values["account_id"].startswith("UChidden")
    )
    assert hidden["followers"] is None
    assert hidden["followers_hidden"] is True
    assert hidden["followers_rounded"] is False


def test_channel_without_statistics_gives_account_but_no_day():
    records, _, _ = parse(parse_channels_list, "channels_list.json")
    accounts = {r.values["account_id"]: r.values for r in records["accounts"]}
    assert accounts["UCnoStatisticsChannel004"]["handle"] == "@nostats"
    assert accounts["UCnoStatisticsChannel004"]["created_at"] == datetime(
        2022, 2, 2, 2, 2, 2, tzinfo=UTC
    )
    assert "UCnoStatisticsChannel004" not in {
        r.values["account_id"] for r in records["account_daily"]
    }
    assert [r.line for r in records["accounts"]] == [1, 2, 3, 4]


def test_unusable_count_rejects_the_whole_item_with_field_and_index():
    records, rejects, _ = parse(parse_channels_list, "channels_list_bad_count.json")
    assert [r.values["account_id"] for r in records["accounts"]] == ["UCgoodChannel00000000001"]
    assert [(r.line, r.field) for r in rejects] == [
        (2, "statistics.viewCount"),
        (3, "statistics.subscriberCount"),
    ]
    assert "'ten'" in rejects[0].reason
    assert "negative" in rejects[1].reason
    assert '"id":"UCbadChannel000000000002"' in rejects[0].raw


@pytest.mark.parametrize(
    ("post_id", "likes", "comments", "likes_hidden", "duration"),
    [
        ("vidAllCount", 80, 9, False, 3723),
        ("vidNoLikes0", None, 0, True, 45),
        ("vidNoComms0", 0, None, False, 600),
    ],
)
def test_videos_list_absent_counts_are_null(post_id, likes, comments, likes_hidden, duration):
    records, rejects, _ = parse(parse_videos_list, "videos_list.json")
    assert rejects == []
    daily = {r.values["post_id"]: r.values for r in records["post_daily"]}[post_id]
    assert (daily["likes"], daily["comments"], daily["likes_hidden"]) == (
        likes,
        comments,
        likes_hidden,
    )
    post = {r.values["post_id"]: r.values for r in records["posts"]}[post_id]
    assert post["duration_seconds"] == duration
    assert post["account_id"] == "UCroundedMicroChannel0002"


def test_videos_list_timestamps_are_utc():
    records, _, _ = parse(parse_videos_list, "videos_list.json")
    first = records["posts"][0].values
    assert first["published_at"] == datetime(2026, 8, 20, 17, 45, tzinfo=UTC)
    assert first["published_at"].utcoffset().total_seconds() == 0


def test_studio_zip_skips_total_row_strips_bom_and_dates_the_window_end():
    records, _, notes = parse(parse_studio_zip, STUDIO.name, account="UCroundedMicroChannel0002")
    daily = {r.values["post_id"]: r.values for r in records["post_daily"]}
    assert "Total" not in daily
    assert set(daily) == {"vidAllCount", "vidNoLikes0", "vidSecond00"}
    assert daily["vidAllCount"] == {
        "platform": "youtube",
        "post_id": "vidAllCount",
        "account_id": "UCroundedMicroChannel0002",
        "day": date(2026, 8, 31),
        "views": 1200,
        "likes": 80,
        "comments": 9,
        "shares": 5,
    }
    # blank and em-dash cells are missing values, not zeros
    assert (daily["vidNoLikes0"]["likes"], daily["vidNoLikes0"]["shares"]) == (None, None)
    posts = {r.values["post_id"]: r.values for r in records["posts"]}
    assert posts["vidNoLikes0"]["caption"] == "Likes, hidden"
    assert posts["vidNoLikes0"]["duration_seconds"] == 45
    assert posts["vidAllCount"]["published_at"] == datetime(2026, 8, 20, tzinfo=UTC)
    # known Studio columns the model has no place for are not worth a note
    assert notes == []


@pytest.mark.parametrize(
    "source",
    [
        STUDIO.name,
        # as `ingest load` shows it: a folder holding another window is not the export's name
        f"/exports/Content 2026-01-01_2026-01-31/{STUDIO.name}",
        # as a replay of the landing zone shows it
        f"youtube/2026-09-02/{STUDIO.name}",
        f"C:\\exports\\2026-01-01_2026-01-31\\{STUDIO.name}",
    ],
)
def test_studio_window_is_read_from_the_base_name_only(source):
    ctx = context("youtube", source, account="UCroundedMicroChannel0002", day=date(2026, 9, 2))
    assert studio_day(ctx) == date(2026, 8, 31)
    records, _, _ = split(list(parse_studio_zip(STUDIO, ctx)))
    assert {r.values["day"] for r in records["post_daily"]} == {date(2026, 8, 31)}


def test_studio_zip_reports_an_unknown_column_once(tmp_path: Path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "Table data.csv",
            "Content,Views,Brand new metric\nTotal,3,1\nvidA0000000,1,1\nvidB0000000,2,0\n",
        )
    records, _, notes = split(
        list(parse_studio_zip(path, context("youtube", "export.zip", account="UCx")))
    )
    assert [n.message for n in notes] == [
        "export.zip!Table data.csv: columns not used: Brand new metric"
    ]
    assert len(records["post_daily"]) == 2


def test_studio_zip_garbled_row_is_rejected_with_its_physical_line():
    _, rejects, _ = parse(parse_studio_zip, STUDIO.name, account="UCroundedMicroChannel0002")
    assert len(rejects) == 1
    assert (rejects[0].line, rejects[0].field) == (5, "Views")
    assert rejects[0].raw.startswith("vidGarbled0,Garbled")


def test_studio_totals_are_pacific_daily_flows_and_may_be_negative():
    records, _, _ = parse(parse_studio_zip, STUDIO.name, account="UCroundedMicroChannel0002")
    flows = {r.values["day"]: r.values for r in records["account_daily"]}
    assert flows[date(2026, 8, 31)] == {
        "platform": "youtube",
        "account_id": "UCroundedMicroChannel0002",
        "day": date(2026, 8, 31),
        "day_timezone": "America/Los_Angeles",
        "daily_views": -4,
        "followers_gained": 0,
        "followers_lost": 1,
    }


def test_studio_zip_needs_an_account():
    with pytest.raises(ParseError, match="--account"):
        list(parse_studio_zip(STUDIO, context("youtube", STUDIO.name)))


def test_studio_zip_without_required_column_names_it():
    path = YT / "studio_missing_views.zip"
    with pytest.raises(ParseError, match="'Views' is missing"):
        list(parse_studio_zip(path, context("youtube", path.name, account="UCx")))


@pytest.mark.parametrize(
    ("name", "message"),
    [("channels_list_truncated.json", "invalid JSON"), ("empty.json", "empty")],
)
def test_broken_json_is_a_parse_error_naming_the_file(name, message):
    with pytest.raises(ParseError, match=message) as caught:
        list(parse_channels_list(YT / name, context("youtube", name)))
    assert str(caught.value).startswith(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("channels_list.json", "channels_list"),
        ("videos_list.json", "videos_list"),
        (STUDIO.name, "studio_zip"),
    ],
)
def test_detection_from_content(name, expected):
    fmt = registry(("youtube",)).detect(YT / name, name)
    assert (fmt.platform, fmt.name) == ("youtube", expected)


def test_detection_refuses_what_it_does_not_know(tmp_path: Path):
    other = tmp_path / "notes.json"
    other.write_text('{"hello": "world"}')
    with pytest.raises(UnknownFormatError, match="not a recognised youtube"):
        registry(("youtube",)).detect(other, "notes.json", "youtube")
