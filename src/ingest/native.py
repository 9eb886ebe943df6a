"""Native stagers: DuckDB parses high-volume formats, the Python parsers stay the reference.

A native stager reads a landed file with DuckDB (``read_json`` with every field typed ``JSON``,
so a value's JSON type is checked, never silently cast), keeps the rows whose every field has
the plain shape the platform sends (an integer count, a string name) and writes their canonical
columns to the staged Parquet with ``COPY``. A row of any other shape (a count as a string, a
float id, a timestamp in the future) is handed to the format's Python row builder and row rules,
so its result and its quarantine reason are the reference's by construction. A file DuckDB
cannot read the way the reference does (not one JSON object, an API error, duplicate keys) is
left to the Python parser entirely: the stager returns ``None``.

The equivalence of both paths is tested in ``tests/perf/test_native_equivalence.py``.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.archives import open_zip
from ingest.coerce import INT64_MAX
from ingest.csvfiles import FIELD_LIMIT, csv_layout, read_csv
from ingest.errors import ParseError
from ingest.limits import JSON_DOCUMENT_LIMIT
from ingest.model import ENTITIES, Entity
from ingest.parsing import Item, Note, ParseContext, Record, RowError, guarded, require
from ingest.staging import (
    EARLIEST_DAY,
    FUTURE_SKEW,
    LINE_COLUMN,
    QUARANTINE_SCHEMA,
    RECORD_COLUMN,
    RawEntity,
    StagedEntity,
    _encodable,
    _first_reject,
    _groups,
    arrow_schema,
    scratch,
    settle,
    sql_text,
)

# a json object larger than this is not an api page; the reference parser refuses it
MAX_DOCUMENT_BYTES = JSON_DOCUMENT_LIMIT
INT32_LIMIT = 2**31


@dataclass
class NativeStaged:
    """A native stager's result for ``staging.stage``: entities settled, quarantine written."""

    rows_read: int
    rows_quarantined: int
    entities: dict[str, StagedEntity]
    notes: list[str] = field(default_factory=list)


NativeStager = Callable[[Path, ParseContext, Path], NativeStaged | None]


_sql_text = sql_text


def _select_list(entity: Entity, provided: dict[str, str], record: str = "line") -> str:
    """Every column of the entity in model order, typed as staging writes them.

    ``record`` numbers the source records; in one JSON document, its lines do.
    """
    parts = []
    for column in entity.columns:
        expr = provided.get(column.name, "null")
        parts.append(f"cast({expr} as {column.sql_type}) as {column.name}")
    parts.append(f"cast(line as bigint) as {LINE_COLUMN}")
    parts.append(f"cast({record} as bigint) as {RECORD_COLUMN}")
    return ", ".join(parts)


Reference = tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]], dict[str, set[str]]]


def _reference_rows(
    items: Iterable[Item],
    observed_at: datetime,
    record: Callable[[int, int], int] = lambda line, index: line,
) -> Reference:
    """Run the reference row builder's items through the staging row rules.

    ``record(line, index)`` numbers the index-th source record (from 0), by default by its
    line: the records of one JSON document.
    """
    accepted: dict[str, list[dict[str, Any]]] = {}
    columns: dict[str, set[str]] = {}
    rejects: list[dict[str, Any]] = []
    index = -1
    for group in _groups(items):
        if isinstance(group[0], Note):
            continue
        index += 1
        rejected = _first_reject(group, observed_at)
        if rejected is not None:
            rejects.append(rejected)
            continue
        for item in group:
            assert isinstance(item, Record)
            columns.setdefault(item.entity, set()).update(item.values)
            accepted.setdefault(item.entity, []).append(
                {**item.values, LINE_COLUMN: item.line, RECORD_COLUMN: record(item.line, index)}
            )
    return accepted, rejects, columns


