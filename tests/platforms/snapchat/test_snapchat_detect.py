"""Format detection: every Snapchat fixture is found, and nothing else is claimed."""

from __future__ import annotations

import pytest
from tests.conftest import FIXTURES

from ingest.parsing import take_sample
from ingest.platforms import registry
from ingest.platforms.snapchat.formats import FORMATS

EXPECTED = {
    "public_profiles.json": "public_profiles",
    "public_profile_bare.json": "public_profiles",
    "public_profile_wrapped.json": "public_profiles",
    "public_profiles_bad_count.json": "public_profiles",
    "stats_timeseries_day.json": "profile_stats",
    "stats_assets_day.json": "profile_stats",
    "stats_offset_days.json": "profile_stats",
    "stats_lifetime.json": "profile_stats",
    "stats_total_window.json": "profile_stats",
    "insights_template.csv": "insights_template",
    "insights_template_edited.csv": "insights_template",
}

# shapes of other platforms and of Snap's ads API that must not pass for ours
FOREIGN = {
    "ads_stats.json": '{"request_status":"SUCCESS","timeseries_stats":[{"sub_request_status":'
    '"SUCCESS","timeseries_stat":{"id":"c1","type":"CAMPAIGN","timeseries":[{"stats":'
    '{"impressions":10,"swipes":1,"shares":0}}]}}]}',
    "yt_channels.json": '{"kind":"youtube#channelListResponse","items":[]}',
    "yt_analytics.json": '{"kind":"youtubeAnalytics#resultTable","columnHeaders":[],"rows":[]}',
    "tiktok_overview.csv": "Date,Video Views,Profile Views,Likes,Comments,Shares\n"
    "December 31,10,2,3,0,0\n",
    "ig_export.csv": "sep=,\nAccount,Date,Views,Reach\nx,2026-08-31,1,1\n",
    "generic_date.csv": "date,account,followers,views\n2026-08-31,a,1,2\n",
}


@pytest.mark.parametrize(("name", "fmt"), sorted(EXPECTED.items()))
def test_registry_detects_fixture(name, fmt):
    found = registry().detect(FIXTURES / "snapchat" / name, name)
    assert (found.platform, found.name) == ("snapchat", fmt)


def test_every_fixture_is_listed():
    assert {p.name for p in (FIXTURES / "snapchat").iterdir()} - EXPECTED.keys() == {
        "public_profiles_failed.json"  # an error response: parsed only when named explicitly
    }


@pytest.mark.parametrize(("name", "text"), sorted(FOREIGN.items()))
def test_sniffers_leave_foreign_shapes_alone(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    sample = take_sample(path)
    assert [f.name for f in FORMATS if f.sniff(sample)] == []


OTHER_FIXTURES = sorted(
    p for p in FIXTURES.rglob("*") if p.is_file() and p.parent.name != "snapchat"
)


@pytest.mark.parametrize("path", OTHER_FIXTURES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_sniffers_leave_other_platforms_fixtures_alone(path):
    sample = take_sample(path)
    assert [f.name for f in FORMATS if f.sniff(sample)] == []
