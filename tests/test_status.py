"""``ingest status`` reads a real warehouse without writing to it: loads, days per platform,
rejected files, quarantine, audit failures, tracked accounts, quota use and task failures."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ingest import accounts, runs
from ingest.config import Settings
from ingest.pipeline import load_files
from ingest.platforms.youtube.api import QuotaBudget
from ingest.platforms.youtube.pull import QUOTA_FILE
from ingest.status import status
from ingest.warehouse import writer
from tests.conftest import FIXTURES
from tests.validation.helpers import DAY, channel, write_channels

CHANNELS = [f"UCstatus{i:016d}" for i in range(3)]


def _settings(home: Path) -> Settings:
    return Settings.from_env(home / "warehouse" / "creators.duckdb")


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("INGEST_YOUTUBE_QUOTA_UNITS", raising=False)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, str]]:
    """A warehouse after one of each outcome: published, quarantined rows, rejected, blocked."""
    home = tmp_path_factory.mktemp("status")
    settings = _settings(home)
    good = write_channels(
        home / "channels.json", [channel(c, str(2000 + 3000 * i)) for i, c in enumerate(CHANNELS)]
    )
    # the count is missing while the channel does not say it is hidden: the audit blocks it
    blocked = write_channels(
        home / "blocked.json", [channel(c, None, hidden=False) for c in CHANNELS]
    )
    results = {}
    for name, path in [
        ("published", good),
        ("quarantined", FIXTURES / "youtube" / "channels_list_bad_count.json"),
        ("rejected", FIXTURES / "youtube" / "channels_list_truncated.json"),
        ("blocked", blocked),
    ]:
        [result] = load_files([path], settings, day=DAY)
        results[name] = result.status
    return settings, results


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_loaded_warehouse_is_summed_up_section_by_section(loaded):
    settings, results = loaded
    assert results == {
        "published": "published",
        "quarantined": "published",
        "rejected": "rejected",
        "blocked": "failed",
    }
    before = _digest(settings.warehouse)
    found = status(settings, limit=2)
    assert _digest(settings.warehouse) == before  # read-only: not a byte changed

    assert found.exists and not found.empty and found.schema_version
    assert found.load_counts == {"failed": 1, "published": 2, "rejected": 1}
    assert len(found.recent_loads) == 2  # the limit
    assert found.recent_loads[0]["source_file"].endswith("blocked.json")
    [youtube] = [p for p in found.platforms if p["platform"] == "youtube"]
    assert youtube["loads"] == 2 and youtube["last_day"] == DAY
    others = [p for p in found.platforms if p["platform"] != "youtube"]
    assert others and all(p["loads"] == 0 and p["last_day"] is None for p in others)
    [rejected] = found.rejected_files
    assert "channels_list_truncated.json" in rejected["message"]
    assert sum(r["quarantined_rows"] for r in found.quarantine) >= 1
    assert found.audit["blocked_loads"] == 1 and found.audit["critical_failures"] >= 1
    [blocked] = found.audit_failures
    assert "expect_column_values_to_not_be_null" in blocked["expectations"]

    text = str(found)
    for heading in (
        "Loads: 1 failed, 2 published, 1 rejected",
        "Per platform: last day published",
        f"youtube    latest day {DAY}",
        "Rejected files: 1",
        "Quarantined rows:",
        "Audit: 1 load(s) blocked",
        f"ingest validate {blocked['load_id']}",
        "Tracked accounts: 0",
    ):
        assert heading in text, (heading, text)
    data = json.loads(json.dumps(found.to_dict()))
    assert data["rejected_files"]["count"] == 1
    assert data["audit"]["latest_blocked"][0]["load_id"] == blocked["load_id"]
    assert data["platforms"][0]["last_day"] in (None, DAY.isoformat())


def test_a_missing_warehouse_is_named_and_not_created(tmp_path):
    settings = _settings(tmp_path)
    found = status(settings)
    assert not found.exists and found.empty
    assert "no warehouse at" in str(found) and "ingest demo" in str(found)
    assert json.loads(json.dumps(found.to_dict()))["exists"] is False
    assert not settings.warehouse.exists()


def test_a_new_warehouse_says_nothing_was_loaded(tmp_path):
    settings = _settings(tmp_path)
    with writer(settings):
        pass
    found = status(settings)
    assert found.exists and found.empty and found.load_counts == {}
    assert "nothing loaded yet" in str(found)
    assert [p["loads"] for p in found.platforms] == [0] * len(found.platforms)


def test_an_older_warehouse_is_read_as_it_is_and_not_migrated(tmp_path):
    settings = _settings(tmp_path)
    with writer(settings) as conn:
        conn.execute("drop table meta.tracked_accounts")
        conn.execute("delete from meta.schema_migrations where version = 'V015'")
    found = status(settings)
    assert any("meta.tracked_accounts is not in this warehouse yet" in n for n in found.notes)
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        tables = conn.execute(
            "select count(*) from information_schema.tables where table_name = 'tracked_accounts'"
        ).fetchone()
    assert tables == (0,)


def test_tracked_accounts_quota_and_task_failures_are_shown(tmp_path, monkeypatch):
    settings = _settings(tmp_path)
    accounts.add(settings, "youtube", CHANNELS[:2])
    accounts.add(settings, "instagram", ["creator_0"])
    monkeypatch.setenv("INGEST_YOUTUBE_QUOTA_UNITS", "500")
    now = datetime.now(UTC)
    budget = QuotaBudget(settings.landing / "_state" / "youtube" / QUOTA_FILE, 500, lambda: now)
    for _ in range(7):
        budget.spend()
    runs.record_failure(
        settings,
        dag_id="creator_metrics_nightly",
        task_id="pull_platform_day",
        run_id="scheduled__2026-09-01",
        try_number=2,
        error=RuntimeError("token rejected"),
    )
    found = status(settings)
    assert found.tracked_accounts["youtube"] == 2 and found.tracked_accounts["instagram"] == 1
    [quota] = found.quota
    assert (quota.platform, quota.used, quota.limit, quota.exhausted) == ("youtube", 7, 500, False)
    [failure] = found.task_failures
    assert failure["task_id"] == "pull_platform_day"
    text = str(found)
    assert "Tracked accounts: 3 (instagram 1, youtube 2" in text
    assert "youtube    7 of 500 units" in text and "493 left" in text
    assert "pull_platform_day (scheduled__2026-09-01, try 2): RuntimeError: token rejected" in text
    data = json.loads(json.dumps(found.to_dict()))
    assert data["quota"][0]["used"] == 7 and data["tracked_accounts"]["youtube"] == 2


def test_an_expiring_token_is_shown_with_how_to_renew_it(loaded, monkeypatch):
    """A token a pull recorded (here as the DAG leaves it: a note) shows with its days left."""
    from ingest import tokens
    from ingest.platforms import get

    settings, _ = loaded
    monkeypatch.setenv("INGEST_TOKEN_WARN_DAYS", "7")
    now = datetime.now(UTC)
    platform = get("instagram")
    seen = tokens.Observation(
        platform=platform.name,
        variable=platform.token_env or "",
        connection_id=platform.connection_id,
        fingerprint=tokens.fingerprint("a-token-that-must-not-show"),
        expires_at=now + timedelta(days=3, hours=1),
        never_expires=False,
        valid=True,
        source=tokens.SOURCE_DEBUG,
        checked_at=now,
    )
    notes = settings.landing / "_state" / tokens.TOKENS_DIR
    notes.mkdir(parents=True, exist_ok=True)
    note = notes / f"{platform.name}.json"
    note.write_text(json.dumps([seen.to_note()]), encoding="utf-8")
    try:
        found = status(settings)
        [token] = found.to_dict()["tokens"]
        assert token["variable"] == platform.token_env and token["warning"] is True
        assert token["days_left"] == 3
        text = str(found)
        assert "Tokens" in text and "3 day(s) left" in text and "to renew:" in text
        assert "a-token-that-must-not-show" not in text + json.dumps(found.to_dict())
    finally:
        note.unlink()