def _write(
    conn: duckdb.DuckDBPyConnection,
    folder: Path,
    plans: dict[str, tuple[str, set[str]]],
    reference: Reference,
    rows_read: int,
    notes: list[str] | None = None,
) -> NativeStaged:
    """Settle the native rows and the reference rows of each entity into the staged Parquet.

    The rows never pass through a raw file: each entity is a view over the native query and
    the reference rows, settled on the same connection (``staging.settle``), one ``COPY`` each.
    """
    accepted, rejects, ref_columns = reference
    parts: dict[str, RawEntity] = {}
    for name in [*plans, *(n for n in accepted if n not in plans)]:
        entity = ENTITIES[name]
        extra = accepted.get(name, [])
        query, columns = plans.get(name, ("", set()))
        sources = [query] if query else []
        if extra:
            conn.register("ref_rows", pa.Table.from_pylist(extra, schema=arrow_schema(entity)))
            conn.execute(f"create or replace temp table ref_{name} as select * from ref_rows")
            conn.unregister("ref_rows")
            sources.append(f"select * from ref_{name}")
        conn.execute(
            f"create or replace temp view raw_{name} as {' union all by name '.join(sources)}"
        )
        counted = conn.execute(f"select count(*) from raw_{name}").fetchone()
        if counted and counted[0]:
            parts[name] = RawEntity(entity, f"raw_{name}", columns | ref_columns.get(name, set()))
    entities, duplicates = settle(conn, folder, parts)
    pq.write_table(
        pa.Table.from_pylist(rejects + duplicates, schema=QUARANTINE_SCHEMA),
        folder / "quarantine.parquet",
    )
    return NativeStaged(
        rows_read=rows_read,
        rows_quarantined=len(rejects) + len(duplicates),
        entities=entities,
        notes=notes or [],
    )


# ---- TikTok Research API video/query


_TIKTOK_FIELDS = (
    "id",
    "create_time",
    "username",
    "video_description",
    "video_duration",
    "view_count",
    "like_count",
    "comment_count",
    "share_count",
    "favourites_count",
)


def _usable_account(account: str | None) -> str | None:
    try:
        return str(require(account, "username")) if account else None
    except RowError:
        return None


