"""The native (DuckDB) stager of Research API ``video/query`` pages.

See ``ingest.native`` for how a native stager and the reference parser share the work; the
statements are in this package's ``sql/`` folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time
from functools import partial
from pathlib import Path
from typing import Any

import duckdb

from ingest.coerce import INT64_MAX
from ingest.model import ENTITIES
from ingest.native import (
    INT32_LIMIT,
    MAX_DOCUMENT_BYTES,
    Plans,
    reference_rows,
    select_list,
    write_staged,
)
from ingest.parsing import Item, NativeStaged, ParseContext, RowError, guarded, require
from ingest.platforms.tiktok import exports
from ingest.platforms.tiktok import settings as s
from ingest.sqlfiles import run_package_sql
from ingest.staging import EARLIEST_DAY, FUTURE_SKEW, scratch

# the optional video fields: a column is staged only when some video carries its field
_OPTIONAL = {
    "published_at": "create_time",
    "caption": "video_description",
    "duration_seconds": "video_duration",
}


# runs a statement of this package's sql/ folder: _run(conn, name, params)
_run = partial(run_package_sql, __package__ or __name__)


def _usable_account(account: str | None) -> str | None:
    try:
        return str(require(account, "username")) if account else None
    except RowError:
        return None


def stage_video_query(path: Path, ctx: ParseContext, folder: Path) -> NativeStaged | None:
    """Research API ``video/query`` pages through DuckDB; see ``ingest.native``."""
    latest = ctx.observed_at + FUTURE_SKEW
    if not EARLIEST_DAY <= ctx.day <= latest.date():
        return None  # every row fails the day rule; the reference says so row by row
    size = path.stat().st_size
    if size == 0 or size > MAX_DOCUMENT_BYTES:
        return None
    source = {"path": str(path), "max_object_size": size + 1}
    with scratch() as conn:
        try:
            _run(conn, "research_video_pages", {**source, "error_ok": s.ERROR_OK})
            head = _run(conn, "research_video_head").fetchone()
        except duckdb.Error:
            return None  # not one well-formed v2 object: the reference parser explains why
        if head is None or head[0] != 1 or not head[1] or not head[2]:
            return None
        account = _usable_account(ctx.account)
        rules = {
            "has_account": account is not None,
            "earliest": int(datetime.combine(EARLIEST_DAY, time(), UTC).timestamp()),
            "latest": int(latest.timestamp()),
            "int32_max": INT32_LIMIT - 1,
            "int64_max": INT64_MAX,
        }
        _run(conn, "research_video_videos", rules)
        _run(
            conn,
            "research_video_good",
            {
                "has_account": account is not None,
                "account": account,
                "platform": s.PLATFORM,
                "day": ctx.day,
                "video_url": s.VIDEO_URL,
            },
        )
        # one statement: the count, the lines left to the reference, the fields present
        counted = _run(conn, "research_video_count")
        names = [d[0] for d in counted.description or ()][2:]
        found = counted.fetchone()
        assert found is not None
        rows_read = int(found[0])
        odd: list[int] = found[1] or []
        present = _present(conn, source, dict(zip(names, found[2:], strict=True)))
        post_cols = {c: c for c in ("platform", "post_id", "account_id", "media_type", "permalink")}
        post_cols.update({c: c for c, f in _OPTIONAL.items() if f in present})
        daily_cols = {c: c for c in ("platform", "post_id", "account_id", "day")}
        if "create_time" in present:
            daily_cols["published_at"] = "published_at"
        daily_cols.update({c: c for c, f in s.RESEARCH_VIDEO_DAILY.items() if f in present})
        plans: Plans = {
            "posts": (
                f"select {select_list(ENTITIES['posts'], post_cols)} from good",
                set(post_cols),
            ),
            "post_daily": (
                f"select {select_list(ENTITIES['post_daily'], daily_cols)} from good",
                set(daily_cols),
            ),
        }
        reference = reference_rows(_reference_items(path, ctx, set(odd)), ctx.observed_at)
        return write_staged(conn, folder, plans, reference, rows_read)


def _present(
    conn: duckdb.DuckDBPyConnection, source: dict[str, Any], with_value: dict[str, Any]
) -> set[str]:
    """The optional fields that some clean video carries, even where every value is null.

    ``with_value`` says per field whether some clean video gives it a value.
    """
    names = list(with_value)
    present = {n for n, hit in with_value.items() if hit}
    if len(present) < len(names):
        raw = _run(conn, "research_video_present_raw", source).fetchone()
        present.update(n for n, hit in zip(names, raw or (), strict=False) if hit)
    return present


def _reference_items(path: Path, ctx: ParseContext, lines: set[int]) -> Iterator[Item]:
    if not lines:
        return
    for index, video in exports.page_videos(path, ctx):
        if index in lines:
            yield from guarded(index, video, partial(exports.research_video, video, ctx))
