"""The native (DuckDB) stager of Research API ``video/query`` pages.

See ``ingest.native`` for how a native stager and the reference parser share the work; the
statements are in this package's ``sql/`` folder.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, time
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ingest.coerce import INT64_MAX
from ingest.model import ENTITIES
from ingest.native import (
    INT32_LIMIT,
    MEMBER_COLUMN,
    GroupMember,
    given_members,
    readable_page,
    reference_rows,
    select_list,
    stage_by_halves,
    write_staged_group,
)
from ingest.parsing import (
    Item,
    NativeMember,
    NativeStaged,
    ParseContext,
    RowError,
    guarded,
    require,
)
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

# Python's JSON decoder fails past about 1,000 levels of nesting, fewer the deeper the stack
# it is called from; a page nests 6 deep, and a deeper one is left to the reference
_MAX_NATIVE_DEPTH = 100


def _usable_account(account: str | None) -> str | None:
    try:
        return str(require(account, "username")) if account else None
    except RowError:
        return None


def stage_video_query(path: Path, ctx: ParseContext, folder: Path) -> NativeStaged | None:
    """Research API ``video/query`` pages through DuckDB; see ``ingest.native``.

    A page is left to the reference parser (``None``) when DuckDB would read it more laxly
    than ``parsing.decode_json`` does (see ``sql/research_video_pages.sql``): a comma before a
    closing bracket, NaN or Infinity spelled otherwise than Python's, a key twice in any
    object, nesting past ``_MAX_NATIVE_DEPTH``, an escaped bracket, text that is not strict
    UTF-8. Repeated keys are looked for in every object holding keys: the page's, ``data``'s,
    ``error``'s, each video's, its members' values' and their elements'
    (``sql/research_video_videos.sql``). The objects are counted by their braces, so a page
    holding an object with keys anywhere else (deeper in a video, or outside the videos) is
    left to the reference, as is one with a brace inside a string outside the videos; so is
    a page with a video that is neither an object nor null.
    """
    return stage_video_queries([NativeMember(path, ctx, folder)])[0]


def stage_video_queries(members: Sequence[NativeMember]) -> list[NativeStaged | None]:
    """Many ``video/query`` pages in one DuckDB pass: per page what ``stage_video_query`` gives
    (``ingest.native.stage_by_halves``)."""
    return stage_by_halves(members, readable_page, _stage_pages)


def _stage_pages(candidates: dict[int, NativeMember]) -> dict[int, NativeStaged] | None:
    """The pages DuckDB reads natively, by member number; None when it cannot read them all."""
    paths = [str(m.path) for m in candidates.values()]
    with scratch() as conn:
        try:
            with given_members(
                conn,
                {
                    "path": paths,
                    "member": list(candidates),
                    "account": pa.array(
                        [_usable_account(m.ctx.account) for m in candidates.values()], pa.string()
                    ),
                    "day": [m.ctx.day for m in candidates.values()],
                    "latest": [
                        int((m.ctx.observed_at + FUTURE_SKEW).timestamp())
                        for m in candidates.values()
                    ],
                },
            ):
                _run(conn, "research_video_members")
            _run(conn, "research_video_pages", {"paths": paths, "error_ok": s.ERROR_OK})
        except duckdb.Error:
            return None
        usable = [int(row[0]) for row in _run(conn, "research_video_head").fetchall()]
        if not usable:
            return {}
        rules = {
            "usable": usable,
            "earliest": int(datetime.combine(EARLIEST_DAY, time(), UTC).timestamp()),
            "int32_max": INT32_LIMIT - 1,
            "int64_max": INT64_MAX,
        }
        _run(conn, "research_video_videos", rules)
        # of those, the pages whose every object had its keys checked, not nested too deep
        checked = _run(
            conn, "research_video_checked", {"usable": usable, "max_depth": _MAX_NATIVE_DEPTH}
        )
        usable = [int(row[0]) for row in checked.fetchall()]
        if not usable:
            return {}
        _run(
            conn,
            "research_video_good",
            {"usable": usable, "platform": s.PLATFORM, "video_url": s.VIDEO_URL},
        )
        # one statement: per page the count, the lines left to the reference, the fields present
        counted = _run(conn, "research_video_count", {"usable": usable})
        names = [d[0] for d in counted.description or ()][3:]
        found = {int(row[0]): row for row in counted.fetchall()}
        present = _present(
            conn, {n: dict(zip(names, row[3:], strict=True)) for n, row in found.items()}
        )
        group: dict[int, GroupMember] = {}
        for number, row in found.items():
            member = candidates[number]
            odd: list[int] = row[2] or []
            group[number] = GroupMember(
                member=member,
                rows_read=int(row[1]),
                columns={e: set(c) for e, c in _provided(present[number]).items()},
                reference=reference_rows(
                    _reference_items(member.path, member.ctx, set(odd)), member.ctx.observed_at
                ),
            )
        # every column: a field a page lacks is null in its rows, and left out of its columns
        every_field = {*_OPTIONAL.values(), *s.RESEARCH_VIDEO_DAILY.values()}
        plans = {
            name: f"select {select_list(ENTITIES[name], columns)}, member as {MEMBER_COLUMN}"
            " from good"
            for name, columns in _provided(every_field).items()
        }
        return write_staged_group(conn, plans, group)


def _provided(present: set[str]) -> dict[str, dict[str, str]]:
    """Per entity, the canonical columns a page gives when its videos carry ``present``."""
    post_cols = {c: c for c in ("platform", "post_id", "account_id", "media_type", "permalink")}
    post_cols.update({c: c for c, f in _OPTIONAL.items() if f in present})
    daily_cols = {c: c for c in ("platform", "post_id", "account_id", "day")}
    if "create_time" in present:
        daily_cols["published_at"] = "published_at"
    daily_cols.update({c: c for c, f in s.RESEARCH_VIDEO_DAILY.items() if f in present})
    return {"posts": post_cols, "post_daily": daily_cols}


def _present(
    conn: duckdb.DuckDBPyConnection, with_value: dict[int, dict[str, Any]]
) -> dict[int, set[str]]:
    """Per page, the optional fields that some clean video carries, even where every value
    is null. ``with_value`` says per page and field whether some clean video gives it a value.
    """
    present = {n: {f for f, hit in fields.items() if hit} for n, fields in with_value.items()}
    lacking = [n for n, fields in with_value.items() if len(present[n]) < len(fields)]
    if lacking:
        keyed = _run(conn, "research_video_present", {"members": lacking})
        names = [d[0] for d in keyed.description or ()][1:]
        for row in keyed.fetchall():
            present[int(row[0])].update(n for n, hit in zip(names, row[1:], strict=True) if hit)
    return present


def _reference_items(path: Path, ctx: ParseContext, lines: set[int]) -> Iterator[Item]:
    if not lines:
        return
    for index, video in exports.page_videos(path, ctx):
        if index in lines:
            yield from guarded(index, video, partial(exports.research_video, video, ctx))
