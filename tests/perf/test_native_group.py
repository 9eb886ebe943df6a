"""A group stager gives every file of its group exactly what the file staged alone gets."""

from __future__ import annotations

import importlib
import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest.parsing import SHARED_LOAD_COLUMN, NativeMember, NativeStaged, ParseContext
from ingest.platforms import registry
from ingest.staging import QUARANTINE_FILE, StagedEntity, staged_rows_sql
from tests.conftest import context
from tests.perf.test_native_equivalence import _quarantine, _rows

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
import gen

OBSERVED = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)

# pages of every shape the per-file equivalence tests cover, in one group
EDGE_VIDEOS: list[list[Any]] = [
    [],
    [{"id": 1, "username": "a", "create_time": None, "video_description": None}],
    [{"id": 1, "username": "a"}, {"id": 2, "username": "b", "view_count": None}],
    [{"id": 1, "username": "a", "view_count": 5}, {"id": 1, "username": "a", "view_count": 6}],
    [{"id": 2**64 - 1, "username": "a", "video_duration": 2**31 - 1}],
    [{"id": 3, "username": "a", "video_duration": 2**31}],
    [{"id": 4, "username": "ü", "video_description": 'caf\u00e9 "q" \\ \n'}],
    [{"id": 5, "username": "a", "create_time": 1104537600}],
    [{"id": 6, "username": "", "create_time": 1104537599}],
    [5, {"id": 7, "username": "a"}],
    [{"id": 8, "username": "a", "like_count": 9, "view_count": 3, "share_count": "2"}],
]
ODD_DOCUMENTS = [
    '{"data": {"videos": null}, "error": {"code": "ok"}}',
    '{"data": {"videos": []}, "error": {"code": "rate_limit_exceeded", "message": "slow"}}',
    '{"data": {"videos": [{"id": 1, "username": "a"}]}}\n{"data": {"videos": []}}',
    '\ufeff{"data": {"videos": [{"id": 9, "username": "a"}]}, "error": {"code": "ok"}}',
    # what DuckDB reads and the reference refuses: each is left to it, the group stages on
    '{"data": {"videos": [{"id": 10, "username": "a"},]}, "error": {"code": "ok"}}',
    '{"data": {"videos": [{"id": 11, "username": "a", "x": {"b": 1, "b": 2}}]}, "error": null}',
    '{"data": {"videos": [{"id": 12, "username": "a", "x": nan}]}, "error": {"code": "ok"}}',
    '{"data": {"videos": [{"id": 13, "username": "a"}]}, "error": {"code": "ok"}',
]


def _summary(staged: NativeStaged | None, folder: Path, load_id: str = "") -> dict[str, Any] | None:
    if staged is None:
        return None
    return {
        "rows_read": staged.rows_read,
        "rows_quarantined": staged.rows_quarantined,
        "notes": staged.notes,
        "entities": {
            name: {"columns": e.columns, "rows": e.rows, "data": _entity_rows(load_id, e)}
            for name, e in staged.entities.items()
        },
        "quarantine": _quarantine(folder / QUARANTINE_FILE, staged.rows_quarantined),
    }


def _entity_rows(load_id: str, staged: StagedEntity) -> list[tuple[Any, ...]]:
    """A batch's staged rows, in the order it staged them, from its own file or its pass's."""
    if not staged.shared:
        return _rows(staged.path)
    rows, params = staged_rows_sql([(load_id, staged)])
    conn = duckdb.connect()
    try:
        conn.execute("set TimeZone = 'UTC'")
        return conn.execute(
            f"select * exclude ({SHARED_LOAD_COLUMN}, file_row_number) from ({rows}) order by all",
            params,
        ).fetchall()
    finally:
        conn.close()


