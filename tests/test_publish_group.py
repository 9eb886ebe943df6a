"""A run's pages are published many to a transaction, with the results of one at a time.

And bytes already published by the same parser version are not read again on a replay.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest import parsing, pipeline, progress, publish
from ingest.config import Settings
from ingest.pipeline import LoadResult, load_files
from ingest.runs import RunSummary, run_day

DAY = date(2026, 9, 1)
TABLES = (
    "core.posts",
    "core.post_daily",
    "core.post_daily_history",
    "quarantine.rows",
    "meta.pending_mart_days",
)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")


def video(number: int, views: int) -> dict[str, object]:
    return {
        "id": 7213456789012345000 + number,
        "create_time": 1782000000 + number,
        "username": f"creator{number % 3}",
        "video_description": f"clip {number}",
        "view_count": views,
        "like_count": views // 10,
        "comment_count": 2,
        "share_count": 1,
        "video_duration": 30,
    }


def write_pages(folder: Path, pages: list[list[object]]) -> list[Path]:
    """Research API ``video/query`` pages holding the given videos."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, videos in enumerate(pages, 1):
        doc = {
            "data": {"videos": videos, "cursor": number, "has_more": False, "search_id": "1"},
            "error": {"code": "ok", "message": "", "log_id": f"log{number}"},
        }
        path = folder / f"video_query_{number:03d}.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        paths.append(path)
    return paths


