"""Write-audit-publish through the real load path: blocks, warnings, volume, revalidation."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from ingest.cli import main
from ingest.pipeline import load_files
from ingest.validation import docs_root, revalidate
from tests.validation.helpers import (
    DAY,
    channel,
    query,
    snapshot,
    video,
    write_channels,
    write_videos,
)

CHANNELS = [f"UCchannel{i:015d}" for i in range(6)]


def _publish_good_day(settings, tmp_path: Path) -> None:
    channels = write_channels(
        tmp_path / "channels.json",
        [channel(c, str(2000 + 3000 * i)) for i, c in enumerate(CHANNELS)],
    )
    videos = write_videos(
        tmp_path / "videos.json", [video(f"vid{i:08d}", c) for i, c in enumerate(CHANNELS)]
    )
    results = load_files([channels, videos], settings, day=DAY)
    assert [r.status for r in results] == ["published", "published"], results


def test_batch_breaking_a_critical_expectation_changes_nothing(settings, tmp_path, gx_session):
    _publish_good_day(settings, tmp_path)
    before = snapshot(settings)
    assert before["core.account_daily"] and before["marts.creator_tier_daily"]
    # the count is missing while the channel does not say it is hidden: NULL would pass for "hidden"
    broken = write_channels(
        tmp_path / "broken.json", [channel(c, None, hidden=False) for c in CHANNELS]
    )
    [result] = load_files([broken], settings, day=DAY)

    assert result.status == "failed"
    assert "expect_column_values_to_not_be_null(followers)" in (result.message or "")
    assert snapshot(settings) == before
    [(status, message)] = query(
        settings,
        "select status, message from meta.loads where load_id = $id",
        {"id": result.load_id},
    )
    assert status == "failed" and message.startswith("audit failed")
    failed = query(
        settings,
        "select suite, expectation, column_name, severity, observed_value from meta.validations"
        " where load_id = $id and not success",
        {"id": result.load_id},
    )
    assert failed == [
        (
            "account_daily",
            "expect_column_values_to_not_be_null",
            "followers",
            "critical",
            "6 of 6 rows unexpected; e.g. NULL, NULL, NULL, NULL, NULL (rows 1, 2, 3, 4, 5)",
        )
    ]
    passed = query(
        settings,
        "select count(*) from meta.validations where load_id = $id and success",
        {"id": result.load_id},
    )
    assert passed[0][0] > 10
    # the Data Docs show the failed audit
    index = (docs_root(settings) / "index.html").read_text()
    assert result.load_id in index
    [entry] = [
        json.loads(line)
        for line in (docs_root(settings) / "audits.jsonl").read_text().splitlines()
        if result.load_id in line and '"account_daily"' in line
    ]
    assert entry["success"] is False
    page = (docs_root(settings) / entry["page"]).read_text()
    assert "expect_column_values_to_not_be_null" in page or "values must never be null" in page


def test_a_few_bad_rows_are_quarantined_and_the_rest_published(settings, tmp_path, gx_session):
    items = [channel(c, "5000") for c in CHANNELS]
    items[1]["statistics"]["subscriberCount"] = "-40"
    items[4]["statistics"]["viewCount"] = "lots"
    path = write_channels(tmp_path / "some_bad.json", items)
    [result] = load_files([path], settings, day=DAY)

    assert result.status == "published"
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (6, 4, 2)
    lines = query(
        settings,
        "select line from quarantine.rows where load_id = $id order by line",
        {"id": result.load_id},
    )
    assert lines == [(2,), (5,)]
    loaded = query(
        settings,
        "select account_id from core.account_daily where load_id = $id order by 1",
        {"id": result.load_id},
    )
    assert [r[0] for r in loaded] == sorted(c for i, c in enumerate(CHANNELS) if i not in (1, 4))
    [(read, ok, bad)] = query(
        settings,
        "select rows_read, rows_loaded, rows_quarantined from meta.loads where load_id = $id",
        {"id": result.load_id},
    )
    assert read == ok + bad == 6


def test_warnings_are_recorded_and_the_batch_published(settings, tmp_path, gx_session):
    # more likes than views on every video: suspicious, not impossible
    items = [video(f"vid{i:08d}", c, views="10", likes="500") for i, c in enumerate(CHANNELS)]
    [result] = load_files([write_videos(tmp_path / "videos.json", items)], settings, day=DAY)
    assert result.status == "published"
    warned = query(
        settings,
        "select suite, expectation, severity from meta.validations"
        " where load_id = $id and not success",
        {"id": result.load_id},
    )
    assert warned == [("post_daily", "expect_column_pair_values_a_to_be_greater_than_b", "warning")]
    assert query(settings, "select count(*) from core.post_daily")[0][0] == len(CHANNELS)


def test_a_sudden_drop_in_volume_blocks_the_batch(settings, tmp_path, gx_session):
    # the same six channels' videos: three a channel, then one
    full = write_videos(
        tmp_path / "full.json",
        [video(f"vid{c[-4:]}{n}", c) for c in CHANNELS for n in range(3)],
    )
    # three earlier deliveries (a replay of the same bytes on the same day is none)
    for n in (3, 2, 1):
        [result] = load_files([full], settings, day=DAY - timedelta(days=n))
        assert result.status == "published"
    before = snapshot(settings)
    small = write_videos(tmp_path / "small.json", [video(f"vid{c[-4:]}0", c) for c in CHANNELS])
    [result] = load_files([small], settings, day=DAY)

    assert result.status == "failed"
    assert snapshot(settings) == before
    [(observed,)] = query(
        settings,
        "select observed_value from meta.validations"
        " where load_id = $id and not success and suite = 'batch_volume' and severity = 'critical'",
        {"id": result.load_id},
    )
    assert observed.startswith("6 rows vs median 18 of the last 3 deliveries")


def test_revalidate_reruns_a_published_audit_and_reports_a_failed_one(
    settings, tmp_path, gx_session, capsys
):
    _publish_good_day(settings, tmp_path)
    [(published,)] = query(
        settings, "select load_id from meta.loads where format = 'channels_list'"
    )
    report = revalidate(published, settings)
    assert report.passed
    suites = {r.suite for r in report.results}
    assert {"accounts", "account_daily", "batch_volume"} <= suites
    assert all(r.success for r in report.results if r.severity == "critical")

    broken = write_channels(tmp_path / "broken.json", [channel(CHANNELS[0], None)])
    [failed] = load_files([broken], settings, day=DAY)
    assert main(["validate", failed.load_id, "--warehouse", str(settings.warehouse)]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "FAIL critical account_daily" in out
    assert main(["validate", published, "--json", "--warehouse", str(settings.warehouse)]) == 0
    assert json.loads(capsys.readouterr().out)["passed"] is True


def test_cli_help_and_pipeline_import_do_not_import_great_expectations():
    code = (
        "import sys, ingest.cli, ingest.pipeline, ingest.validation;"
        "assert 'great_expectations' not in sys.modules, 'gx imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