def stage_tiktok_video_query(path: Path, ctx: ParseContext, folder: Path) -> NativeStaged | None:
    """Research API ``video/query`` pages through DuckDB; see the module docstring."""
    from ingest.platforms.tiktok import exports
    from ingest.platforms.tiktok import settings as s

    latest = ctx.observed_at + FUTURE_SKEW
    if not EARLIEST_DAY <= ctx.day <= latest.date():
        return None  # every row fails the day rule; the reference says so row by row
    size = path.stat().st_size
    if size == 0 or size > MAX_DOCUMENT_BYTES:
        return None
    fields = ", ".join(f"{name} JSON" for name in _TIKTOK_FIELDS)
    with scratch() as conn:
        try:
            conn.execute(
                "create temp table pages as select data.videos as videos,"
                " data.videos is not null as has_videos, error is null or ("
                "json_type(error) = 'OBJECT' and json_type(error, '$.code') = 'VARCHAR'"
                f" and json_extract_string(error, '$.code') = {_sql_text(s.ERROR_OK)}) as ok"
                f" from read_json({_sql_text(str(path))}, format = 'unstructured',"
                f" columns = {{data: 'STRUCT(videos STRUCT({fields})[])', error: 'JSON'}},"
                f" maximum_object_size = {size + 1})"
            )
            head = conn.execute(
                "select count(*), bool_and(has_videos), bool_and(ok) from pages"
            ).fetchone()
        except duckdb.Error:
            return None  # not one well-formed v2 object: the reference parser explains why
        if head is None or head[0] != 1 or not head[1] or not head[2]:
            return None
        account = _usable_account(ctx.account)
        start = int(datetime.combine(EARLIEST_DAY, time(), UTC).timestamp())
        end = int(latest.timestamp())

        def plain_count(name: str, limit: int = INT64_MAX) -> str:
            # a json integer within range, or no value; anything else goes to the reference
            return (
                f"(v.{name} is null or (json_type(v.{name}) = 'UBIGINT'"
                f" and try_cast(v.{name} as hugeint) <= {limit}))"
            )

        username_ok = (
            "(json_type(v.username) = 'VARCHAR'"
            " and regexp_matches(json_extract_string(v.username, '$'), '[0-9A-Za-z]'))"
        )
        missing_user = "(v.username is null or json_extract_string(v.username, '$') = '')"
        clean = " and ".join(
            [
                "v is not null",
                "(json_type(v.id) = 'UBIGINT' or (json_type(v.id) = 'VARCHAR'"
                " and regexp_full_match(json_extract_string(v.id, '$'), '[0-9]+')))",
                f"({username_ok} or {missing_user})" if account else username_ok,
                "(v.create_time is null or (json_type(v.create_time) in ('UBIGINT', 'BIGINT')"
                f" and try_cast(v.create_time as hugeint) between {start} and {end}))",
                "(v.video_description is null or json_type(v.video_description) = 'VARCHAR')",
                plain_count("video_duration", INT32_LIMIT - 1),
                *(plain_count(f) for f in s.RESEARCH_VIDEO_DAILY.values()),
            ]
        )
        conn.execute(
            "create temp table videos as select line, v, coalesce("
            + clean
            + ", false) as clean from ("
            " select unnest(videos) as v, generate_subscripts(videos, 1) as line"
            " from pages)"
        )
        account_expr = (
            f"case when {missing_user} then $account else json_extract_string(v.username, '$') end"
            if account
            else "json_extract_string(v.username, '$')"
        )
        conn.execute(
            "create temp table good as select line,"
            " case when json_type(v.id) = 'VARCHAR' then json_extract_string(v.id, '$')"
            " else cast(v.id as varchar) end"
            f" as post_id, {account_expr} as account_id,"
            " to_timestamp(try_cast(v.create_time as bigint)) as published_at,"
            " nullif(json_extract_string(v.video_description, '$'), '') as caption,"
            " try_cast(v.video_duration as bigint) as duration_seconds,"
            + ", ".join(
                f"try_cast(v.{f} as bigint) as {col}" for col, f in s.RESEARCH_VIDEO_DAILY.items()
            )
            + " from videos where clean",
            {"account": account} if account else {},
        )
        optional_fields = ("create_time", "video_description", "video_duration")
        present = _present(conn, path, size, (*optional_fields, *s.RESEARCH_VIDEO_DAILY.values()))
        platform = _sql_text(s.PLATFORM)
        permalink = s.VIDEO_URL.replace("{username}", "' || account_id || '").replace(
            "{video_id}", "' || post_id || '"
        )
        post_cols = {
            "platform": platform,
            "post_id": "post_id",
            "account_id": "account_id",
            "media_type": "'video'",
            "permalink": f"'{permalink}'",
        }
        optional = {
            "published_at": "create_time",
            "caption": "video_description",
            "duration_seconds": "video_duration",
        }
        post_cols.update({c: c for c, f in optional.items() if f in present})
        daily_cols = {
            "platform": platform,
            "post_id": "post_id",
            "account_id": "account_id",
            "day": f"date '{ctx.day.isoformat()}'",
        }
        if "create_time" in present:
            daily_cols["published_at"] = "published_at"
        daily_cols.update({c: c for c, f in s.RESEARCH_VIDEO_DAILY.items() if f in present})
        plans = {
            "posts": (
                f"select {_select_list(ENTITIES['posts'], post_cols)} from good",
                set(post_cols),
            ),
            "post_daily": (
                f"select {_select_list(ENTITIES['post_daily'], daily_cols)} from good",
                set(daily_cols),
            ),
        }
        total_row = conn.execute(
            "select count(*), list(line order by line) filter (where not clean) from videos"
        ).fetchone()
        assert total_row is not None
        rows_read = int(total_row[0])
        odd: list[int] = total_row[1] or []
        reference = _reference_rows(
            _tiktok_reference_items(path, ctx, set(odd), exports), ctx.observed_at
        )
        return _write(conn, folder, plans, reference, rows_read)


