"""The load path end to end: idempotence, row accounting, all-or-nothing files, restatements."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest import replays
from ingest.config import Settings
from ingest.pipeline import load_files
from tests.conftest import FIXTURES

YT = FIXTURES / "youtube"
DAY = date(2026, 9, 1)
TABLES = (
    "core.accounts",
    "core.account_daily",
    "core.posts",
    "core.post_daily",
    "marts.creator_engagement_daily",
    "marts.creator_tier_daily",
    "marts.creator_tier_history",
)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")


def snapshot(settings: Settings) -> dict[str, list[tuple]]:
    conn = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return {t: conn.execute(f"select * from {t} order by all").fetchall() for t in TABLES}
    finally:
        conn.close()


def query(settings: Settings, sql: str) -> list[tuple]:
    conn = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# where a first load of a Data API page puts one row per usable item (a channel without
# statistics has no daily row, but it is an account)
ENTITY_TABLES = {"channels_list": "core.accounts", "videos_list": "core.posts"}


def counted(warehouse: Path, path: Path, load_id: str, table: str) -> tuple[int, int, int]:
    """Records in the file (its ``items``), rows of the load in ``table``, quarantined rows.

    Each is counted on its own, so the load's ``rows_read = rows_loaded + rows_quarantined``
    is checked against the file and the tables rather than against its own arithmetic.
    """
    records = len(json.loads(path.read_text(encoding="utf-8"))["items"])
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        [(in_core,)] = conn.execute(
            f"select count(*) from {table} where load_id = $id", {"id": load_id}
        ).fetchall()
        [(quarantined,)] = conn.execute(
            "select count(*) from quarantine.rows where load_id = $id", {"id": load_id}
        ).fetchall()
    finally:
        conn.close()
    return records, in_core, quarantined


def test_loading_the_same_files_twice_changes_nothing(settings: Settings):
    files = [YT / "channels_list.json", YT / "videos_list.json"]
    first = load_files(files, settings, day=DAY)
    assert [r.status for r in first] == ["published", "published"]
    before = snapshot(settings)
    assert before["core.account_daily"] and before["marts.creator_tier_daily"]
    second = load_files(files, settings, day=DAY)
    assert snapshot(settings) == before
    assert [r.status for r in second] == ["unchanged", "unchanged"]
    assert [r.load_id for r in second] == [r.load_id for r in first]
    assert all(r.rows_inserted == r.rows_updated == 0 for r in second)
    assert sum(r.rows_unchanged for r in second) == sum(r.rows_inserted for r in first)
    # a replay of bytes already published is reported, not recorded again
    assert query(settings, "select count(*), count(distinct load_id) from meta.loads") == [(2, 2)]
    # nor noted again in the index staging reads replays from (it would grow with each replay)
    (noted,) = (settings.staging / replays.FOLDER).rglob("*.jsonl")
    lines = noted.read_text().splitlines()
    assert len(lines) == 2
    third = load_files(files, settings, day=DAY)
    assert [r.status for r in third] == ["unchanged", "unchanged"]
    assert noted.read_text().splitlines() == lines


def test_loading_a_file_with_bad_rows_twice_keeps_one_quarantine(settings: Settings):
    path = YT / "channels_list_bad_count.json"
    [first] = load_files([path], settings, day=DAY)
    validations = query(settings, "select count(*) from meta.validations")
    [second] = load_files([path], settings, day=DAY)
    assert (first.status, second.status) == ("published", "unchanged")
    assert query(settings, "select count(*), count(distinct load_id) from quarantine.rows") == [
        (2, 1)
    ]
    assert query(settings, "select count(*) from meta.validations") == validations


def test_bad_rows_are_quarantined_and_counts_add_up(settings: Settings):
    path = YT / "channels_list_bad_count.json"
    [result] = load_files([path], settings, day=DAY)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 1, 2)
    # each count against one taken independently: the file's records, core, quarantine
    assert counted(settings.warehouse, path, result.load_id or "", "core.account_daily") == (
        3,
        1,
        2,
    )
    rows = query(
        settings,
        "select source_file, line, field, reason from quarantine.rows order by line",
    )
    assert [(r[1], r[2]) for r in rows] == [
        (2, "statistics.viewCount"),
        (3, "statistics.subscriberCount"),
    ]
    assert all(r[0].endswith("channels_list_bad_count.json") for r in rows)
    loads = query(
        settings, "select status, rows_read, rows_loaded, rows_quarantined from meta.loads"
    )
    assert loads == [("published", 3, 1, 2)]
    assert query(settings, "select account_id from core.account_daily") == [
        ("UCgoodChannel00000000001",)
    ]


def test_a_contradicting_repeat_of_a_key_is_quarantined(settings: Settings, tmp_path: Path):
    doc = json.loads((YT / "videos_list.json").read_text())
    repeat = json.loads(json.dumps(doc["items"][0]))
    repeat["statistics"]["viewCount"] = "1300"
    doc["items"].append(repeat)
    path = tmp_path / "dupes.json"
    path.write_text(json.dumps(doc))
    [result] = load_files([path], settings, day=DAY)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 3, 1)
    [(line, reason)] = query(settings, "select line, reason from quarantine.rows")
    assert line == 4
    assert "first seen at line 1" in reason
    assert query(settings, "select views from core.post_daily where post_id = 'vidAllCount'") == [
        (1200,)
    ]


def test_an_exact_repeat_of_a_record_is_quarantined(settings: Settings, tmp_path: Path):
    doc = json.loads((YT / "videos_list.json").read_text())
    doc["items"].append(json.loads(json.dumps(doc["items"][0])))
    path = tmp_path / "repeat.json"
    path.write_text(json.dumps(doc))
    [result] = load_files([path], settings, day=DAY)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 3, 1)
    assert query(settings, "select line from quarantine.rows") == [(4,)]
    assert query(settings, "select count(*) from core.post_daily") == [(3,)]


def test_archive_members_complementing_the_same_days_all_load(settings: Settings, tmp_path: Path):
    # two members number their lines from 1 and describe the same account-days
    archive = tmp_path / "tiktok_studio.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("Overview.csv", "FollowerHistory.csv"):
            zipped.write(FIXTURES / "tiktok" / name, name)
    [result] = load_files([archive], settings, account="creator.one", day=date(2026, 9, 2))
    assert result.status == "published", result.message
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (6, 6, 0)
    assert query(
        settings,
        "select day, followers, daily_views, daily_comments from core.account_daily order by day",
    ) == [
        (date(2026, 8, 29), 15002, 1204, 12),
        (date(2026, 8, 30), None, 987, -1),
        (date(2026, 8, 31), 15010, 1530, 9),
    ]


def test_a_later_observation_replaces_and_keeps_history(settings: Settings, tmp_path: Path):
    load_files([YT / "channels_list.json"], settings, day=DAY)
    doc = json.loads((YT / "channels_list.json").read_text())
    doc["items"][1]["statistics"]["subscriberCount"] = "42400"
    restated = tmp_path / "restated.json"
    restated.write_text(json.dumps(doc))
    [result] = load_files([restated], settings, day=DAY)
    assert result.rows_updated == 1
    assert query(
        settings,
        "select followers from core.account_daily where account_id = 'UCroundedMicroChannel0002'",
    ) == [(42400,)]
    assert query(
        settings,
        "select account_id, followers, replaced_by_load_id from core.account_daily_history",
    ) == [("UCroundedMicroChannel0002", 42300, result.load_id)]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("channels_list_truncated.json", "invalid JSON"),
        ("empty.json", "the file is empty"),
        ("notes.csv", "not a recognised export"),
    ],
)
def test_a_malformed_file_fails_clearly_and_leaves_the_warehouse_alone(
    tmp_path: Path, name: str, problem: str
):
    warehouse = tmp_path / "warehouse" / "creators.duckdb"
    ok = run_cli(
        "load", str(YT / "channels_list.json"), "--warehouse", str(warehouse), cwd=tmp_path
    )
    assert ok.returncode == 0, ok.stderr
    before = _all_but_rejections(warehouse)
    source = YT / name
    if not source.exists():
        source = tmp_path / name
        source.write_text("a,b\n1,2\n")
    bad = run_cli("load", str(source), "--warehouse", str(warehouse), cwd=tmp_path)
    assert bad.returncode == 1
    assert name in bad.stderr
    assert problem in bad.stderr
    assert "Traceback" not in bad.stderr
    # a file that landed is recorded as rejected, with the message; nothing else changes
    assert _all_but_rejections(warehouse) == before
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rejected = conn.execute("select message from meta.loads where status = 'rejected'")
        assert all(name in m and problem in m for (m,) in rejected.fetchall())


def _all_but_rejections(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        tables = [
            f"{schema}.{table}"
            for schema, table in conn.execute(
                "select schema_name, table_name from duckdb_tables() order by all"
            ).fetchall()
        ]
        return {
            t: conn.execute(
                f"select * from {t} where status <> 'rejected' order by all"
                if t == "meta.loads"
                else f"select * from {t} order by all"
            ).fetchall()
            for t in tables
        }


def test_json_output_has_one_object_per_file(tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    files = [YT / "channels_list.json", YT / "videos_list.json"]
    done = run_cli("load", *map(str, files), "--json", "--warehouse", str(warehouse), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["format"] for o in objects] == ["channels_list", "videos_list"]
    for obj in objects:
        assert {
            "platform",
            "format",
            "rows_read",
            "rows_loaded",
            "rows_quarantined",
            "load_id",
            "status",
        } <= set(obj)
        table = ENTITY_TABLES[obj["format"]]
        path = YT / f"{obj['format']}.json"
        independent = counted(warehouse, path, obj["load_id"], table)
        assert (obj["rows_read"], obj["rows_loaded"], obj["rows_quarantined"]) == independent
        assert independent[1] > 0


def test_landing_keeps_the_bytes_once(settings: Settings, tmp_path: Path):
    copy = tmp_path / "copy.json"
    shutil.copy(YT / "channels_list.json", copy)
    load_files([YT / "channels_list.json", copy], settings, day=DAY)
    landed = sorted(p.name for p in (settings.landing / "youtube" / DAY.isoformat()).iterdir())
    sha = hashlib.sha256((YT / "channels_list.json").read_bytes()).hexdigest()
    assert landed == [f"{sha}.json", f"{sha}.manifest.json"]
    manifest = json.loads((settings.landing / "youtube" / DAY.isoformat() / landed[1]).read_text())
    assert manifest["source_name"] == "channels_list.json"
    assert "/" not in json.dumps(manifest["source_name"])
    # no batch is left behind; the index of published bytes stays (ingest.replays)
    assert [p.name for p in settings.staging.glob("*")] == ["published"]


@pytest.mark.parametrize("folder", [".cache/exports", "../exports"])
def test_a_folder_below_a_dot_directory_or_given_relatively_loads(tmp_path: Path, folder: str):
    work = tmp_path / "work"
    work.mkdir()
    exports = (work / folder).resolve()
    (exports / ".hidden").mkdir(parents=True)
    shutil.copy(YT / "channels_list.json", exports / "channels_list.json")
    shutil.copy(YT / "videos_list.json", exports / ".hidden" / "videos_list.json")
    done = run_cli("load", folder, "--json", "--warehouse", "w.duckdb", cwd=work)
    assert done.returncode == 0, done.stderr
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["format"] for o in objects] == ["channels_list"]


def test_a_folder_given_expands_to_its_files_below_in_path_order(tmp_path: Path):
    from ingest.intake import expand_paths

    for name in ("z.json", "A.json", "a b/c.json", "a/b.json", "a/b/c/d.json", "a.b/e.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    for hidden in (".h/x.json", "a/.h/y.json", "a/.z.json"):
        (tmp_path / hidden).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / hidden).write_text("{}")
    (tmp_path / "linked-folder").symlink_to(tmp_path / "a")  # not entered
    (tmp_path / "linked.json").symlink_to(tmp_path / "z.json")  # a file
    (tmp_path / "dangling.json").symlink_to(tmp_path / "gone.json")  # none
    found = [p.relative_to(tmp_path).as_posix() for p in expand_paths([tmp_path])]
    assert found == [
        "A.json",
        "a/b/c/d.json",
        "a/b.json",
        "a b/c.json",
        "a.b/e.json",
        "linked.json",
        "z.json",
    ]
    assert found == [
        p.relative_to(tmp_path).as_posix()
        for p in sorted(tmp_path.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(tmp_path).parts)
    ]


def test_a_load_that_finds_no_file_says_so(tmp_path: Path):
    empty = tmp_path / "empty"
    (empty / ".only-hidden").mkdir(parents=True)
    (empty / ".only-hidden" / "x.json").write_text("{}")
    done = run_cli("load", str(empty), "--warehouse", "w.duckdb", cwd=tmp_path)
    assert done.returncode == 1
    assert f"no files to load in {empty}" in done.stderr


def _load_in_groups(
    files: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, group_files: int
) -> tuple[list[tuple[object, ...]], dict[str, list[tuple]]]:
    """Load ``files`` with groups of at most ``group_files`` pages: each file's outcome, the
    posts tables and the quarantine."""
    import ingest.pipeline

    monkeypatch.setattr(ingest.pipeline, "GROUP_FILES", group_files)
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env(tmp_path / str(group_files) / "creators.duckdb")
    results = load_files(files, settings, day=DAY)
    outcomes = sorted(
        (Path(r.source).name, r.status, r.rows_read, r.rows_loaded, r.rows_quarantined)
        for r in results
    )
    tables = {
        t: query(settings, f"select * exclude (load_id, observed_at) from {t} order by all")
        for t in ("core.posts", "core.post_daily")
    }
    tables["quarantine"] = query(
        settings,
        "select source_file, line, field, reason from quarantine.rows order by all",
    )
    return outcomes, tables


def test_pages_staged_many_to_a_pass_load_as_they_would_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """API pages stage many to a DuckDB pass; the result is the per-file one, bad rows,
    a page given twice (two loads of the same bytes) and a broken page included."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
    import gen

    pages = gen.tiktok_pages(
        tmp_path / "pages", rows=600, page_rows=100, bad_every=7, duplicate_every=13
    )
    again = tmp_path / "pages" / "again.json"
    shutil.copy(pages[1], again)
    broken = tmp_path / "pages" / "broken.json"
    broken.write_text(
        '{"data": {"videos": [{"id": 1, "username": "a"}, 5]}, "error": {"code": "ok"}}'
    )
    files = [*pages, again, broken]
    grouped = _load_in_groups(files, tmp_path, monkeypatch, 500)
    assert grouped == _load_in_groups(files, tmp_path, monkeypatch, 1)
    outcomes, tables = grouped
    assert len(outcomes) == 8 and sum(o[2] for o in outcomes) == 702
    assert len(tables["quarantine"]) > 50


