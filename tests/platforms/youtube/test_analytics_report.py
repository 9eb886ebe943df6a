"""YouTube Analytics API ``reports`` (dimensions=day) -> account_daily in Pacific days."""

from __future__ import annotations

from datetime import date

import pytest

from ingest.errors import ParseError
from ingest.parsing import take_sample
from ingest.platforms import registry
from ingest.platforms.youtube.exports import parse_analytics_report
from ingest.platforms.youtube.formats import FORMATS
from tests.conftest import FIXTURES, context, split

CHANNEL = "UC_x5XG1OV2P6uZZ5FSM9Ttw"
PT = "America/Los_Angeles"


def _day(account: str, day: date, **metrics: object) -> dict[str, object]:
    return {
        "platform": "youtube",
        "account_id": account,
        "day": day,
        "day_timezone": PT,
        **metrics,
    }


def _parse(name: str, account: str | None = CHANNEL) -> tuple[list, list, list]:
    path = FIXTURES / "youtube" / name
    records, rejects, notes = split(
        list(parse_analytics_report(path, context("youtube", name, account=account)))
    )
    assert set(records) <= {"account_daily"}
    rows = [(r.line, r.values) for r in records.get("account_daily", [])]
    return rows, [(r.line, r.field, r.reason) for r in rejects], [n.message for n in notes]


def _flows(views, likes, comments, shares, gained, lost) -> dict[str, object]:
    return {
        "daily_views": views,
        "daily_likes": likes,
        "daily_comments": comments,
        "daily_shares": shares,
        "followers_gained": gained,
        "followers_lost": lost,
    }


CASES = [
    pytest.param(
        "analytics_report_day.json",
        CHANNEL,
        [
            # headers are out of the documented order: values follow names, not positions;
            # the days are Pacific dates, not shifted to UTC
            (1, _day(CHANNEL, date(2026, 8, 29), **_flows(1234, 87, 0, 5, 19, 3))),
            (2, _day(CHANNEL, date(2026, 8, 30), **_flows(987, 64, 4, 0, 11, 0))),
        ],
        [
            (3, "views", "views: expected a count, got '1.1K'"),
            (4, None, "expected a list of 9 values"),
        ],
        [
            "analytics_report_day.json: columns not used: "
            "estimatedMinutesWatched, averageViewDuration"
        ],
        id="day-report",
    ),
    pytest.param("analytics_report_empty.json", CHANNEL, [], [], [], id="rows-absent"),
    pytest.param(
        "analytics_report_channel.json",
        None,
        [
            (1, _day(CHANNEL, date(2026, 8, 31), daily_views=5021, followers_gained=30)),
            (
                2,
                _day(
                    "UCa1b2c3d4e5f6g7h8i9j0kL",
                    date(2026, 8, 31),
                    daily_views=77,
                    followers_gained=0,
                ),
            ),
        ],
        [],
        [],
        id="channel-column-names-account",
    ),
]


@pytest.mark.parametrize(("name", "account", "expected", "exp_rejects", "exp_notes"), CASES)
def test_analytics_report(name, account, expected, exp_rejects, exp_notes):
    rows, rejects, notes = _parse(name, account)
    assert rows == expected
    assert rejects == exp_rejects
    assert notes == exp_notes


@pytest.mark.parametrize(
    ("name", "account", "problem", "field"),
    [
        ("analytics_report_day.json", None, "pass --account", None),
        ("analytics_report_video.json", CHANNEL, "per-video", "video"),
        ("analytics_report_country.json", CHANNEL, "'country' is not supported", "country"),
    ],
)
def test_unusable_reports(name, account, problem, field):
    path = FIXTURES / "youtube" / name
    with pytest.raises(ParseError, match=problem) as info:
        list(parse_analytics_report(path, context("youtube", name, account=account)))
    assert info.value.field == field


@pytest.mark.parametrize(
    ("text", "problem", "field"),
    [
        (
            '{"kind":"youtubeAnalytics#resultTable","columnHeaders":[{"name":"month",'
            '"columnType":"DIMENSION"},{"name":"views","columnType":"METRIC"}],"rows":[]}',
            "'day' is missing",
            "day",
        ),
        ('{"kind":"youtubeAnalytics#resultTable","rows":[]}', "named columns", "columnHeaders"),
        (
            '{"kind":"youtubeAnalytics#resultTable","columnHeaders":[{"name":"day"}],"rows":{}}',
            "expected a list",
            "rows",
        ),
        ('{"kind":"youtube#channelListResponse"}', "not a YouTube", "kind"),
    ],
)
def test_malformed_reports(tmp_path, text, problem, field):
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(ParseError, match=problem) as info:
        list(parse_analytics_report(path, context("youtube", "r.json", account=CHANNEL)))
    assert info.value.field == field


def test_day_is_not_shifted_to_utc():
    rows, _, _ = _parse("analytics_report_day.json")
    assert [values["day"] for _, values in rows] == [date(2026, 8, 29), date(2026, 8, 30)]
    assert {values["day_timezone"] for _, values in rows} == {PT}


@pytest.mark.parametrize(
    "name",
    [
        "analytics_report_day.json",
        "analytics_report_empty.json",
        "analytics_report_channel.json",
        "analytics_report_video.json",
        "analytics_report_country.json",
    ],
)
def test_registry_detects_analytics_report(name):
    found = registry().detect(FIXTURES / "youtube" / name, name)
    assert (found.platform, found.name, found.needs_account) == (
        "youtube",
        "analytics_report",
        True,
    )


OTHER_FIXTURES = sorted(
    p for p in FIXTURES.rglob("*") if p.is_file() and not p.name.startswith("analytics_report")
)


@pytest.mark.parametrize("path", OTHER_FIXTURES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_analytics_sniffer_leaves_other_files_alone(path):
    sniff = next(f.sniff for f in FORMATS if f.name == "analytics_report")
    assert not sniff(take_sample(path))
