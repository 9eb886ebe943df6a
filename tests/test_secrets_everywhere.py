"""A token in a file name or a path reaches no output: XComs, logs, manifests, failure log, tables.

Pages saved under their request URL carry ``access_token=`` in their names, and a creators
mapping can sit in a folder named after a query. Each test puts a token-shaped value exactly
there, runs the real code path, then searches everything it wrote or said for the token.
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from ingest import runs
from ingest.config import Settings
from tests.conftest import FIXTURES

DAY = date(2026, 11, 20)
TOKEN = "EAAGm0PX4ZCpsBAKqT9zTokenInAFileName0123456789"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING", "INGEST_INBOX"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")


def files_holding(root: Path, secret: str) -> list[str]:
    """Every file below ``root`` whose bytes, or whose name, hold ``secret``."""
    hits = []
    for path in root.rglob("*"):
        if secret in str(path.relative_to(root)):
            hits.append(f"name: {path}")
        elif path.is_file() and secret.encode() in path.read_bytes():
            hits.append(f"bytes: {path}")
    return hits


def tables_holding(warehouse: Path, secret: str) -> list[str]:
    """Every table of the warehouse with a value that holds ``secret``."""
    hits = []
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_type = 'BASE TABLE'"
        ).fetchall()
        assert len(tables) > 10
        for schema, name in tables:
            rows = conn.execute(f'select * from "{schema}"."{name}"').fetchall()
            if secret in repr(rows):
                hits.append(f"{schema}.{name}")
    finally:
        conn.close()
    return hits


def test_a_token_in_an_inbox_file_name_reaches_no_output(settings, tmp_path, caplog):
    inbox = tmp_path / "inbox"
    folder = inbox / "instagram" / DAY.isoformat()
    folder.mkdir(parents=True)
    # pages saved under their request URLs: one loads, one needs an account folder, one is
    # of no known format
    shutil.copy(FIXTURES / "instagram" / "user.json", folder / f"me?fields=x&access_token={TOKEN}")
    shutil.copy(
        FIXTURES / "instagram" / "dyi_posts_italian.json",
        folder / f"insights?access_token={TOKEN}.json",
    )
    (folder / f"other?access_token={TOKEN}.json").write_text('{"unknown": true}')
    caplog.set_level(logging.DEBUG)

    staged = runs.stage_platform_day("instagram", DAY, settings, inbox=inbox)
    xcom = json.dumps(staged.to_dict())
    assert staged.rejections and staged.failures and staged.folders, xcom
    summary = runs.run_day(DAY, settings, platforms=("instagram",), inbox=inbox)
    assert not summary.ok
    failure = RuntimeError(str(summary))
    log_file = runs.record_failure(
        settings, dag_id="d", task_id="check_day", run_id="r", try_number=1, error=failure
    )

    said = {
        "staged XCom": xcom,
        "summary": json.dumps(summary.to_dict()) + str(summary),
        "log records": "\n".join(r.getMessage() for r in caplog.records),
        "formatted log": caplog.text,
    }
    leaks = [where for where, text in said.items() if TOKEN in text]
    assert "***" in xcom
    assert not leaks, leaks
    assert TOKEN not in log_file.read_text()
    for root in (settings.landing, settings.staging, log_file.parent):
        assert not files_holding(root, TOKEN), files_holding(root, TOKEN)
    assert not tables_holding(settings.warehouse, TOKEN)


def test_a_token_in_the_creators_path_reaches_no_table_or_log(settings, tmp_path, caplog):
    from ingest.creators import load_mapping

    folder = tmp_path / f"export?access_token={TOKEN}"
    folder.mkdir()
    mapping = folder / "creators.csv"
    mapping.write_text("creator_id,platform,account_id,handle\nc1,youtube,UCx,\nc2,nowhere,x,\n")
    caplog.set_level(logging.DEBUG)
    result = load_mapping(mapping, settings)
    assert result.status == "published", result.message
    shown = json.dumps(result.__dict__, default=str)
    assert TOKEN not in shown
    assert TOKEN not in caplog.text
    assert not tables_holding(settings.warehouse, TOKEN)
    bi = settings.warehouse.parent
    assert not files_holding(bi, TOKEN)


def test_records_of_every_package_module_are_masked_before_any_handler(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("ingest.runs", "ingest.pipeline", "ingest.some.new.module"):
        logging.getLogger(name).warning("asked %s", f"/v1/me?access_token={TOKEN}")
    assert caplog.records
    assert TOKEN not in caplog.text
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_compose_requires_a_fernet_key():
    compose = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
    env = compose["x-airflow"]["environment"]
    fernet = env["AIRFLOW__CORE__FERNET_KEY"]
    # ${VAR:?message} stops `docker compose up` when the variable is unset or empty
    assert fernet.startswith("${AIRFLOW_FERNET_KEY:?"), fernet
    makefile = (ROOT / "Makefile").read_text()
    assert "fernet-key:" in makefile


def test_a_token_in_an_archive_member_name_reaches_no_message_or_table(settings, tmp_path):
    import zipfile

    from ingest.pipeline import load_files

    member = f"past_instagram_insights/posts?access_token={TOKEN}/posts.json"
    path = tmp_path / "instagram-export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, '{"organic_insights_posts": [{')
    [result] = load_files([path], settings, platform="instagram", account="17841")
    assert result.status == "rejected", result
    # the member is named, its token masked (the mask takes the rest of the query's path too)
    assert "instagram-export.zip!past_instagram_insights/posts?access_token=***" in (
        result.message or ""
    )
    assert TOKEN not in json.dumps(result.__dict__, default=str)
    assert not tables_holding(settings.warehouse, TOKEN)