def _present(
    conn: duckdb.DuckDBPyConnection, path: Path, size: int, names: tuple[str, ...]
) -> set[str]:
    """The fields that some clean video carries, even where every value is null."""
    found = conn.execute(
        "select " + ", ".join(f"bool_or(v.{n} is not null)" for n in names) + " from videos"
        " where clean"
    ).fetchone()
    present = {n for n, hit in zip(names, found or (), strict=False) if hit}
    unsure = [n for n in names if n not in present]
    if unsure:
        # an explicit null and an absent key both read as NULL in a struct; the raw objects say
        raw = conn.execute(
            "select "
            + ", ".join(f"bool_or(json_exists(r, '$.{n}'))" for n in unsure)
            + " from (select unnest(data.videos) as r, generate_subscripts(data.videos, 1) as line"
            " from read_json($path, format = 'unstructured',"
            " columns = {data: 'STRUCT(videos JSON[])'}, maximum_object_size = $size))"
            " where line in (select line from videos where clean)",
            {"path": str(path), "size": size + 1},
        ).fetchone()
        present.update(n for n, hit in zip(unsure, raw or (), strict=False) if hit)
    return present


def _tiktok_reference_items(
    path: Path, ctx: ParseContext, lines: set[int], exports: Any
) -> Iterator[Item]:
    if not lines:
        return
    for index, video in exports._videos(path, ctx):
        if index in lines:
            yield from guarded(index, video, partial(exports._research_video, video, ctx))


# ---- YouTube Studio export: Table data.csv

_MONTH_ABBREVIATIONS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_COPY_CHUNK = 1024 * 1024
# the digits of a count as people write it: 1234, or 1,234 / 1.234 / 1 234 grouped by three
_PLAIN_CLOCK = "[0-9]{1,9}(:[0-9]{1,9}){0,2}"
_PLAIN_COUNT = "([0-9]{1,18}|[0-9]{1,3}([,. \u00a0'][0-9]{3}){1,5})"


def stage_youtube_studio_zip(path: Path, ctx: ParseContext, folder: Path) -> NativeStaged | None:
    """A Studio export's ``Table data.csv`` through DuckDB's ``read_csv``.

    The member is streamed out of the archive (with the archive's limits) into the batch
    folder, checked on the way (strict UTF-8, no NUL, its physical lines counted), and read
    with every cell as text. Rows whose cells have the plain shape Studio writes (a video id,
    ``Sep 2, 2026``, ``1:08:43``, ``1234`` or ``1,234``) are typed in SQL; any other row goes
    to ``exports.studio_row``, the reference builder, as do ``Totals.csv`` rows. A file whose
    rows are not one per line (quoted line breaks, blank lines), or that DuckDB reads
    differently in any way it can notice, is left to the reference parser: ``None``.
    """
    from ingest.platforms.youtube import exports
    from ingest.platforms.youtube import settings as s

    account = ctx.account
    if not account or not _encodable(account):
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
                    copied = _copy_checked(member, table)
                if copied is None:
                    return None
                lines, head = copied
                totals: list[Item] = []
                if s.STUDIO_TOTALS in names:
                    with archive.open(names[s.STUDIO_TOTALS]) as stream:
                        where = f"{ctx.source}!{s.STUDIO_TOTALS}"
                        totals = list(exports._studio_totals(stream, where, ctx))
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


