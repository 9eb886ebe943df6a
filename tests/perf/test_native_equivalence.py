"""The native (DuckDB) stagers give exactly the staged rows, rejects and counts of the parsers."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest.errors import ParseError
from ingest.parsing import Format, ParseContext
from ingest.platforms import registry
from ingest.staging import StagedBatch, stage
from tests.conftest import FIXTURES, context

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
import gen

OBSERVED = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)


def _format(platform: str, name: str) -> Format:
    fmt = registry((platform,)).get(platform, name)
    assert fmt.native is not None, f"{platform}/{name} has no native stager"
    return fmt


def _rows(path: str) -> list[tuple[Any, ...]]:
    conn = duckdb.connect()
    try:
        conn.execute("set TimeZone = 'UTC'")
        return conn.execute(f"select * from read_parquet('{path}') order by all").fetchall()
    finally:
        conn.close()


def _summary(batch: StagedBatch) -> dict[str, Any]:
    return {
        "rows_read": batch.rows_read,
        "rows_quarantined": batch.rows_quarantined,
        "rows_loaded": batch.rows_loaded,
        "notes": batch.notes,
        "entities": {
            name: {"columns": e.columns, "rows": e.rows, "data": _rows(e.path)}
            for name, e in batch.entities.items()
        },
        "quarantine": _rows(batch.quarantine_path),
    }


def _both(tmp_path: Path, path: Path, fmt: Format, ctx: ParseContext) -> dict[str, Any]:
    """Stage a file natively and with the reference parser; return the native summary."""
    reference_fmt = dataclasses.replace(fmt, native=None)
    outcomes = []
    for label, chosen in (("native", fmt), ("reference", reference_fmt)):
        try:
            batch = stage(
                path, chosen, ctx, staging_root=tmp_path / label, load_id="L", source_sha256="x"
            )
            outcomes.append(_summary(batch))
        except ParseError as exc:
            outcomes.append({"error": str(exc)})
    native, reference = outcomes
    assert native == reference
    return native


def _uses_native(tmp_path: Path, path: Path, fmt: Format, ctx: ParseContext) -> bool:
    assert fmt.native is not None
    folder = tmp_path / "probe"
    folder.mkdir(exist_ok=True)
    return fmt.native(path, ctx, folder) is not None


# ---- TikTok Research API video/query


def test_tiktok_fixture(tmp_path: Path) -> None:
    fmt = _format("tiktok", "research_video_query")
    path = FIXTURES / "tiktok" / "research_video_query.json"
    ctx = context("tiktok", path.name)
    assert _uses_native(tmp_path, path, fmt, ctx)
    summary = _both(tmp_path, path, fmt, ctx)
    assert summary["rows_read"] == 3 and summary["rows_quarantined"] == 1


def test_every_tiktok_fixture_detected_as_video_query(tmp_path: Path) -> None:
    fmt = _format("tiktok", "research_video_query")
    for path in sorted((FIXTURES / "tiktok").iterdir()):
        if fmt.sniff(_sample(path)):
            _both(tmp_path / path.stem, path, fmt, context("tiktok", path.name))


def _sample(path: Path) -> Any:
    from ingest.parsing import take_sample

    return take_sample(path)


@pytest.mark.parametrize("account", [None, "fallback_user", "   "])
def test_tiktok_generated_with_bad_rows(tmp_path: Path, account: str | None) -> None:
    fmt = _format("tiktok", "research_video_query")
    pages = gen.tiktok_pages(
        tmp_path / "in", rows=3_000, page_rows=1_500, bad_every=9, duplicate_every=31
    )
    for page in pages:
        ctx = context("tiktok", page.name, account=account, observed_at=OBSERVED)
        assert _uses_native(tmp_path, page, fmt, ctx)
        summary = _both(tmp_path / page.stem, page, fmt, ctx)
        # the injected rows really reach quarantine, and 19-digit ids survive exactly
        assert summary["rows_quarantined"] > 50
        ids = {row[1] for row in summary["entities"]["posts"]["data"]}
        assert str(gen.VIDEO_ID_BASE + 7) in ids or str(gen.VIDEO_ID_BASE + 1507 * 7) in ids


def _page(tmp_path: Path, videos: list[Any], **extra: Any) -> Path:
    doc = {"data": {"videos": videos, "cursor": 1, "has_more": False}, "error": {"code": "ok"}}
    doc.update(extra)
    path = tmp_path / "page.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    "videos",
    [
        [],
        [{"id": 1, "username": "a", "create_time": None, "video_description": None}],
        [{"id": 1, "username": "a"}, {"id": 2, "username": "b", "view_count": None}],
        [{"id": 1, "username": "a", "view_count": 5}, {"id": 1, "username": "a", "view_count": 6}],
        [{"id": 2**64 - 1, "username": "a", "video_duration": 2**31 - 1}],
        [{"id": 3, "username": "a", "video_duration": 2**31}],
        [{"id": 4, "username": "ü", "video_description": 'caf\u00e9 "q" \\ \n'}],
        [{"id": 5, "username": "a", "create_time": 1104537600}],
        [{"id": 6, "username": "a", "create_time": 1104537599}],
        [5, {"id": 7, "username": "a"}],
    ],
)
def test_tiktok_edge_pages(tmp_path: Path, videos: list[Any]) -> None:
    fmt = _format("tiktok", "research_video_query")
    path = _page(tmp_path, videos)
    _both(tmp_path, path, fmt, context("tiktok", path.name, observed_at=OBSERVED))


@pytest.mark.parametrize(
    "text",
    [
        '{"data": {"videos": null}, "error": {"code": "ok"}}',
        '{"data": {"cursor": 0}, "error": {"code": "ok"}}',
        '{"data": {"videos": [{"id": 1, "id": 2, "username": "a"}]}, "error": {"code": "ok"}}',
        '{"data": {"videos": []}, "error": {"code": "rate_limit_exceeded", "message": "slow"}}',
        '{"data": {"videos": []}, "error": "invalid_grant"}',
        '[{"data": {"videos": []}}]',
        '{"data": {"videos": [{"id": 1, "username": "a"}]}}\n{"data": {"videos": []}}',
        '\ufeff{"data": {"videos": [{"id": 1, "username": "a"}]}, "error": {"code": "ok"}}',
        "",
    ],
)
def test_tiktok_odd_documents(tmp_path: Path, text: str) -> None:
    fmt = _format("tiktok", "research_video_query")
    path = tmp_path / "page.json"
    path.write_text(text, encoding="utf-8")
    _both(tmp_path, path, fmt, context("tiktok", path.name, observed_at=OBSERVED))


def test_tiktok_day_out_of_range(tmp_path: Path) -> None:
    fmt = _format("tiktok", "research_video_query")
    path = _page(tmp_path, [{"id": 1, "username": "a"}])
    ctx = context("tiktok", path.name, day=date(2004, 12, 31), observed_at=OBSERVED)
    summary = _both(tmp_path, path, fmt, ctx)
    assert summary["rows_quarantined"] == 1
