"""Replays change nothing: every table of the warehouse and of the BI copy, fingerprinted."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest import cli
from ingest.config import Settings
from tests.conftest import FIXTURES
from tests.fingerprints import columns_of

DAY = date(2026, 9, 1)
STUDIO_ACCOUNT = "UCstudio0000000000000001"
# (platform, fixture, account subfolder, name in the inbox)
INBOX = [
    ("youtube", "youtube/channels_list_bad_count.json", "", None),
    ("youtube", "youtube/videos_list.json", "", None),
    ("youtube", "youtube/Content 2026-08-04_2026-08-31 Rounded Micro.zip", STUDIO_ACCOUNT, None),
    # rejected: the window in its name is not a date range
    (
        "youtube",
        "youtube/studio_missing_views.zip",
        STUDIO_ACCOUNT,
        "Content 2026-09-01_2026-09-31 Studio.zip",
    ),
    ("tiktok", "tiktok/research_video_query.json", "", None),
    ("instagram", "instagram/business_discovery.json", "", None),
    ("snapchat", "snapchat/public_profiles_bad_count.json", "", None),
]
# columns that say when or as which copy something was published, not what: a replay that
# publishes the BI copy again names a new copy. Nothing else is excluded.
PER_RUN_COLUMNS = {"meta.bi_copy_state": {"copy_id", "published_at"}}


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING", "INGEST_INBOX"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")


def fingerprint(path: Path) -> dict[str, str]:
    """Every table of a DuckDB file, from its catalog: row count and a hash of the rows."""
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = conn.execute(
            "select schema_name, table_name from duckdb_tables()"
            " where database_name = current_database() order by all"
        ).fetchall()
        prints = {}
        for schema, table in tables:
            name = f"{schema}.{table}"
            columns = [
                f'"{c}"' for c in columns_of(conn, schema, table, PER_RUN_COLUMNS.get(name, set()))
            ]
            rows = conn.execute(
                f'select {", ".join(columns or ["1"])} from "{schema}"."{table}" order by all'
            ).fetchall()
            digest = hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
            prints[name] = f"{len(rows)} rows {digest}"
        return prints


def everything(settings: Settings) -> dict[str, dict[str, str]]:
    return {"warehouse": fingerprint(settings.warehouse), "bi": fingerprint(settings.bi_warehouse)}


def test_replaying_landed_files_changes_no_table(settings: Settings, tmp_path: Path, capsys):
    inbox = tmp_path / "inbox"
    loads: list[list[str]] = []
    for platform, fixture, account, name in INBOX:
        folder = inbox / platform / DAY.isoformat() / account
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / (name or Path(fixture).name)
        shutil.copyfile(FIXTURES / fixture, target)
        loads.append(
            [str(target), "--platform", platform, *(["--account", account] if account else [])]
        )
    run = ["run", "--date", DAY.isoformat(), "--inbox", str(inbox)]
    where = ["--warehouse", str(settings.warehouse)]

    assert cli.main([*run, *where]) == 1  # the one rejected file
    capsys.readouterr()
    before = everything(settings)
    # the day holds what the test means it to: rows of each kind, quarantine, a rejection
    for table in (
        "core.account_daily",
        "core.post_daily",
        "quarantine.rows",
        "meta.validations",
        "marts.creator_tier_daily",
    ):
        assert not before["warehouse"][table].startswith("0 rows"), table
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        statuses = conn.execute("select status, count(*) from meta.loads group by 1 order by 1")
        assert statuses.fetchall() == [("published", 6), ("rejected", 1)]

    # the day again, then every file loaded again by name: nothing changes anywhere
    assert cli.main([*run, *where]) == 0, capsys.readouterr()
    assert everything(settings) == before
    for args in loads:
        rejected = "2026-09-31" in args[0]
        code = cli.main(["load", *args, "--date", DAY.isoformat(), *where])
        assert code == (1 if rejected else 0), capsys.readouterr()
        assert everything(settings) == before, args[0]