def _copy_checked(member: Any, dest: Path) -> tuple[int, bytes] | None:
    """Copy a member to ``dest``; its physical lines as Python's csv module counts them, and
    its head. None when it is not strict UTF-8 or holds a NUL (the reference refuses both)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    terminators = 0
    head = b""
    last = b""
    with dest.open("wb") as out:
        while chunk := member.read(_COPY_CHUNK):
            if not head:
                head = chunk[:4096]
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return None
            if b"\x00" in chunk:
                return None
            terminators += chunk.count(b"\n") + chunk.count(b"\r") - chunk.count(b"\r\n")
            if last == b"\r" and chunk[:1] == b"\n":
                terminators -= 1  # a \r\n split between two chunks
            last = chunk[-1:]
            out.write(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    if len(head) < 4096 and len(head) < dest.stat().st_size:
        return None
    lines = terminators + (1 if last not in (b"", b"\n", b"\r") else 0)
    return lines, head


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
    from ingest.platforms.youtube import exports
    from ingest.platforms.youtube import settings as s

    cells = [f"c{i}" for i in range(len(header))]
    types = ", ".join(f"{c}: 'VARCHAR'" for c in cells)
    try:
        conn.execute(
            "create temp table studio_cells as select * from read_csv("
            f"{sql_text(str(table))}, header = false, skip = 1, auto_detect = false,"
            f" delim = {sql_text(delimiter)}, quote = '\"', escape = '\"', strict_mode = true,"
            f" null_padding = false, encoding = 'utf-8', columns = {{{types}}})"
        )
    except duckdb.Error:
        return None
    column = dict(zip(header, cells, strict=True))
    content = column["Content"]
    # a row is blank (skipped by the reference) when no cell has a visible character; a row
    # whose Content shows one is not, so the other cells are looked at only where it does not
    visible = " or ".join(f"coalesce(regexp_matches({c}, '[!-~]'), false)" for c in cells)
    found = conn.execute(
        "select count(*),"
        f" count(*) filter (where case when regexp_matches(coalesce({content}, ''), '[!-~]')"
        f" then false else not ({visible}) end),"
        f" count(*) filter (where {content} <> 'Total' and contains({content}, 'Total')),"
        f" coalesce(list(rowid + 2 order by rowid) filter (where {content} = 'Total'), [])"
        " from studio_cells"
    ).fetchone()
    assert found is not None
    rows, blank, odd_total, total_lines = found
    # one row per physical line after the header, none of them blank, no " Total" to strip
    if lines != rows + 1 or blank or odd_total:
        return None
    if table.stat().st_size > FIELD_LIMIT:
        # the reference refuses a file with a cell this long
        longest = conn.execute(
            f"select max(greatest({', '.join(f'length({c})' for c in cells)})) from studio_cells"
        ).fetchone()
        if longest is None or longest[0] is None or longest[0] > FIELD_LIMIT:
            return None
    latest = ctx.observed_at + FUTURE_SKEW

    def cell(name: str) -> str:
        return column.get(name, "null")

    published = cell("Video publish time")
    duration = cell("Duration")
    parts = [f"try_cast(split_part({duration}, ':', {i}) as bigint)" for i in (1, 2, 3)]
    seconds = (
        f"case len(string_split({duration}, ':')) when 1 then {parts[0]}"
        f" when 2 then {parts[0]} * 60 + {parts[1]}"
        f" else ({parts[0]} * 60 + {parts[1]}) * 60 + {parts[2]} end"
    )
    metrics = {col: cell(name) for col, name in s.STUDIO_POST_METRICS.items() if name in header}
    clean = " and ".join(
        [
            f"regexp_full_match({content}, '[A-Za-z0-9_-]+')",
            f"({published} is null or (regexp_full_match({published},"
            f" '({_MONTH_ABBREVIATIONS}) (0?[1-9]|[12][0-9]|3[01]), [0-9]{{4}}')"
            " and published_day >= $earliest and cast(published_day as timestamptz) <= $latest))",
            f"({duration} is null or (regexp_full_match({duration}, '{_PLAIN_CLOCK}')"
            f" and duration_seconds < {INT32_LIMIT}))",
            *(
                f"({value} is null or regexp_full_match({value}, {sql_text(_PLAIN_COUNT)}))"
                for value in metrics.values()
            ),
        ]
    )
    # the record number skips the Total rows above a line (one, at the top, in a real export)
    totals_above = "len(list_filter($total_lines, lambda t: t < line))"
    conn.execute(
        f"create temp table studio as select line, line - 1 - {totals_above} as record,"
        f" coalesce({content} = 'Total', false) as total,"
        f" coalesce({content} <> 'Total' and {clean}, false) as clean,"
        f" {content} as post_id, $account as account_id, $day as day,"
        f" nullif({cell('Video title')}, '') as caption,"
        " cast(published_day as timestamptz) as published_at,"
        f" {'duration_seconds' if 'Duration' in header else 'null'} as duration_seconds,"
        + "".join(
            f" try_cast(regexp_replace({value}, '[^0-9]', '', 'g') as bigint) as {col},"
            for col, value in metrics.items()
        )
        + f" {', '.join(cells)}"
        " from (select rowid + 2 as line,"
        f" cast(try_strptime({published}, '%b %d, %Y') as date) as published_day,"
        f" {seconds} as duration_seconds, * from studio_cells)",
        {
            "earliest": EARLIEST_DAY,
            "latest": latest,
            "total_lines": total_lines,
            "account": ctx.account,
            "day": day,
        },
    )
    conn.execute("create temp view studio_good as select * from studio where clean")
    counted = conn.execute(
        "select count(*) filter (where not total),"
        " coalesce(bool_or(published_at is not null) filter (where clean), false) from studio"
    ).fetchone()
    assert counted is not None
    table_records = int(counted[0])
    odd = conn.execute(
        f"select line, record, {', '.join(cells)} from studio where not clean and not total"
        " order by line"
    ).fetchall()
    records = {line: record for line, record, *_ in odd}

    def odd_items() -> Iterator[Item]:
        for line, _, *values in odd:
            raw = ["" if v is None else v for v in values]
            named = {name: raw[i] for i, name in enumerate(header)}
            yield from exports.studio_row(line, named, raw, header, ctx.account, day)

    table_ref = _reference_rows(odd_items(), ctx.observed_at, lambda line, _: records[line])
    totals_read = sum(1 for group in _groups(totals) if not isinstance(group[0], Note))
    totals_ref = _reference_rows(
        totals, ctx.observed_at, lambda _, index: table_records + index + 1
    )
    platform = sql_text(s.PLATFORM)
    post_cols = {
        "platform": platform,
        "post_id": "post_id",
        "account_id": "account_id",
        "caption": "caption",
        "media_type": "'video'",
        "permalink": "'https://www.youtube.com/watch?v=' || post_id",
        "published_at": "published_at",
    }
    post_columns = set(post_cols) - {"published_at"}
    if counted[1]:
        post_columns.add("published_at")
    if "Duration" in header:
        post_cols["duration_seconds"] = "duration_seconds"
        post_columns.add("duration_seconds")
    daily_cols = {
        "platform": platform,
        "post_id": "post_id",
        "account_id": "account_id",
        "day": "day",
        **{col: col for col in metrics},
    }
    plans = {
        "posts": (
            f"select {_select_list(ENTITIES['posts'], post_cols, 'record')} from studio_good",
            post_columns,
        ),
        "post_daily": (
            f"select {_select_list(ENTITIES['post_daily'], daily_cols, 'record')} from studio_good",
            set(daily_cols),
        ),
    }
    reference = _merge(table_ref, totals_ref)
    return _write(conn, folder, plans, reference, table_records + totals_read, notes)


def _merge(first: Reference, second: Reference) -> Reference:
    accepted = {k: list(v) for k, v in first[0].items()}
    for name, rows in second[0].items():
        accepted.setdefault(name, []).extend(rows)
    columns = {k: set(v) for k, v in first[2].items()}
    for name, names in second[2].items():
        columns.setdefault(name, set()).update(names)
    return accepted, first[1] + second[1], columns
