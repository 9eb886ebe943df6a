"""Format detection: every TikTok fixture is claimed by its own format, and nothing else is."""

from __future__ import annotations

import codecs
import shutil
import zipfile

import pytest
from tests.conftest import FIXTURES

from ingest.parsing import Sample, take_sample
from ingest.platforms import registry
from ingest.platforms.tiktok.formats import FORMATS

TIKTOK = FIXTURES / "tiktok"

EXPECTED = [
    ("research_user_info.json", "research_user_info"),
    ("research_video_query.json", "research_video_query"),
    ("display_user_info.json", "display_user_info"),
    ("display_video_list.json", "display_video_list"),
    ("Overview.csv", "studio_overview"),
    ("overview_new_year.csv", "studio_overview"),
    ("overview_lowercase_iso.csv", "studio_overview"),
    ("overview_day_first.csv", "studio_overview"),
    ("FollowerHistory.csv", "studio_follower_history"),
    ("Viewers.csv", "studio_viewers"),
    ("content.csv", "studio_content"),
    ("content_es.csv", "studio_content"),
]


@pytest.mark.parametrize(("name", "fmt"), EXPECTED)
def test_registry_detects_each_fixture(name, fmt):
    found = registry().detect(TIKTOK / name, name)
    assert (found.platform, found.name) == ("tiktok", fmt)


@pytest.mark.parametrize(("name", "fmt"), EXPECTED)
def test_exactly_one_tiktok_sniffer_claims_each_fixture_whatever_its_name(tmp_path, name, fmt):
    # landing renames files to their hash, so content alone must decide
    landed = tmp_path / ("0f3a9c" + name[name.rindex(".") :])
    shutil.copy(TIKTOK / name, landed)
    sample = take_sample(landed)
    assert [f.name for f in FORMATS if f.sniff(sample)] == [fmt]


def test_registry_detects_a_studio_zip(tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(TIKTOK / "Overview.csv", "tiktok/Overview.csv")
        archive.write(TIKTOK / "FollowerHistory.csv", "tiktok/FollowerHistory.csv")
    found = registry().detect(path, "export.zip")
    assert (found.platform, found.name) == ("tiktok", "studio_zip")


OTHER_FILES = sorted(
    p for p in FIXTURES.rglob("*") if p.is_file() and p.relative_to(FIXTURES).parts[0] != "tiktok"
)


@pytest.mark.parametrize("path", OTHER_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_other_platforms_fixtures_are_not_claimed(path):
    sample = take_sample(path)
    assert [f.name for f in FORMATS if f.sniff(sample)] == []


def utf16(text: str) -> bytes:
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


LOOKALIKES = [
    # YouTube Data API and Studio
    Sample(
        "c.json",
        b'{"kind":"youtube#channelListResponse","items":[{"id":"UC1",'
        b'"statistics":{"subscriberCount":"15200","videoCount":"96"}}]}',
    ),
    Sample("s.zip", b"PK\x03\x04", ("Table data.csv", "Chart data.csv", "Totals.csv")),
    Sample("Totals.csv", b"Date,Views,Likes,Shares,Comments added\n2026-08-31,10,1,0,0\n"),
    # Instagram Graph API: data is a list, counts are plural
    Sample(
        "m.json",
        b'{"data":[{"id":"17895695668004550","like_count":3,"comments_count":1}],'
        b'"paging":{"cursors":{"after":"QVFI"}}}',
    ),
    Sample("u.json", b'{"followers_count":15200,"follows_count":180,"media_count":96,"id":"1784"}'),
    Sample("i.json", b'{"data":{"followers_count":1},"error":{"code":190}}'),
    Sample("r.csv", utf16('sep=,\n"Views"\n"Date","Primary"\n"2026-08-31T07:00:00","12"\n')),
    # Snapchat
    Sample(
        "p.json",
        b'{"request_status":"SUCCESS","public_profiles":[{"display_name":"Ana",'
        b'"subscriber_count":"48210"}]}',
    ),
    Sample("t.csv", b"date,account,followers,snap_views,viewers,shares\n2026-08-31,a,1,2,3,4\n"),
    # generic daily CSVs and other JSON with videos
    Sample("d.csv", b"Date,Followers\n2026-08-31,12\n"),
    Sample("v.json", b'{"videos":[{"id":1,"create_time":1}]}'),
]


@pytest.mark.parametrize("sample", LOOKALIKES, ids=lambda s: s.name)
def test_lookalikes_from_other_platforms_are_not_claimed(sample):
    assert [f.name for f in FORMATS if f.sniff(sample)] == []


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        # an empty Research page still has its search_id; an empty Display page does not
        (
            b'{"data":{"videos":[],"cursor":0,"has_more":false,"search_id":"7"},'
            b'"error":{"code":"ok"}}',
            "research_video_query",
        ),
        (
            b'{"data":{"videos":[],"cursor":1787918400000,"has_more":false},"error":{"code":"ok"}}',
            "display_video_list",
        ),
        # Research ids are bare numbers even when username was not requested
        (
            b'{"data":{"videos":[{"id":7213456789012345678,"like_count":1}]}}',
            "research_video_query",
        ),
    ],
)
def test_video_pages_are_told_apart(head, fmt):
    sample = Sample("page.json", head)
    assert [f.name for f in FORMATS if f.sniff(sample)] == [fmt]


@pytest.mark.parametrize(
    ("name", "expected"), [("FollowerHistory.csv", ["studio_follower_history"]), ("d.csv", [])]
)
def test_follower_history_without_its_difference_column_is_known_by_name(name, expected):
    sample = Sample(name, b"Date,Followers\nAugust 31,12\n")
    assert [f.name for f in FORMATS if f.sniff(sample)] == expected
