"""Injection (input loads as data), secrets (never written anywhere), concurrency (one writer)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from tests.conftest import FIXTURES
from tests.drills.harness import cli_subprocess, kill_group, poll
from tests.extract.conftest import IG_TOKEN, YT_KEY
from tests.extract.fakes import FakeInstagram, FakeYouTube, Fault, Request
from tests.extract.fakes import Reply as FakeReply

HOSTILE_TEXT = [
    "Robert'); DROP TABLE core.posts; --",
    'say "hi"; DELETE FROM meta.loads WHERE 1=1; --',
    "$load_id ? ?1 :name %s {0}",
    "'' OR ''='",
    "SELECT * FROM core.accounts; ATTACH '/tmp/x.duckdb' AS x;",
    "back\\slash \\' \\\" and a tab\there",
    "COPY core.posts TO '/tmp/leak.csv'",
]
HOSTILE_ACCOUNT = "o'brien\"; DROP SCHEMA core CASCADE; --"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    env.update(extra)
    return env


def ingest(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600):
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env or clean_env(),
        timeout=timeout,
    )


def query(path: Path, sql: str, params: dict[str, object] | None = None) -> list[tuple]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return conn.execute(sql, params or {}).fetchall()
    finally:
        conn.close()


# ---- injection


def test_quotes_semicolons_and_sql_keywords_load_as_data(tmp_path: Path):
    content = tmp_path / "content.csv"
    with content.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["Video title", "Post time", "Video link", "Total views", "Total likes", "Reach"]
        )
        for n, title in enumerate(HOSTILE_TEXT):
            link = f"https://www.tiktok.com/@x/video/{7_100_000_000_000_000_000 + n}"
            writer.writerow([title, "2026-08-20 18:03:00", link, 10 + n, n, 5])
    channels = json.loads((FIXTURES / "youtube" / "channels_list.json").read_text())
    channels["items"][0]["snippet"]["title"] = HOSTILE_TEXT[0]
    channels["items"][0]["snippet"]["customUrl"] = "@" + HOSTILE_TEXT[1]
    channels_path = tmp_path / "channels.json"
    channels_path.write_text(json.dumps(channels), encoding="utf-8")
    warehouse = tmp_path / "warehouse" / "creators.duckdb"
    common = ["--date", "2026-09-01", "--warehouse", str(warehouse), "--json"]
    done = ingest("load", str(content), "--account", HOSTILE_ACCOUNT, *common, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = ingest("load", str(channels_path), *common, cwd=tmp_path)
    assert done.returncode == 0, done.stderr

    stored = query(
        warehouse,
        "select caption from core.posts where account_id = $a order by post_id",
        {"a": HOSTILE_ACCOUNT},
    )
    assert [r[0] for r in stored] == HOSTILE_TEXT
    [(title, handle)] = query(
        warehouse,
        "select display_name, handle from core.accounts where account_id = $id",
        {"id": channels["items"][0]["id"]},
    )
    assert title == HOSTILE_TEXT[0]
    assert HOSTILE_TEXT[1] in handle
    # every table is still there and meta.loads still has both loads
    assert query(warehouse, "select count(*) from meta.loads where status = 'published'") == [(2,)]
    assert query(warehouse, "select count(*) from core.posts")[0][0] >= len(HOSTILE_TEXT)
    assert not Path("/tmp/leak.csv").exists()
    bi = warehouse.with_name("creators_bi.duckdb")
    assert query(bi, "select count(*) from meta.loads") == [(2,)]


# ---- secrets


class EchoingInstagram(FakeInstagram):
    """The fake Graph API, echoing its token in every response's headers (debug proxies do)."""

    def route(self, request: Request) -> FakeReply:
        reply = super().route(request)
        reply.headers["X-Debug-Request"] = f"/v21.0/me?access_token={self.token}"
        reply.headers["X-Echo-Token"] = self.token
        return reply


