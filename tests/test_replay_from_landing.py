"""Everything later can be re-derived from the landing zone alone: rebuild a warehouse from it.

Several days of inputs of every platform (API pages, exports, a restatement that fills
history, rows that go to quarantine, a file that is rejected) go through the inbox, with a
creators mapping. Then the inbox, the warehouse, its BI copy and staging are deleted, the
mapping is loaded again (it is the user's file, not an input: it is never landed) and
``ingest backfill`` over the same days rebuilds everything from ``landing/``. Every table of
the warehouse and of the BI copy must come back the same, run clocks and load ids aside
(``tests.fingerprints`` says which columns and why).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest import cli
from ingest.config import Settings
from tests.conftest import FIXTURES
from tests.fingerprints import load_names, table_rows, warehouse_and_bi

PLATFORMS = {"instagram", "snapchat", "tiktok", "youtube"}

FIRST, LAST = date(2026, 9, 1), date(2026, 9, 3)
STUDIO_ACCOUNT = "UCstudio0000000000000001"
TIKTOK_ACCOUNT = "tiktok_studio_account"
# (day, platform, fixture, account subfolder, name in the inbox)
INBOX = [
    ("2026-09-01", "youtube", "youtube/channels_list_bad_count.json", "", None),
    ("2026-09-01", "youtube", "youtube/videos_list.json", "", None),
    (
        "2026-09-01",
        "youtube",
        "youtube/Content 2026-08-04_2026-08-31 Rounded Micro.zip",
        STUDIO_ACCOUNT,
        None,
    ),
    # rejected: the window in its name is not a date range
    (
        "2026-09-01",
        "youtube",
        "youtube/studio_missing_views.zip",
        STUDIO_ACCOUNT,
        "Content 2026-09-01_2026-09-31 Studio.zip",
    ),
    ("2026-09-01", "tiktok", "tiktok/research_video_query.json", "", None),
    ("2026-09-01", "instagram", "instagram/business_discovery.json", "", None),
    ("2026-09-01", "snapchat", "snapchat/public_profiles_bad_count.json", "", None),
    ("2026-09-02", "youtube", "youtube/channels_list.json", "", None),
    ("2026-09-02", "youtube", "youtube/analytics_report_day.json", STUDIO_ACCOUNT, None),
    ("2026-09-02", "tiktok", "tiktok/content.csv", TIKTOK_ACCOUNT, None),
    ("2026-09-02", "tiktok", "tiktok/Overview.csv", TIKTOK_ACCOUNT, None),
    ("2026-09-02", "instagram", "instagram/user.json", "", None),
    ("2026-09-02", "instagram", "instagram/media_list.json", "", None),
    ("2026-09-02", "snapchat", "snapchat/public_profiles.json", "", None),
    ("2026-09-03", "youtube", "youtube/videos_list.json", "", "videos_list_again.json"),
    ("2026-09-03", "tiktok", "tiktok/FollowerHistory.csv", TIKTOK_ACCOUNT, None),
    ("2026-09-03", "instagram", "instagram/user_insights_time_series.json", "", None),
    ("2026-09-03", "snapchat", "snapchat/insights_template.csv", "", None),
]
MAPPING = """creator_id,platform,account_id,handle
alpha,youtube,UCgoodChannel00000000001,
alpha,instagram,,bluebottle
alpha,tiktok,,joe123456
beta,snapchat,4e1c7a52-9d0b-4f3e-8a61-2b7d5c0e9f13,
beta,youtube,UCplainSmallChannel000001,
gamma,myspace,someone,
,youtube,UCnoStatisticsChannel004,
"""


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING", "INGEST_INBOX"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")


def fill_inbox(inbox: Path) -> None:
    for day, platform, fixture, account, name in INBOX:
        folder = inbox / platform / day / account
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / fixture, folder / (name or Path(fixture).name))


def build(
    settings: Settings, mapping: Path, inbox: Path, capsys: pytest.CaptureFixture[str]
) -> str:
    """The mapping, then every day through ``ingest backfill``; returns what was printed."""
    where = ["--warehouse", str(settings.warehouse)]
    assert cli.main(["load", str(mapping), *where]) == 0, capsys.readouterr()
    days = ["--start", FIRST.isoformat(), "--end", LAST.isoformat()]
    # exit 1: the one rejected file, reported on its day
    assert cli.main(["backfill", *days, "--inbox", str(inbox), *where]) == 1
    return capsys.readouterr().out


def test_a_warehouse_rebuilt_from_the_landing_zone_alone_has_every_table_as_before(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = tmp_path / "inbox"
    fill_inbox(inbox)
    mapping = tmp_path / "creators.csv"
    mapping.write_text(MAPPING, encoding="utf-8")
    first = build(settings, mapping, inbox, capsys)
    assert first.count("rejected") == 1, first
    before = warehouse_and_bi(settings.warehouse, settings.bi_warehouse)

    # the mix holds what the test means it to: every platform, several days, restated values
    # in history, quarantined rows (of files and of the mapping), creators, a rejection
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        platforms = conn.execute("select distinct platform from core.account_daily order by 1")
        assert [p for (p,) in platforms.fetchall()] == sorted(PLATFORMS)
        days = conn.execute("select count(distinct landing_day) from meta.loads").fetchone()
        assert days == (3,)
        statuses = conn.execute("select status, count(*) from meta.loads group by 1 order by 1")
        # every file but the rejected one, and the mapping
        assert dict(statuses.fetchall()) == {"published": len(INBOX) - 1 + 1, "rejected": 1}
        creators = conn.execute("select count(distinct creator_id) from core.creator_accounts")
        assert creators.fetchone() == (2,)
        quarantined = conn.execute(
            "select platform is null as of_mapping, count(*) from quarantine.rows group by 1"
        )
        # the mapping's unknown platform and missing creator id; several files' bad rows
        counts = dict(quarantined.fetchall())
        assert counts[True] == 2 and counts[False] >= 3, counts
    for table in (
        "core.account_daily_history",
        "quarantine.rows",
        "meta.validations",
        *(name for name in before["warehouse"] if name.startswith("marts.")),
    ):
        assert not before["warehouse"][table].startswith("0 rows"), table
    assert not before["bi"]["marts.creator_daily"].startswith("0 rows")

    # nothing but the landing zone (and the user's mapping) survives
    shutil.rmtree(inbox)
    kept = tmp_path / "first-warehouse"
    shutil.copytree(settings.warehouse.parent, kept)
    shutil.rmtree(settings.warehouse.parent)
    shutil.rmtree(settings.staging, ignore_errors=True)
    assert settings.landing.is_dir()
    again = build(settings, mapping, inbox, capsys)
    assert again.count("rejected") == 1, again

    after = warehouse_and_bi(settings.warehouse, settings.bi_warehouse)
    assert after["warehouse"].keys() == before["warehouse"].keys()
    assert after["bi"].keys() == before["bi"].keys()
    differ = {
        f"{where}:{table}": (before[where][table], after[where].get(table))
        for where in before
        for table in before[where]
        if before[where][table] != after[where].get(table)
    }
    assert not differ, show_difference(differ, kept / settings.warehouse.name, settings)


def show_difference(differ: dict[str, object], first: Path, settings: Settings) -> str:
    """The prints that differ, and the rows of the first differing warehouse table."""
    text = [repr(differ)]
    tables = [name.partition(":")[2] for name in differ if name.startswith("warehouse:")]
    if tables:
        was = set(table_rows(first, tables[0], load_names(first)))
        now = set(table_rows(settings.warehouse, tables[0], load_names(settings.warehouse)))
        text += [f"{tables[0]}, only before:", *sorted(was - now)[:5], "only after:"]
        text += sorted(now - was)[:5]
    return "\n".join(text)