def _pages(folder: Path) -> list[tuple[Path, ParseContext]]:
    folder.mkdir(parents=True)
    pages: list[tuple[Path, ParseContext]] = []
    for number, videos in enumerate(EDGE_VIDEOS):
        path = folder / f"edge{number}.json"
        path.write_text(json.dumps({"data": {"videos": videos}, "error": {"code": "ok"}}))
        account = "fallback_user" if number % 2 else None
        pages.append((path, context("tiktok", path.name, account=account, observed_at=OBSERVED)))
    for number, text in enumerate(ODD_DOCUMENTS):
        path = folder / f"odd{number}.json"
        path.write_text(text, encoding="utf-8")
        pages.append((path, context("tiktok", path.name, observed_at=OBSERVED)))
    generated = gen.tiktok_pages(
        folder / "gen", rows=600, page_rows=100, bad_every=9, duplicate_every=31
    )
    for number, path in enumerate(generated):
        # pages of several days and accounts: what a page's rows are held to is its own
        ctx = context(
            "tiktok",
            path.name,
            account=["someone", None, "   "][number % 3],
            day=date(2026, 9, 1) - timedelta(days=number % 2),
            observed_at=OBSERVED - timedelta(days=number % 2),
        )
        pages.append((path, ctx))
    # a day no platform existed on: every row fails, so the stager leaves the page alone
    early = folder / "early.json"
    early.write_text(json.dumps({"data": {"videos": [{"id": 1, "username": "a"}]}}))
    pages.append((early, context("tiktok", early.name, day=date(2004, 12, 31))))
    return pages


def _group_matches_alone(
    tmp_path: Path,
    platform: str,
    name: str,
    pages: list[tuple[Path, ParseContext]],
    *,
    shared: bool,
) -> list[dict[str, Any] | None]:
    """Stage the pages alone and as one group; each page's outcome must be the same.

    ``shared``: the group writes its rows to one file per entity in a pass folder, as
    ``stage_group`` has it, instead of into each page's batch folder."""
    fmt = registry((platform,)).get(platform, name, "x")
    assert fmt.native is not None and fmt.native_group is not None
    alone = []
    for number, (path, ctx) in enumerate(pages):
        folder = tmp_path / "alone" / str(number)
        folder.mkdir(parents=True)
        alone.append(_summary(fmt.native(path, ctx, folder), folder))
    pass_folder = tmp_path / "pass" if shared else None
    members = [
        NativeMember(path, ctx, tmp_path / "group" / str(number), f"load{number}", pass_folder)
        for number, (path, ctx) in enumerate(pages)
    ]
    for member in members:
        member.folder.mkdir(parents=True)
    if pass_folder is not None:
        pass_folder.mkdir()
    grouped = fmt.native_group(members)
    assert len(grouped) == len(members)
    together = [_summary(s, m.folder, m.load_id) for s, m in zip(grouped, members, strict=True)]
    entities = [e for s in grouped if s is not None for e in s.entities.values()]
    # shared: pages' rows are in the pass's files (but a page's that repeats a key)
    assert any(e.shared for e in entities) is shared
    assert all(Path(e.path).parent == pass_folder for e in entities if e.shared)
    for number, (path, _) in enumerate(pages):
        assert together[number] == alone[number], path.name
    # each batch folder holds the files it holds alone, and nothing of the group's own work
    for number in range(len(pages)):
        names = {
            label: sorted(p.name for p in (tmp_path / label / str(number)).iterdir())
            for label in ("alone", "group")
        }
        if shared:
            names["alone"] = [n for n in names["alone"] if not n.endswith(".parquet")]
            names["group"] = [n for n in names["group"] if not n.endswith(".parquet")]
        assert names["group"] == names["alone"], pages[number][0].name
    return together


@pytest.mark.parametrize("shared", [False, True], ids=["own files", "shared files"])
def test_a_group_stages_each_page_as_it_would_be_staged_alone(tmp_path: Path, shared: bool) -> None:
    pages = _pages(tmp_path / "in")
    together = _group_matches_alone(
        tmp_path, "tiktok", "research_video_query", pages, shared=shared
    )
    # the group really staged most pages natively, bad rows and duplicates included
    staged = [s for s in together if s is not None]
    assert len(staged) >= len(pages) - 10
    assert sum(s["rows_quarantined"] for s in staged) > 20


