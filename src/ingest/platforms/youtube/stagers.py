"""The native (DuckDB) stagers of YouTube: Data API ``videos.list`` pages and a Studio export's
``Table data.csv``.

See ``ingest.native`` for how a native stager and the reference parser share the work; the
statements are in this package's ``sql/`` folder.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time
from functools import partial
from pathlib import Path

import duckdb

from ingest.archives import open_zip
from ingest.coerce import INT64_MAX
from ingest.csvfiles import FIELD_LIMIT, csv_layout, read_csv
from ingest.errors import ParseError
from ingest.model import ENTITIES
from ingest.native import (
    INT32_LIMIT,
    MEMBER_COLUMN,
    GroupMember,
    Plans,
    copy_checked,
    given_members,
    merge_references,
    readable_page,
    reference_rows,
    select_list,
    stage_by_halves,
    write_staged,
    write_staged_group,
)
from ingest.parsing import Item, NativeMember, NativeStaged, Note, ParseContext, guarded
from ingest.platforms.youtube import exports
from ingest.platforms.youtube import settings as s
from ingest.sqlfiles import quote_identifier, run_package_sql
from ingest.staging import EARLIEST_DAY, FUTURE_SKEW, encodable, record_groups, scratch

# a Table data header -> the column of ``studio_fields`` holding its cells
_TEXT_CELLS = {
    "Content": "content",
    "Video title": "video_title",
    "Video publish time": "publish_time",
    "Duration": "duration",
    **{name: f"{column}_cell" for column, name in s.STUDIO_POST_METRICS.items()},
}


# runs a statement of this package's sql/ folder: _run(conn, name, params)
_run = partial(run_package_sql, __package__ or __name__)

# Python's JSON decoder fails past about 1,000 levels of nesting, fewer the deeper the stack
# it is called from; an API page nests 6 deep, and a deeper file is left to the reference
_MAX_NATIVE_DEPTH = 100
_POST_COLUMNS = (
    "platform",
    "post_id",
    "account_id",
    "published_at",
    "caption",
    "media_type",
    "permalink",
    "duration_seconds",
)
_DAILY_COLUMNS = (
    "platform",
    "post_id",
    "account_id",
    "day",
    "published_at",
    "views",
    "likes",
    "comments",
    "likes_hidden",
)


def stage_videos_list(path: Path, ctx: ParseContext, folder: Path) -> NativeStaged | None:
    """Data API ``videos.list`` pages through DuckDB; see ``ingest.native``.

    A page is left to the reference parser (``None``) when DuckDB would read it more
    laxly than ``parsing.decode_json`` does (see ``sql/videos_list_items.sql``), including
    a key repeated in an object the row builder reads. A key repeated deeper, inside an
    object no column is read from (``snippet.thumbnails``), is not looked for: the
    reference refuses such a file, this stager loads it. The API never writes one.
    """
    return stage_videos_lists([NativeMember(path, ctx, folder)])[0]


def stage_videos_lists(members: Sequence[NativeMember]) -> list[NativeStaged | None]:
    """Many ``videos.list`` pages in one pass: per page what ``stage_videos_list`` gives
    (``ingest.native.stage_by_halves``)."""
    return stage_by_halves(members, readable_page, _stage_lists)


def _stage_lists(candidates: dict[int, NativeMember]) -> dict[int, NativeStaged] | None:
    """The pages staged natively, by member number; None when DuckDB cannot read them all."""
    paths = [str(m.path) for m in candidates.values()]
    with scratch() as conn:
        try:
            with given_members(
                conn,
                {
                    "path": paths,
                    "member": list(candidates),
                    "day": [m.ctx.day for m in candidates.values()],
                    "latest": [m.ctx.observed_at + FUTURE_SKEW for m in candidates.values()],
                },
            ):
                _run(conn, "videos_list_members")
            _run(
                conn,
                "videos_list_items",
                {
                    "paths": paths,
                    "kind": s.VIDEO_LIST_KIND,
                    "max_depth": _MAX_NATIVE_DEPTH,
                    "earliest": datetime.combine(EARLIEST_DAY, time(), UTC),
                    "int32_max": INT32_LIMIT - 1,
                    "int64_max": INT64_MAX,
                    "platform": s.PLATFORM,
                    "watch_url": s.WATCH_URL,
                },
            )
            found = _run(conn, "videos_list_odd").fetchall()
        except duckdb.Error:
            return None
        # per page: its own row first, then the items left to the reference row builder
        by_page: dict[int, list[tuple[int, int, bool]]] = {}
        for member, line, items_read, refused in found:
            by_page.setdefault(int(member), []).append((int(line), int(items_read or 0), refused))
        group: dict[int, GroupMember] = {}
        for number, rows in by_page.items():
            if rows[0][0] != 0 or any(refused for *_, refused in rows):
                continue
            member = candidates[number]
            odd = {line for line, _, _ in rows[1:]}
            group[number] = GroupMember(
                member=member,
                rows_read=rows[0][1],
                columns={"posts": set(_POST_COLUMNS), "post_daily": set(_DAILY_COLUMNS)},
                reference=reference_rows(
                    _odd_videos(member.path, member.ctx, odd), member.ctx.observed_at
                ),
            )
        posts = {c: c for c in _POST_COLUMNS}
        daily = {c: c for c in _DAILY_COLUMNS}
        member_column = f"member as {MEMBER_COLUMN}"
        plans = {
            "posts": f"select {select_list(ENTITIES['posts'], posts)}, {member_column}"
            " from yt_items where clean",
            "post_daily": f"select {select_list(ENTITIES['post_daily'], daily)}, {member_column}"
            " from yt_items where clean and has_statistics",
        }
        return write_staged_group(conn, plans, group)


def _odd_videos(path: Path, ctx: ParseContext, lines: set[int]) -> Iterator[Item]:
    """The reference rows of the items at ``lines`` (numbered from 1)."""
    if not lines:
        return
    for index, item in exports.list_items(path, ctx, s.VIDEO_LIST_KIND):
        if index in lines:
            yield from guarded(index, item, partial(exports.video_rows, item, ctx))


def stage_studio_zip(path: Path, ctx: ParseContext, folder: Path) -> NativeStaged | None:
    """A Studio export's ``Table data.csv`` through DuckDB's ``read_csv``.

    The member is streamed out of the archive (with the archive's limits) into the batch
    folder, checked on the way (strict UTF-8, no NUL, its physical lines counted), and read
    with every cell as text. Rows whose cells have the plain shape Studio writes (a video id,
    ``Sep 2, 2026``, ``1:08:43``, ``1234`` or ``1,234``) are typed in SQL; any other row goes
    to ``exports.studio_row``, the reference builder, as do ``Totals.csv`` rows. A file whose
    rows are not one per line (quoted line breaks, blank lines), or that DuckDB reads
    differently in any way it can notice, is left to the reference parser: ``None``.
    """
    account = ctx.account
    if not account or not encodable(account):
        return None
    day = exports.studio_day(ctx)
    latest = ctx.observed_at + FUTURE_SKEW
    if not EARLIEST_DAY <= day <= latest.date():
        return None
    table = folder / "table.native.csv"
    try:
        try:
            with open_zip(path, ctx.source) as archive:
                names = {n.rsplit("/", 1)[-1]: n for n in archive.names()}
                if s.STUDIO_TABLE not in names:
                    return None
                with archive.open(names[s.STUDIO_TABLE]) as member:
                    copied = copy_checked(member, table)
                if copied is None:
                    return None
                lines, head = copied
                totals: list[Item] = []
                if s.STUDIO_TOTALS in names:
                    with archive.open(names[s.STUDIO_TOTALS]) as stream:
                        where = f"{ctx.source}!{s.STUDIO_TOTALS}"
                        totals = list(exports.studio_totals(stream, where, ctx))
            with table.open("rb") as handle:
                source = f"{ctx.source}!{s.STUDIO_TABLE}"
                header, _ = read_csv(handle, source, required=("Content", "Views"))
        except ParseError:
            return None  # the reference parser raises it again, with the same message
        layout = csv_layout(head)
        first_line = head.splitlines()[0] if head else b""
        if (
            layout is None
            or layout.encoding not in ("utf-8", "utf-8-sig")
            or layout.header_index != 0
            or b'"' in first_line
            or len(first_line) >= len(head)  # the header line is longer than the sample
        ):
            return None
        notes = []
        unknown = exports.studio_unknown_columns(header)
        if unknown:
            notes.append(f"{source}: columns not used: {', '.join(unknown)}")
        with scratch() as conn:
            return _studio_table(
                conn, table, header, layout.delimiter, lines, totals, ctx, day, folder, notes
            )
    finally:
        table.unlink(missing_ok=True)


def _fields_view(header: list[str], cells: list[str]) -> str:
    """The view naming the cells the stager reads (a column the header lacks is null), beside
    every cell as read (``c0``, ``c1``, ...)."""
    column = dict(zip(header, cells, strict=True))
    picked = [
        f"{quote_identifier(column[name]) if name in column else 'cast(null as varchar)'}"
        f" as {quote_identifier(field)}"
        for name, field in _TEXT_CELLS.items()
    ]
    return (
        "create temp view studio_fields as select rowid + 2 as line, "
        + ", ".join(picked)
        + ", * from studio_cells"
    )


def _studio_table(
    conn: duckdb.DuckDBPyConnection,
    table: Path,
    header: list[str],
    delimiter: str,
    lines: int,
    totals: list[Item],
    ctx: ParseContext,
    day: date,
    folder: Path,
    notes: list[str],
) -> NativeStaged | None:
    cells = [f"c{i}" for i in range(len(header))]
    try:
        _run(
            conn,
            "studio_cells",
            {
                "path": str(table),
                "delimiter": delimiter,
                "columns": dict.fromkeys(cells, "VARCHAR"),
            },
        )
    except duckdb.Error:
        return None
    conn.execute(_fields_view(header, cells))
    shape = _run(conn, "studio_shape").fetchone()
    assert shape is not None
    rows, blank, odd_total, total_lines = shape
    # one row per physical line after the header, none of them blank, no " Total" to strip
    if lines != rows + 1 or blank or odd_total:
        return None
    if table.stat().st_size > FIELD_LIMIT:
        # the reference refuses a file with a cell this long
        lengths = _run(conn, "studio_longest").fetchone() or ()
        longest = max((n for n in lengths if n is not None), default=None)
        if longest is None or longest > FIELD_LIMIT:
            return None
    _run(
        conn,
        "studio_table",
        {
            "earliest": EARLIEST_DAY,
            "latest": ctx.observed_at + FUTURE_SKEW,
            "int32_limit": INT32_LIMIT,
            "total_lines": total_lines,
            "platform": s.PLATFORM,
            "account": ctx.account,
            "day": day,
        },
    )
    _run(conn, "studio_good")
    counted = _run(conn, "studio_counted").fetchone()
    assert counted is not None
    table_records = int(counted[0])
    odd = _run(conn, "studio_odd").fetchall()
    records = {line: record for line, record, *_ in odd}

    def odd_items() -> Iterator[Item]:
        for line, _, *values in odd:
            raw = ["" if v is None else v for v in values]
            named = {name: raw[i] for i, name in enumerate(header)}
            yield from exports.studio_row(line, named, raw, header, ctx.account, day)

    table_ref = reference_rows(odd_items(), ctx.observed_at, lambda line, _: records[line])
    totals_read = sum(1 for group in record_groups(totals) if not isinstance(group[0], Note))
    totals_ref = reference_rows(totals, ctx.observed_at, lambda _, index: table_records + index + 1)
    post_cols = {
        c: c
        for c in (
            "platform",
            "post_id",
            "account_id",
            "caption",
            "media_type",
            "permalink",
            "published_at",
        )
    }
    post_columns = set(post_cols) - {"published_at"}
    if counted[1]:
        post_columns.add("published_at")
    if "Duration" in header:
        post_cols["duration_seconds"] = "duration_seconds"
        post_columns.add("duration_seconds")
    metrics = [col for col, name in s.STUDIO_POST_METRICS.items() if name in header]
    daily_cols = {c: c for c in ("platform", "post_id", "account_id", "day", *metrics)}
    plans: Plans = {
        "posts": (
            f"select {select_list(ENTITIES['posts'], post_cols, 'record')} from studio_good",
            post_columns,
        ),
        "post_daily": (
            f"select {select_list(ENTITIES['post_daily'], daily_cols, 'record')} from studio_good",
            set(daily_cols),
        ),
    }
    reference = merge_references(table_ref, totals_ref)
    return write_staged(conn, folder, plans, reference, table_records + totals_read, notes)