def test_a_token_never_reaches_any_output_file_log_or_table(tmp_path: Path):
    """Every path that holds a token runs for real; then every output, file and table is searched.

    Tokens: the Instagram token (a real pull, echoed back by the API in error bodies, paging links
    and headers), the YouTube key (a real pull; it travels as ``key=`` in every URL and is
    echoed in error bodies), a token in saved pages' names (``ingest load`` and the inbox) and
    one in the folder of a creators mapping (``ingest load`` and ``ingest pull --creators``).
    """
    in_names = "EAAGfileNAMEtoken0123456789xyz"
    in_folder = "EAAGfolderPATHtoken0123456789xyz"
    secrets = {
        "instagram token": IG_TOKEN,
        "youtube key": YT_KEY,
        "token in file names": in_names,
        "token in a folder name": in_folder,
    }
    home = tmp_path / "home"
    warehouse = home / "warehouse" / "creators.duckdb"
    inputs = tmp_path / "inputs"
    env = clean_env(
        INGEST_INSTAGRAM_TOKEN=IG_TOKEN,
        INGEST_YOUTUBE_API_KEY=YT_KEY,
        INGEST_WAREHOUSE=str(warehouse),
        INGEST_HTTP_BASE_DELAY="0.001",
        INGEST_HTTP_MAX_ATTEMPTS="3",
        INGEST_HTTP_TIMEOUT="10",
    )
    said: dict[str, str] = {}

    def run(name: str, *args: str) -> subprocess.CompletedProcess[str]:
        done = ingest("-v", *args, cwd=tmp_path, env=env)
        said[name] = done.stdout + done.stderr
        return done

    # a creators mapping in a folder named after a query, and a file there that is no mapping
    folder = inputs / f"export?access_token={in_folder}"
    folder.mkdir(parents=True)
    creators = folder / "creators.csv"
    creators.write_text(
        "creator_id,platform,account_id,handle\n"
        "c0,instagram,,creator_0\nc1,instagram,,creator_1\nc2,instagram,,creator_2\n"
        "c3,nowhere,x,\n",
        encoding="utf-8",
    )
    not_a_mapping = folder / "accounts.csv"
    not_a_mapping.write_text("name\ncreator_0\n", encoding="utf-8")
    today = datetime.now(UTC).date().isoformat()  # the CLI pull runs on the real clock

    ig = EchoingInstagram(IG_TOKEN, media=30)  # more than a page: each page links the next
    yt = FakeYouTube(YT_KEY)
    ig_url, yt_url = ig.start(), yt.start()
    try:
        # the API echoes the token: a refusal naming it, a transient error quoting the URL
        ig.inject(
            Fault(400, {"error": {"message": f"Invalid token {IG_TOKEN}", "code": 100}}),
            when=lambda r: "creator_2" in r.query.get("fields", ""),
            times=-1,
        )
        ig.inject(
            Fault(
                500,
                {
                    "error": {
                        "message": f"retry /me?access_token={IG_TOKEN}",
                        "code": 2,
                        "is_transient": True,
                    }
                },
            ),
            when=lambda r: "creator_1" in r.query.get("fields", ""),
        )
        yt.inject(
            Fault(500, {"error": {"code": 500, "message": f"backend saw key={YT_KEY}"}}),
            when=lambda r: "channels" in r.path,
        )
        yt.inject(
            Fault(403, yt.error(403, "forbidden", f"{YT_KEY} may not read this playlist")),
            when=lambda r: "playlistItems" in r.path,
        )
        pulled_ig = run(
            "pull instagram",
            "pull",
            "--platform",
            "instagram",
            "--date",
            today,
            "--creators",
            str(creators),
            "--base-url",
            ig_url,
        )
        pulled_yt = run(
            "pull youtube",
            "pull",
            "--platform",
            "youtube",
            "--date",
            today,
            "--accounts",
            ",".join(yt.channels),
            "--base-url",
            yt_url,
        )
        refused = run(
            "pull with a broken mapping",
            "pull",
            "--platform",
            "instagram",
            "--date",
            today,
            "--creators",
            str(not_a_mapping),
            "--base-url",
            ig_url,
        )
    finally:
        ig.stop()
        yt.stop()
    # every fault fired, so every echo was received
    assert all(rule.fired for rule in ig.rules + yt.rules)
    assert pulled_ig.returncode == 1 and "creator_2" in said["pull instagram"]
    assert pulled_yt.returncode == 1 and "forbidden" in said["pull youtube"]
    assert (
        refused.returncode == 1 and "not a creators mapping" in said["pull with a broken mapping"]
    )

    # pages saved under their request URLs, given to `ingest load` and left in the inbox
    saved = inputs / "saved"
    saved.mkdir()
    page = saved / f"channels?part=snippet&key={in_names}.json"
    page.write_bytes((FIXTURES / "youtube" / "channels_list.json").read_bytes())
    broken = saved / f"media?access_token={in_names}&after=QVFI.json"
    broken.write_bytes((FIXTURES / "youtube" / "channels_list_truncated.json").read_bytes())
    loaded = run("load", "load", str(page), str(broken), str(creators), "--json")
    assert loaded.returncode == 1  # the truncated page fails, naming itself
    assert "media?access_token=***&after=QVFI.json" in said["load"]
    day = "2026-11-20"
    box = inputs / "inbox" / "instagram" / day
    box.mkdir(parents=True)
    shutil.copy(FIXTURES / "instagram" / "user.json", box / f"me?fields=id&access_token={in_names}")
    (box / f"other?access_token={in_names}.json").write_text('{"unknown": true}')
    # a format that needs an account folder: refused in the inbox, naming the file
    shutil.copy(
        FIXTURES / "instagram" / "dyi_posts_italian.json",
        box / f"insights?access_token={in_names}.json",
    )
    ran = run(
        "run", "run", "--date", day, "--platform", "instagram", "--inbox", str(box.parents[1])
    )
    assert ran.returncode == 1 and "insights?access_token=***" in said["run"]
    checked = run("validate", "validate", "no-such-load")
    assert checked.returncode != 0

    leaks = [
        f"{what} in {where}"
        for where, text in said.items()
        for what, secret in secrets.items()
        if secret in text
    ]
    written = [p for p in home.rglob("*")]
    assert any(p.name.endswith(".manifest.json") for p in written)
    assert any(p.parent.name == "_state" for p in written)
    for path in written:
        for what, secret in secrets.items():
            if secret in str(path.relative_to(home)):
                leaks.append(f"{what} in the name of {path.relative_to(home)}")
            elif path.is_file() and secret.encode() in path.read_bytes():
                leaks.append(f"{what} in {path.relative_to(home)}")
    for db in (warehouse, warehouse.with_name("creators_bi.duckdb")):
        leaks += [
            f"{what} in {db.name}: {table}"
            for what, secret in secrets.items()
            for table in tables_holding(db, secret)
        ]
    assert not leaks, leaks
    # the landed pages are the served bytes with the echoed token masked
    landed = (home / "landing" / "instagram").rglob("*.json")
    pages = [p.read_bytes() for p in landed if not p.name.endswith(".manifest.json")]
    assert any(b"access_token=***" in p for p in pages)


