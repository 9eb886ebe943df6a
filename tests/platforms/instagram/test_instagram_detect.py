"""Format detection: every Instagram fixture is found, and nothing else is claimed."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from tests.conftest import FIXTURES

from ingest.parsing import take_sample
from ingest.platforms import registry
from ingest.platforms.instagram import exports
from ingest.platforms.instagram.formats import FORMATS

IG_DIR = FIXTURES / "instagram"

EXPECTED = {
    "user.json": "user",
    "business_discovery.json": "business_discovery",
    "media_list.json": "media_list",
    "media_list_no_owner.json": "media_list",
    "media_insights.json": "media_insights",
    "user_insights_time_series.json": "user_insights",
    "user_insights_winter.json": "user_insights",
    "user_insights_total_value.json": "user_insights",
    "dyi_posts_case_drift.json": "dyi_export",
    "dyi_posts_italian.json": "dyi_export",
    "dyi_reels_portuguese.json": "dyi_export",
    "dyi_posts_missing.json": "dyi_export",
    "dyi_export/connections/followers_and_following/followers_1.json": "dyi_export",
    "dyi_export/connections/followers_and_following/following.json": "dyi_export",
    "suite_views.csv": "suite_csv",
    "suite_follows.csv": "suite_csv",
    "suite_reach.csv": "suite_csv",
    "suite_unknown_title.csv": "suite_csv",
}

# shapes of other platforms and lookalikes that must not pass for ours
FOREIGN = {
    "yt_channels.json": '{"kind":"youtube#channelListResponse","items":[{"id":"UC1",'
    '"statistics":{"subscriberCount":"10"}}]}',
    "tiktok_user.json": '{"data":{"user":{"follower_count":10,"following_count":2,'
    '"username":"x","id":"7"}},"error":{"code":"ok"}}',
    "tiktok_videos.json": '{"data":{"videos":[{"id":"7301","create_time":1700000000}],'
    '"cursor":1,"has_more":false}}',
    "snap_stats.json": '{"request_status":"SUCCESS","timeseries_stats":[]}',
    "graph_error.json": '{"error":{"message":"(#4) Application request limit reached",'
    '"type":"OAuthException","code":4}}',
    "fb_page.json": '{"id":"1234567890","name":"Some Page","fan_count":10}',
    "other_list.json": '{"data":[{"id":"1","name":"reach","value":3}]}',
    "fb_friends.json": '[{"title":"","string_list_data":[{"href":"https://www.facebook.com/x",'
    '"value":"x","timestamp":1}]}]',
    "tiktok_overview.csv": "Date,Video Views,Profile Views\nDecember 31,10,2\n",
    "generic.csv": 'sep=,\n"Views"\n"Date","Value"\n"2026-08-22","1"\n',
}


@pytest.mark.parametrize(("name", "fmt"), sorted(EXPECTED.items()))
def test_detects_fixture(name: str, fmt: str) -> None:
    found = registry().detect(IG_DIR / name, name)
    assert (found.platform, found.name) == ("instagram", fmt)


def test_detects_dyi_zip(tmp_path: Path) -> None:
    path = tmp_path / "instagram-cafe.lina-2026-09-01-a1b2c3.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(
            IG_DIR / "dyi_export/logged_information/past_instagram_insights/posts.json",
            "logged_information/past_instagram_insights/posts.json",
        )
    found = registry().detect(path, path.name)
    assert (found.platform, found.name) == ("instagram", "dyi_export")


@pytest.mark.parametrize(("name", "body"), sorted(FOREIGN.items()))
def test_does_not_claim_foreign_files(tmp_path: Path, name: str, body: str) -> None:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    sample = take_sample(path)
    assert [f.name for f in FORMATS if f.sniff(sample)] == []


def test_does_not_claim_a_non_instagram_zip(tmp_path: Path) -> None:
    path = tmp_path / "facebook-export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("connections/followers/who_you_follow.json", "{}")
        archive.writestr("Table data.csv", "Content,Views\n")
    sample = take_sample(path)
    assert [f.name for f in FORMATS if f.sniff(sample)] == []


def test_exactly_one_format_claims_each_fixture() -> None:
    for name in EXPECTED:
        sample = take_sample(IG_DIR / name)
        assert len([f for f in FORMATS if f.sniff(sample)]) == 1, name


def test_empty_insights_response_is_not_guessed() -> None:
    # {"data": []} could be any Graph edge: the caller must name the format
    sample = take_sample(IG_DIR / "media_insights_empty.json")
    assert [f.name for f in FORMATS if f.sniff(sample)] == []


SUITE_LOOKALIKES = {
    "plain.csv": b"Date,Primary\n2026-08-22,1\n",
    "quoted.csv": b'"Date","Primary"\n"2026-08-22","1"\n',
    "split_quotes.csv": b'"Da"te,"Pri"mary\n1,2\n',
    "padded.csv": b"  Date  ,   Primary ,x\n1,2\n",
    "fifth_line.csv": b"a\nb\nc\nd\nDate,Primary\n",
    "utf16.csv": "\ufeffDate,Primary\n1,2\n".encode("utf-16"),
    "utf16_bare.csv": "Date,Primary\n1,2\n".encode("utf-16-le"),
    "one_line.json": b'{"data":[{"Date":"x","Primary":"y"}],"n":"Date,Primary"}',
    "second_cell_first.csv": b"Primary,Date\n",
}


def _suite_sniff_as_before(sample) -> bool:  # the sniffer before its cheap first look
    lines = exports._head_lines(sample.head)
    return any(exports._cells(line)[:2] == ["Date", "Primary"] for line in lines[:4])


@pytest.mark.parametrize("name", sorted(SUITE_LOOKALIKES))
def test_the_suite_sniffer_s_first_look_rules_out_nothing_the_csv_parse_takes(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(SUITE_LOOKALIKES[name])
    sample = take_sample(path)
    assert exports.sniff_suite_csv(sample) == _suite_sniff_as_before(sample)


def test_the_suite_sniffer_judges_every_fixture_as_before() -> None:
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file():
            sample = take_sample(path)
            assert exports.sniff_suite_csv(sample) == _suite_sniff_as_before(sample), path
