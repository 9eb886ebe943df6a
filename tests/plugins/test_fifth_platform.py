"""A fifth platform installs through the entry point group and runs from file to BI copy.

The platform package (``tests/fixtures/fifth_platform/mastodon_metrics``) is installed the way a
wheel would install it: a ``.dist-info`` folder with its entry point beside the package, in a
folder on ``PYTHONPATH``; the venv is not touched. The real ``ingest`` console script then runs in
a child process: the registry, format detection, the load, the marts and the BI copy, the API
pull and the metric lineage must all take the new platform with no change outside its package.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "fifth_platform"
VENV_BIN = Path(sys.executable).parent
TOKEN = "mastodonSECRETtoken0123456789"

DAYS = [
    {"date": "2026-09-01", "followers_count": 41800, "statuses_count": 310},
    {"date": "2026-09-02", "followers_count": 41950, "statuses_count": 311},
    {"date": "2026-09-03", "followers_count": 42100, "statuses_count": 312},
]


def _statuses(account_id: str, username: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{account_id}01",
            "created_at": "2026-09-02T10:15:00Z",
            "content": "Release notes",
            "url": f"https://mastodon.example/@{username}/{account_id}01",
            "favourites_count": 480,
            "replies_count": 31,
            "reblogs_count": 96,
        },
        {
            "id": f"{account_id}02",
            "created_at": "2026-09-03T08:00:00Z",
            "content": "A thread",
            "url": f"https://mastodon.example/@{username}/{account_id}02",
            "favourites_count": 220,
            "replies_count": 12,
            "reblogs_count": 40,
        },
    ]


def _document(account_id: str, username: str, as_of: str, days: list[dict[str, Any]]) -> bytes:
    body = {
        "account": {"id": account_id, "username": username, "display_name": username.title()},
        "as_of": as_of,
        "days": days,
        "statuses": _statuses(account_id, username),
    }
    return json.dumps({"mastodon_account_stats": body}).encode()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The platform package and its ``.dist-info`` (METADATA, entry_points.txt) in one folder."""
    folder = tmp_path_factory.mktemp("site")
    shutil.copytree(FIXTURE / "mastodon_metrics", folder / "mastodon_metrics")
    info = folder / "mastodon_metrics-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: mastodon-metrics\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[creator_metrics.platforms]\nmastodon = mastodon_metrics:PLATFORM\n", encoding="utf-8"
    )
    return folder


def _env(site: Path, tmp_path: Path, *paths: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INGEST_", "AIRFLOW")) and k != "PYTHONPATH"
    }
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (site, *paths))
    env["INGEST_WAREHOUSE"] = str(tmp_path / "warehouse" / "creators.duckdb")
    return env


