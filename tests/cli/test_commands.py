"""The ``ingest`` command as a user runs it: the installed script in a subprocess.

Each subprocess that imports Great Expectations costs seconds, so a test checks several
things of one run. The commands that never audit (help, usage errors, export, pull without
a load) are cheap and get a subprocess each.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest.cli import build_command
from ingest.platforms import get as platform
from tests.extract.fakes import FakeYouTube

INGEST = Path(sys.executable).with_name("ingest")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAY = date(2026, 9, 1)


def _leaves(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    children = getattr(command, "commands", None)
    if children is None:
        yield path
        return
    for name, child in children.items():
        yield from _leaves(child, (*path, name))


def _command(path: str) -> Any:
    found = build_command()
    for name in path.split():
        found = found.commands[name]
    return found


# every command a user types, groups' subcommands included: "load", "accounts add"
COMMANDS = sorted(" ".join(path) for path in _leaves(build_command()))


def ingest(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The console script, with no INGEST_* variable of the test run's environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    return subprocess.run(
        [str(INGEST), *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def json_lines(stdout: str) -> list[dict]:
    """Every line of stdout as a JSON object: fails on any line that is not one."""
    return [json.loads(line) for line in stdout.splitlines()]


def drop(inbox: Path, platform_name: str, source: Path) -> None:
    folder = inbox / platform_name / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, folder / source.name)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself_with_an_example(command: str, tmp_path: Path):
    shown = ingest(*command.split(), "--help", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert f"Usage: ingest {command}" in shown.stdout
    assert "Examples:" in shown.stdout and f"$ ingest {command}" in shown.stdout
    assert "Exit codes: 0 ok; 1 refused input" in shown.stdout
    assert "-v, --verbose" in shown.stdout and "-q, --quiet" in shown.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_has_help_and_a_default(command: str):
    for param in _command(command).params:
        if param.param_type_name != "option" or param.name == "help":
            continue
        assert param.help, f"ingest {command} {param.opts[0]} has no help"
        flag = getattr(param, "is_flag", False)
        assert param.required or flag or param.default is not None or param.show_default, (
            f"ingest {command} {param.opts[0]} shows no default"
        )


def test_version_and_usage_errors(tmp_path: Path):
    shown = ingest("--version", cwd=tmp_path)
    assert (shown.returncode, shown.stdout.strip()) == (
        0,
        f"ingest {version('creator-metrics-ingest')}",
    )

    nothing = ingest(cwd=tmp_path)
    assert nothing.returncode == 2 and "Usage: ingest" in nothing.stderr
    for args, said in [
        (["frobnicate"], "No such command"),
        (["run", "--date", "2026-09-31"], "expected a date like 2026-09-01"),
        (["run"], "--date"),
        (["pull", "--platform", "myspace", "--date", "2026-09-01"], "not an installed platform"),
        (["backfill", "--start", "2026-09-02", "--end", "2026-09-01"], "before --start"),
        (["export", "--out", "x", "--format", "xlsx"], "parquet, csv"),
        (["report", "-v", "-q", "--bogus"], "No such option"),
    ]:
        done = ingest(*args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        assert said in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr and not done.stdout


def _bi_copy(tmp_path: Path) -> Path:
    """A warehouse path whose BI copy holds one small mart."""
    warehouse = tmp_path / "warehouse" / "creators.duckdb"
    warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse.with_name("creators_bi.duckdb"))) as bi:
        bi.execute("create schema marts")
        bi.execute("create table marts.creator_daily as select range as n from range(3)")
    return warehouse


def test_a_busy_warehouse_exits_3(tmp_path: Path):
    warehouse = _bi_copy(tmp_path)
    # this process holds the BI copy for writing: the command waits, then gives up
    with duckdb.connect(str(warehouse.with_name("creators_bi.duckdb"))):
        done = ingest(
            "export",
            "--out",
            "out",
            "--warehouse",
            str(warehouse),
            cwd=tmp_path,
            env={"INGEST_BUSY_TIMEOUT": "0.2"},
        )
    assert done.returncode == 3, done.stderr
    assert "is busy" in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("is busy") == 1


def test_an_internal_error_exits_4_with_its_traceback_only_under_v(tmp_path: Path):
    warehouse = _bi_copy(tmp_path)
    with duckdb.connect(str(warehouse.with_name("creators_bi.duckdb"))) as bi:
        # a mart whose query fails when read: an error the command cannot foresee
        bi.execute("create table main.gone (x int)")
        bi.execute("create view marts.broken as select x from main.gone")
        bi.execute("drop table main.gone")
    where = ["--out", "out", "--warehouse", str(warehouse)]
    plain = ingest("export", *where, cwd=tmp_path)
    assert plain.returncode == 4, plain.stderr
    assert "internal error: CatalogException" in plain.stderr and "-v" in plain.stderr
    assert "Traceback" not in plain.stderr
    # -v after the subcommand is taken as well as before it
    verbose = ingest("export", *where, "-v", cwd=tmp_path)
    assert verbose.returncode == 4
    assert "Traceback" in verbose.stderr
    assert not list((tmp_path / "out").glob("*.partial"))


def test_a_refused_file_exits_1_is_told_once_and_json_stays_clean(tmp_path: Path):
    notes = tmp_path / "notes.csv"
    notes.write_text("a,b\n1,2\n")
    good = FIXTURES / "youtube" / "channels_list.json"
    done = ingest(
        "load",
        str(good),
        str(notes),
        "--json",
        "--date",
        DAY.isoformat(),
        "--warehouse",
        str(tmp_path / "w.duckdb"),
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    objects = json_lines(done.stdout)
    statuses = {Path(o["source"]).name: o["status"] for o in objects}
    assert statuses == {"notes.csv": "failed", "channels_list.json": "published"}
    assert done.stderr.count("not a recognised export") == 1, done.stderr
    assert "progress:" not in done.stderr


def test_run_shows_progress_off_a_terminal_then_json_then_export(tmp_path: Path):
    inbox = tmp_path / "inbox"
    drop(inbox, "youtube", FIXTURES / "youtube" / "channels_list.json")
    drop(inbox, "youtube", FIXTURES / "youtube" / "videos_list.json")
    warehouse = tmp_path / "warehouse" / "creators.duckdb"
    where = ["--inbox", str(inbox), "--warehouse", str(warehouse)]

    first = ingest("run", "--date", DAY.isoformat(), *where, "-v", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"{DAY.isoformat()}: ok")
    lines = first.stderr.splitlines()
    assert "progress: land: 2/2 files" in "\n".join(lines)
    assert any(line.startswith("progress: stage: 2/2 files") for line in lines), lines
    # -v after the subcommand: the core's log records, with their logger
    assert any(line.startswith("INFO ingest.runs: youtube") for line in lines), lines

    again = ingest(
        "run", "--date", DAY.isoformat(), *where, "--platform", "youtube", "--json", cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    [day] = json_lines(again.stdout)
    assert (day["day"], day["ok"], day["failures"]) == (DAY.isoformat(), True, [])
    assert day["platforms"]["youtube"]["files"] == 2
    assert "progress:" not in again.stderr

    exported = ingest(
        "export", "--out", "exports", "--warehouse", str(warehouse), "--json", cwd=tmp_path
    )
    assert exported.returncode == 0, exported.stderr
    objects = json_lines(exported.stdout)
    with duckdb.connect(str(warehouse.with_name("creators_bi.duckdb")), read_only=True) as bi:
        marts = [
            name
            for (name,) in bi.execute(
                "select table_name from information_schema.tables"
                " where table_schema = 'marts' order by table_name"
            ).fetchall()
        ]
        assert [o["mart"] for o in objects] == marts
        for obj in objects:
            path = tmp_path / obj["path"]
            assert path.name == f"{obj['mart']}.parquet"
            counted = bi.execute(f'select count(*) from marts."{obj["mart"]}"').fetchone()[0]
            assert obj["rows"] == counted
            assert (
                duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchone()[0] == counted
            )
    assert any(o["rows"] > 0 for o in objects)

    report = ingest(
        "report", "--out", "r.html", "--warehouse", str(warehouse), "--json", cwd=tmp_path
    )
    assert report.returncode == 0, report.stderr
    assert json_lines(report.stdout) == [{"path": "r.html"}]
    assert (tmp_path / "r.html").stat().st_size > 0


def test_pull_json_and_progress(tmp_path: Path):
    youtube = platform("youtube")
    key = "AIzaSyCLIsecretKEY0123456789abcdefgh"
    api = FakeYouTube(key, channels=2, videos=2)
    url = api.start()
    try:
        args = [
            "pull",
            "--platform",
            "youtube",
            # today: the pull runs on the real clock, and snapshots describe only their own day
            "--date",
            datetime.now(UTC).date().isoformat(),
            "--accounts",
            ",".join(api.channels),
            "--base-url",
            url,
            "--no-load",
            "--warehouse",
            str(tmp_path / "w.duckdb"),
        ]
        env = {str(youtube.token_env): key}
        shown = ingest(*args, cwd=tmp_path, env=env)
        assert shown.returncode == 0, shown.stderr
        assert "2/2 accounts complete" in shown.stdout
        assert "progress: pull:" in shown.stderr
        assert key not in shown.stdout + shown.stderr
        again = ingest(*args, "--json", cwd=tmp_path, env=env)
    finally:
        api.stop()
    assert again.returncode == 0, again.stderr
    [summary] = json_lines(again.stdout)
    assert summary["ok"] is True and summary["accounts"] == 2
    assert "progress:" not in again.stderr


def test_accounts_status_and_config_as_a_user_runs_them(tmp_path: Path):
    """Track accounts, see them in status, and read the settings: none of these audit."""
    where = ["--warehouse", str(tmp_path / "warehouse" / "creators.duckdb")]
    channel = "UC" + "a" * 22
    added = ingest(
        "accounts",
        "add",
        "youtube",
        channel,
        "@SomeChannel",
        "--creator",
        "c1",
        *where,
        cwd=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    assert "added" in added.stdout and channel in added.stdout
    # again, as JSON: nothing changes, and stdout holds one object
    again = ingest("accounts", "add", "youtube", channel, "--json", *where, cwd=tmp_path)
    [change] = json_lines(again.stdout)
    assert again.returncode == 0 and change["ok"] is True
    assert [a["status"] for a in change["accounts"]] == ["unchanged"]
    # a value the pull would refuse is refused (exit 1), named once; the good one is added
    bad = ingest("accounts", "add", "instagram", "x){id}", "creator_0", *where, cwd=tmp_path)
    assert bad.returncode == 1
    assert "x){id}" in bad.stdout + bad.stderr and "creator_0" in bad.stdout
    mapping = tmp_path / "creators.csv"
    mapping.write_text("creator_id,platform,handle\nc2,tiktok,dance.daily\n,tiktok,nobody\n")
    imported = ingest("accounts", "import", str(mapping), *where, cwd=tmp_path)
    assert imported.returncode == 1
    assert "creators.csv, line 3, field 'creator_id'" in imported.stdout + imported.stderr
    removed = ingest("accounts", "remove", "instagram", "creator_0", "--json", *where, cwd=tmp_path)
    assert [a["status"] for a in json_lines(removed.stdout)[0]["accounts"]] == ["removed"]
    listed = ingest("accounts", "list", "--json", *where, cwd=tmp_path)
    [tracked] = json_lines(listed.stdout)
    assert tracked["per_platform"] == {"tiktok": 1, "youtube": 2}

    shown = ingest("status", "--json", *where, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    [state] = json_lines(shown.stdout)
    assert state["exists"] and state["empty"]
    assert {p: n for p, n in state["tracked_accounts"].items() if n} == tracked["per_platform"]
    text = ingest("status", "-q", *where, cwd=tmp_path)
    assert "Tracked accounts: 3" in text.stdout and not text.stderr

    secret = "a-key-that-must-not-show"
    config = ingest(
        "config", "--json", *where, cwd=tmp_path, env={"INGEST_YOUTUBE_API_KEY": secret}
    )
    assert config.returncode == 0, config.stderr
    [settings] = json_lines(config.stdout)
    by_env = {s["env"]: s for s in settings["settings"]}
    assert by_env["INGEST_YOUTUBE_API_KEY"]["value"] == "***"
    assert by_env["INGEST_YOUTUBE_API_KEY"]["source"] == "env"
    assert by_env["INGEST_WAREHOUSE"]["source"] == "flag"
    assert secret not in config.stdout + config.stderr
    wrong = ingest("config", *where, cwd=tmp_path, env={"INGEST_BUSY_TIMEOUT": "soon"})
    assert wrong.returncode == 2
    assert "INGEST_BUSY_TIMEOUT" in wrong.stderr and "Traceback" not in wrong.stderr