def tables_holding(db: Path, secret: str) -> list[str]:
    """The tables of ``db`` with a value (of any type, as text) that holds ``secret``."""
    conn = duckdb.connect(str(db), read_only=True)
    try:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_type = 'BASE TABLE'"
        ).fetchall()
        assert len(tables) > 10
        found = []
        for schema, table in tables:
            name = f'"{schema}"."{table}"'
            [(hits,)] = conn.execute(
                f"select count(*) from {name} as r where contains(cast(r as varchar), $s)",
                {"s": secret},
            ).fetchall()
            if hits:
                found.append(f"{schema}.{table}")
        return found
    finally:
        conn.close()


def test_a_token_in_a_file_name_is_not_kept(tmp_path: Path):
    """A page saved under its request URL carries the token in its name; the name outlives it."""
    token = "EAAGm0PX4ZCpsBAKd9"
    saved = tmp_path / f"me?fields=followers_count&access_token={token}.json"
    saved.write_bytes((FIXTURES / "youtube" / "channels_list.json").read_bytes())
    broken = tmp_path / f"media?access_token={token}&after=QVFI.json"
    broken.write_bytes((FIXTURES / "youtube" / "channels_list_truncated.json").read_bytes())
    warehouse = tmp_path / "warehouse" / "creators.duckdb"
    done = ingest(
        "load", str(saved), str(broken), "--json", "--warehouse", str(warehouse), cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr  # the truncated page fails, naming itself
    assert "media?access_token=***&after=QVFI.json" in done.stdout + done.stderr
    assert token not in done.stdout + done.stderr
    manifests = list((tmp_path / "landing").rglob("*.manifest.json"))
    assert manifests
    for manifest in manifests:
        assert token not in manifest.read_text()
    assert not tables_holding(warehouse, token)


# ---- concurrency


@pytest.fixture
def loaded_warehouse(tmp_path: Path) -> Path:
    warehouse = tmp_path / "warehouse" / "creators.duckdb"
    done = ingest(
        "load",
        str(FIXTURES / "youtube" / "channels_list.json"),
        "--date",
        "2026-09-01",
        "--warehouse",
        str(warehouse),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    return warehouse


def snapshot(db: Path) -> dict[str, list[tuple]]:
    tables = ("core.accounts", "core.account_daily", "meta.loads", "marts.creator_tier_daily")
    return {t: query(db, f"select * from {t} order by all") for t in tables}


def test_a_second_writer_gets_a_clear_busy_error_after_the_bounded_wait(
    loaded_warehouse: Path, tmp_path: Path
):
    before = snapshot(loaded_warehouse)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('holding', flush=True);"
            " sys.stdin.read(); c.close()",
            str(loaded_warehouse),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        began = time.monotonic()
        done = ingest(
            "load",
            str(FIXTURES / "youtube" / "videos_list.json"),
            "--warehouse",
            str(loaded_warehouse),
            cwd=tmp_path,
            env=clean_env(INGEST_BUSY_TIMEOUT="2"),
        )
        waited = time.monotonic() - began
    finally:
        if holder.stdin is not None:
            holder.stdin.close()
        try:
            holder.wait(30)
        finally:
            if holder.poll() is None:
                os.killpg(holder.pid, 9)
                holder.wait(30)
    assert done.returncode == 3, done.stderr  # the documented exit code of a busy warehouse
    assert "warehouse creators.duckdb is busy" in done.stderr
    assert "Traceback" not in done.stderr
    assert waited >= 2, "it gave up before the bounded wait"
    assert waited < 120
    assert snapshot(loaded_warehouse) == before
    # once the other writer is gone, the same load goes through
    again = ingest(
        "load",
        str(FIXTURES / "youtube" / "videos_list.json"),
        "--warehouse",
        str(loaded_warehouse),
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr


def test_bi_readers_keep_working_while_a_load_runs(loaded_warehouse: Path, tmp_path: Path):
    bi = loaded_warehouse.with_name("creators_bi.duckdb")
    reader = duckdb.connect(str(bi), read_only=True)
    old = reader.execute("select count(*) from meta.loads").fetchone()
    assert old == (1,)
    overview = FIXTURES / "tiktok" / "Overview.csv"
    process = cli_subprocess(
        ["load", str(overview), "--account", "acct", "--warehouse", str(loaded_warehouse)],
        cwd=tmp_path,
    )
    reads = 0
    try:
        # keep reading (new connections and the held one) until the load has finished
        def read_while_loading() -> bool:
            nonlocal reads
            assert reader.execute("select count(*) from meta.loads").fetchone() == old
            fresh = duckdb.connect(str(bi), read_only=True)
            try:
                count = fresh.execute("select count(*) from meta.loads").fetchone()
                assert count in (old, (2,))
                fresh.execute("select * from marts.creator_tier_daily").fetchall()
            finally:
                fresh.close()
            reads += 1
            return process.poll() is not None

        assert poll(read_while_loading, timeout=300, interval=0.02)
        assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    finally:
        kill_group(process)
        reader.close()
    assert reads >= 3
    assert query(bi, "select count(*) from meta.loads") == [(2,)]