def test_a_clean_page_grouped_with_pages_that_repeat_keys_stages_only_its_own_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The one page of a group whose keys do not repeat is written on its own, the pages
    that repeat a key being settled one by one: its batch holds its rows, not the group's
    (a batch holding every member's rows failed its load's audit on keys repeated across
    pages, "28 of 179 rows unexpected")."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
    import gen
    import ingest.pipeline

    # every generated page repeats an id (duplicate_every), so the stager settles it alone
    pages = gen.tiktok_pages(tmp_path / "pages", rows=300, page_rows=100, duplicate_every=13)
    clean = tmp_path / "pages" / "clean.json"
    videos = [{"id": 1, "username": "a", "view_count": 5, "create_time": 1756700000}, {"id": 2}]
    clean.write_text(json.dumps({"data": {"videos": videos}, "error": {"code": "ok"}}))
    # one thread: every page in one group, whatever the machine's cores
    monkeypatch.setattr(ingest.pipeline, "STAGE_THREADS", 1)
    files = [*pages, clean]
    grouped = _load_in_groups(files, tmp_path, monkeypatch, 500)
    assert grouped == _load_in_groups(files, tmp_path, monkeypatch, 1)
    outcomes, _ = grouped
    assert {o[1] for o in outcomes} == {"published"}
    # the video without a username is quarantined; the other is the page's only row
    assert ("clean.json", "published", 2, 1, 1) in outcomes
