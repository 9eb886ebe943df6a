"""Staging reuses one in-memory DuckDB connection per thread; nothing leaks between files."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ingest.parsing import Format
from ingest.platforms import registry
from ingest.staging import QUARANTINE_SCHEMA, scratch, stage, write_quarantine
from tests.conftest import FIXTURES, context
from tests.perf.test_native_equivalence import _summary

OBSERVED = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)


def _inputs() -> list[tuple[Path, Format, str | None]]:
    tiktok = registry(("tiktok",)).get("tiktok", "research_video_query", "test")
    studio = registry(("youtube",)).get("youtube", "studio_zip", "test")
    zips = sorted((FIXTURES / "youtube").glob("Content*.zip"))
    return [
        (FIXTURES / "tiktok" / "research_video_query.json", tiktok, None),
        *((path, studio, "UCfixture") for path in zips),
    ]


def _stage_all(root: Path, label: str) -> list[dict[str, Any]]:
    out = []
    for index, (path, fmt, account) in enumerate(_inputs()):
        ctx = context(fmt.platform, path.name, account=account, observed_at=OBSERVED)
        batch = stage(
            path, fmt, ctx, staging_root=root / label, load_id=f"L{index}", source_sha256="x"
        )
        out.append(_summary(batch))
    return out


def _temp_objects() -> list[str]:
    with scratch() as conn:
        rows = conn.execute(
            "select table_name from duckdb_tables() where temporary"
            " union all select view_name from duckdb_views() where temporary and not internal"
        ).fetchall()
    return [str(row[0]) for row in rows]


def test_no_temp_tables_left_after_staging(tmp_path: Path) -> None:
    first = _stage_all(tmp_path, "a")
    assert _temp_objects() == []
    assert _stage_all(tmp_path, "b") == first
    assert _temp_objects() == []


def test_threads_stage_like_one_thread(tmp_path: Path) -> None:
    expected = _stage_all(tmp_path, "serial")
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda n: _stage_all(tmp_path, f"t{n}"), range(3)))
    assert all(result == expected for result in results)


def test_a_quarantine_file_is_written_only_for_rows(tmp_path: Path) -> None:
    # most API pages quarantine nothing: their batch has no quarantine file to write or read
    reject = {"line": 3, "field": "views", "reason": "r", "raw": "{}"}
    for number, rows in enumerate(([], [reject])):
        path = tmp_path / f"quarantine{number}.parquet"
        write_quarantine(rows, path)
        assert path.exists() == bool(rows)
        if rows:
            assert pq.read_table(path).to_pylist() == rows
            assert pq.read_table(path).schema == QUARANTINE_SCHEMA