def _ingest(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(VENV_BIN / "ingest"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"ingest {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


class _Api(BaseHTTPRequestHandler):
    """The platform's API on loopback: one stats document per account, behind a bearer token."""

    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.asked.append(self.path)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, b'{"error": "The access token is invalid"}')
            return
        if self.path != "/api/v1/accounts/grace/stats":
            self._send(404, b'{"error": "Record not found"}')
            return
        days = [{"date": "2026-09-03", "followers_count": 5200, "statuses_count": 40}]
        self._send(200, _document("2207", "grace", "2026-09-03", days))

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    _Api.asked.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_fifth_platform_runs_from_file_to_marts_and_the_bi_copy(
    site: Path, tmp_path: Path, api: str
) -> None:
    env = _env(site, tmp_path)
    warehouse = tmp_path / "warehouse" / "creators.duckdb"
    bi = warehouse.with_name("creators_bi.duckdb")
    export = tmp_path / "ada-stats.json"
    export.write_bytes(_document("1090", "ada", "2026-09-03", DAYS))
    creators = tmp_path / "creators.csv"
    creators.write_text(
        "creator_id,platform,account_id,handle\nada,mastodon,1090,ada\ngrace,mastodon,,grace\n",
        encoding="utf-8",
    )

    # the CLI knows the platform: --platform accepts it
    listed = _ingest(env, tmp_path, "pull", "--help")
    assert "mastodon" in listed.stdout

    # the load publishes it and refreshes the marts and the BI copy; --platform because
    # detection tries platforms in registry order and a built-in sniffer would claim a JSON
    # object with followers_count and a numeric id first
    loaded = _ingest(
        env, tmp_path, "load", str(creators), str(export), "--platform", "mastodon", "--json"
    )
    results = [json.loads(line) for line in loaded.stdout.splitlines()]
    stats = [r for r in results if r["source"].endswith("ada-stats.json")]
    assert [(r["platform"], r["format"], r["status"]) for r in stats] == [
        ("mastodon", "account_stats", "published")
    ]
    assert stats[0]["rows_quarantined"] == 0

    # and its API pull runs through the core's pull machinery and client base
    pull = ("pull", "--platform", "mastodon", "--date", "2026-09-03", "--accounts", "@grace")
    env["INGEST_MASTODON_TOKEN"] = TOKEN
    pulled = _ingest(env, tmp_path, *pull, "--base-url", api)
    assert "1/1 accounts complete" in pulled.stdout
    assert _Api.asked == ["/api/v1/accounts/grace/stats"]
    assert TOKEN not in pulled.stdout + pulled.stderr

    assert _rows(warehouse, "select account_id, handle from core.accounts order by 1") == [
        ("1090", "ada"),
        ("2207", "grace"),
    ]
    assert _rows(
        warehouse,
        "select account_id, day::varchar, followers from core.account_daily"
        " where platform = 'mastodon' order by 1, 2",
    ) == [
        ("1090", "2026-09-01", 41800),
        ("1090", "2026-09-02", 41950),
        ("1090", "2026-09-03", 42100),
        ("2207", "2026-09-03", 5200),
    ]
    assert _rows(warehouse, "select count(*) from core.post_daily where platform = 'mastodon'") == [
        (4,)
    ]

    for database in (warehouse, bi):
        engagement = _rows(
            database,
            "select account_id, day::varchar, followers, posts_28d, interactions_28d"
            " from marts.creator_engagement_daily where platform = 'mastodon'"
            " and day = date '2026-09-03' order by 1",
        )
        assert engagement == [
            ("1090", "2026-09-03", 42100, 2, 480 + 31 + 96 + 220 + 12 + 40),
            ("2207", "2026-09-03", 5200, 2, 480 + 31 + 96 + 220 + 12 + 40),
        ], database.name
        tiers = _rows(
            database,
            "select account_id, tier from marts.creator_tier_daily"
            " where platform = 'mastodon' and day = date '2026-09-03' order by 1",
        )
        assert tiers == [("1090", "micro"), ("2207", "micro")], database.name
        creators_daily = _rows(
            database,
            "select creator_id, platforms, total_followers from marts.creator_daily"
            " where day = date '2026-09-03' order by 1",
        )
        assert creators_daily == [("ada", "mastodon", 42100), ("grace", "mastodon", 5200)]
        accounts = _rows(
            database,
            "select creator_id, platform, account_id, followers from marts.creator_account_daily"
            " where day = date '2026-09-03' order by 1",
        )
        assert accounts == [("ada", "mastodon", "1090", 42100), ("grace", "mastodon", "2207", 5200)]

    # its metric lineage reaches the warehouse beside the built-in platforms'
    assert _rows(
        warehouse,
        "select source_field, metric from meta.metric_lineage where platform = 'mastodon'"
        " order by 1",
    ) == [("favourites_count", "likes"), ("followers_count", "followers")]


def test_a_fifth_platform_gets_its_airflow_hook(site: Path, tmp_path: Path) -> None:
    env = _env(site, tmp_path, ROOT / "plugins")
    env["AIRFLOW_HOME"] = str(tmp_path / "airflow")
    script = (
        "from creator_metrics.hooks import platform_hook\n"
        "hook = platform_hook('mastodon')\n"
        "print(hook.platform, hook.conn_id, hook.hook_name, sep='|')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "mastodon|mastodon_default|Mastodon (creator metrics)"