def tables(settings: Settings) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the published tables, load ids named by the file that loaded them."""
    conn = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        files = dict(conn.execute("select load_id, source_file from meta.loads").fetchall())
        found = {}
        for table in TABLES:
            cursor = conn.execute(f"select * from {table}")
            names = [d[0] for d in cursor.description or ()]
            skip = {"replaced_at", "quarantined_at", "observed_at"}
            rows = [
                tuple(
                    Path(files[v]).name if isinstance(v, str) and v in files else v
                    for n, v in zip(names, row, strict=True)
                    if n not in skip
                )
                for row in cursor.fetchall()
            ]
            found[table] = sorted(rows, key=repr)
        loads = conn.execute(
            "select source_file, status, rows_read, rows_loaded, rows_quarantined, rows_inserted,"
            " rows_updated, rows_unchanged, parser_version, landing_day from meta.loads"
        ).fetchall()
        found["meta.loads"] = sorted((Path(r[0]).name, *r[1:]) for r in loads)
        return found
    finally:
        conn.close()


def outcomes(results: list[LoadResult]) -> list[tuple[object, ...]]:
    return sorted(
        (
            Path(r.source).name,
            r.status,
            r.rows_read,
            r.rows_loaded,
            r.rows_quarantined,
            r.rows_inserted,
            r.rows_updated,
            r.rows_unchanged,
        )
        for r in results
    )


def one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "groupable", lambda conn, batches: False)


# pages of the first run, then of a second run restating some keys
FIRST = [
    [video(1, 100), video(2, 200), {"id": "x1", "username": "bad"}],
    [video(3, 300), video(4, 400)],
    [video(5, 500), None],
]
SECOND = [
    [video(1, 150), video(2, 200), video(6, 600)],
    [video(3, 300), video(7, 700), {"username": "no_id"}],
    [video(8, 800)],
]
# two pages of one run that restate each other's key: the later observation wins in order
OVERLAPPING = [[video(1, 100), video(2, 200)], [video(2, 250), video(3, 300)]]
# a key on every page (merged in rounds, one per page of it), pages giving other columns, an
# older observation, a page restating a key unchanged
WITHOUT_VIEWS = {k: v for k, v in video(1, 90).items() if k != "view_count"}
OVERLAPPING_MANY = [
    [video(1, 100), video(2, 200)],
    [video(2, 250), video(3, 300), video(1, 120)],
    [WITHOUT_VIEWS, video(2, 250), video(4, 400)],
    [video(1, 130), video(3, 310)],
]


@pytest.mark.parametrize(
    "runs",
    [
        pytest.param([FIRST, SECOND], id="disjoint"),
        pytest.param([OVERLAPPING], id="overlap"),
        pytest.param([OVERLAPPING_MANY, OVERLAPPING], id="overlap-rounds"),
    ],
)
def test_publishing_together_gives_what_publishing_one_by_one_gives(
    runs: list[list[list[object]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, object] = {}
    for mode in ("together", "alone"):
        with monkeypatch.context() as patch:
            if mode == "alone":
                one_by_one(patch)
            settings = Settings.from_env(tmp_path / mode / "warehouse" / "creators.duckdb")
            results = [
                outcomes(load_files(write_pages(tmp_path / f"in{n}", pages), settings, day=DAY))
                for n, pages in enumerate(runs)
            ]
            seen[mode] = (results, tables(settings))
    together, alone = seen["together"], seen["alone"]
    assert together[0] == alone[0]  # type: ignore[index]
    for table in together[1]:  # type: ignore[index]
        assert together[1][table] == alone[1][table], table  # type: ignore[index]
    results, published = together  # type: ignore[misc]
    # counts add up per load, and the core holds each published row once
    for run in results:
        assert all(read == loaded + quarantined for _, _, read, loaded, quarantined, *_ in run)
    assert len(published["core.post_daily"]) == len({r[:3] for r in published["core.post_daily"]})


def test_a_group_is_one_transaction(settings: Settings, tmp_path: Path, monkeypatch) -> None:
    commits: list[str] = []
    real = publish.transaction

    def counting(conn: duckdb.DuckDBPyConnection):  # type: ignore[no-untyped-def]
        commits.append("begin")
        return real(conn)

    monkeypatch.setattr(publish, "transaction", counting)
    results = load_files(write_pages(tmp_path / "in", FIRST), settings, day=DAY)
    assert [r.status for r in results] == ["published"] * 3
    assert len(commits) == 1


def test_a_file_whose_publish_fails_fails_alone(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken: list[str] = []

    def audit_then_break(batches, settings):  # type: ignore[no-untyped-def]
        reports = pipeline.audit_batches(batches, settings)
        # the second page's staged quarantine turns unreadable after its audit passed (a
        # clean page has none: it is given one, which only its publish reads)
        target = Path(batches[1].folder) / "quarantine.parquet"
        target.parent.mkdir(exist_ok=True)  # a page of a staging pass has no folder of its own
        target.write_bytes(b"not parquet")
        batches[1].quarantine_path = str(target)
        broken.append(batches[1].load_id)
        return reports

    monkeypatch.setattr(pipeline, "audit_staged", audit_then_break)
    results = load_files(write_pages(tmp_path / "in", FIRST), settings, day=DAY)
    assert [r.status for r in results] == ["published", "failed", "published"]
    assert "publish failed" in (results[1].message or "")
    published = tables(settings)
    assert [r[0] for r in published["meta.loads"]] == [
        "video_query_001.json",
        "video_query_003.json",
    ]
    posts = {r[1] for r in published["core.post_daily"]}
    assert posts == {str(7213456789012345000 + n) for n in (1, 2, 5)}
    # the failed file left nothing: no quarantine rows, no pending marts of its load
    assert all(r[0] != "video_query_002.json" for r in published["quarantine.rows"])
    assert all(r[-1] != "video_query_002.json" for r in published["meta.pending_mart_days"])


def test_published_bytes_are_not_read_again_unless_asked(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_pages(tmp_path / "in", FIRST)
    first = load_files(paths, settings, day=DAY)
    before = tables(settings)

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a replay of published bytes was parsed")

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "stage", no_parse)
        again = load_files(paths, settings, day=DAY)
    assert [r.status for r in again] == ["unchanged"] * 3
    assert [r.load_id for r in again] == [r.load_id for r in first]
    assert [(r.rows_read, r.rows_loaded, r.rows_quarantined) for r in again] == [
        (r.rows_read, r.rows_loaded, r.rows_quarantined) for r in first
    ]
    assert tables(settings) == before
    assert not [p for p in settings.staging.iterdir() if p.name.startswith("cli-")]

    # asked to reprocess: read, audited and recorded again, changing no row of core
    redone = load_files(paths, settings, day=DAY, reprocess=True)
    assert [r.status for r in redone] == ["published"] * 3
    assert all(r.rows_inserted == r.rows_updated == 0 for r in redone)
    after = tables(settings)
    assert after["core.post_daily"] == before["core.post_daily"]
    assert after["quarantine.rows"] == before["quarantine.rows"]
    assert len(after["meta.loads"]) == 6

    # a new parser version reads them again by itself
    monkeypatch.setattr(parsing, "PARSERS_VERSION", parsing.PARSERS_VERSION + 1)
    bumped = load_files(paths, settings, day=DAY)
    assert [r.status for r in bumped] == ["published"] * 3


def test_a_stale_note_of_published_bytes_is_checked_against_the_warehouse(
    settings: Settings, tmp_path: Path
) -> None:
    paths = write_pages(tmp_path / "in", FIRST)
    load_files(paths, settings, day=DAY)
    expected = tables(settings)
    # the warehouse is gone, the staging index of what it published is not
    settings.warehouse.unlink()
    results = load_files(paths, settings, day=DAY)
    assert [r.status for r in results] == ["published"] * 3
    assert tables(settings)["core.post_daily"] == expected["core.post_daily"]


def test_a_rerun_of_a_day_skips_what_it_published(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    write_pages(inbox / "tiktok" / DAY.isoformat(), FIRST)
    first = run_day(DAY, settings, platforms=["tiktok"], inbox=inbox)
    assert first.ok, first

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a replay of published bytes was parsed")

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "stage", no_parse)
        again = run_day(DAY, settings, platforms=["tiktok"], inbox=inbox)
    assert again.ok, again

    def rows(summary: RunSummary) -> tuple[int, int, int, int]:
        c = summary.platforms["tiktok"]
        return c.files, c.rows_read, c.rows_loaded, c.rows_quarantined

    assert rows(again) == rows(first) == (3, 7, 5, 2)
    redone = run_day(DAY, settings, platforms=["tiktok"], inbox=inbox, reprocess=True)
    assert redone.ok, redone
    assert rows(redone) == rows(first)


def test_a_load_tells_its_progress_per_file_and_step(settings: Settings, tmp_path: Path) -> None:
    events: list[progress.Event] = []
    with progress.listening(events.append):
        load_files(write_pages(tmp_path / "in", FIRST), settings, day=DAY)
    steps = [e.step for e in events]
    assert [e.done for e in events if e.step == "land"] == [1, 2, 3]
    assert sorted(e.done for e in events if e.step == "stage") == [1, 2, 3]
    assert {"audit", "publish"} <= set(steps)
    assert steps.index("audit") > max(i for i, s in enumerate(steps) if s == "stage")
    assert events[-1].step != "land"
    assert [(e.done, e.total) for e in events if e.step == "publish"] == [(3, 3)]


@pytest.mark.parametrize(
    ("rows", "bounds"),
    [
        ([], []),
        ([100] * 3, [(0, 3)]),
        # a group closes once it holds GROUP_ROWS rows: DuckDB then writes its rows straight
        # to the database file instead of logging them whole
        ([publish.GROUP_ROWS - 1, 1, 5, publish.GROUP_ROWS], [(0, 2), (2, 4)]),
        # or GROUP_BATCHES batches, however small they are
        (
            [0] * (publish.GROUP_BATCHES + 1),
            [(0, publish.GROUP_BATCHES), (publish.GROUP_BATCHES, publish.GROUP_BATCHES + 1)],
        ),
    ],
)
def test_a_run_is_published_in_groups_of_enough_rows(
    rows: list[int], bounds: list[tuple[int, int]]
) -> None:
    assert list(publish.group_bounds(rows)) == bounds