@pytest.mark.parametrize("shared", [False, True], ids=["own files", "shared files"])
def test_a_youtube_group_stages_each_page_as_it_would_be_staged_alone(
    tmp_path: Path, shared: bool
) -> None:
    from tests.perf.test_native_equivalence import VIDEO_ITEMS, _video

    folder = tmp_path / "in"
    folder.mkdir()
    pages = []
    for number, (case, items) in enumerate(VIDEO_ITEMS.items()):
        if "surrogate" in case:
            continue  # not writable as UTF-8; its own test covers it
        doc = {"kind": "youtube#videoListResponse", "items": [_video(), *items, _video()]}
        path = folder / f"case{number}.json"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        day = date(2026, 9, 1) - timedelta(days=number % 2)
        observed = OBSERVED - timedelta(days=number % 2)
        pages.append((path, context("youtube", path.name, day=day, observed_at=observed)))
    trailing = folder / "trailing.json"
    trailing.write_text('{"kind": "youtube#videoListResponse", "items": [],}')
    pages.append((trailing, context("youtube", trailing.name, observed_at=OBSERVED)))
    # pages as the API gives them, no key twice in one: what a pass shares a file for
    for path in gen.youtube_videos_pages(folder / "gen", rows=150, page_items=50, channels=3):
        pages.append((path, context("youtube", path.name, observed_at=OBSERVED)))
    together = _group_matches_alone(tmp_path, "youtube", "videos_list", pages, shared=shared)
    assert sum(s is not None for s in together) >= len(pages) // 2


def test_a_page_duckdb_cannot_read_is_left_alone_and_the_others_still_stage(
    tmp_path: Path,
) -> None:
    fmt = registry(("tiktok",)).get("tiktok", "research_video_query", "x")
    assert fmt.native_group is not None
    pages = []
    for number in range(5):
        path = tmp_path / f"good{number}.json"
        path.write_text(json.dumps({"data": {"videos": [{"id": number, "username": "a"}]}}))
        pages.append(path)
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": {"videos": [{"id": 1, "username": "a"}]')
    pages.insert(3, broken)
    members = []
    for path in pages:
        folder = tmp_path / path.stem
        folder.mkdir()
        members.append(NativeMember(path, context("tiktok", path.name), folder))
    staged = fmt.native_group(members)
    assert [s is not None for s in staged] == [True, True, True, False, True, True]
    assert [s.rows_read for s in staged if s is not None] == [1] * 5


@pytest.mark.parametrize(
    ("platform", "name", "module", "one_pass", "page"),
    [
        (
            "tiktok",
            "research_video_query",
            "ingest.platforms.tiktok.stagers",
            "_stage_pages",
            {"data": {"videos": [{"id": 1, "username": "a"}]}, "error": {"code": "ok"}},
        ),
        (
            "youtube",
            "videos_list",
            "ingest.platforms.youtube.stagers",
            "_stage_lists",
            {"kind": "youtube#videoListResponse", "items": []},
        ),
    ],
)
def test_a_page_that_is_not_json_costs_the_group_no_extra_pass(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    platform: str,
    name: str,
    module: str,
    one_pass: str,
    page: dict[str, Any],
) -> None:
    """The page is declined within the pass; the group is not halved around it."""
    stagers = importlib.import_module(module)
    passes: list[int] = []
    original = getattr(stagers, one_pass)

    def counted(candidates: Any) -> Any:
        passes.append(len(candidates))
        return original(candidates)

    monkeypatch.setattr(stagers, one_pass, counted)
    fmt = registry((platform,)).get(platform, name, "x")
    assert fmt.native_group is not None
    members = []
    for number in range(4):
        path = tmp_path / f"page{number}.json"
        path.write_text("not json {" if number == 2 else json.dumps(page))
        folder = tmp_path / f"batch{number}"
        folder.mkdir()
        members.append(
            NativeMember(path, context(platform, path.name, observed_at=OBSERVED), folder)
        )
    staged = fmt.native_group(members)
    assert [s is not None for s in staged] == [True, True, False, True]
    assert passes == [4]
