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

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.coerce import INT64_MAX
from ingest.model import ENTITIES, Entity
from ingest.parsing import Item, ParseContext, Record, RowError, guarded, require

# a json object larger than this is not an api page; the reference parser can have it
MAX_DOCUMENT_BYTES = 2**31 - 1
INT32_LIMIT = 2**31


@dataclass
class NativeEntity:
    """One entity's rows before duplicate keys are settled (the layout of ``_EntityWriter``)."""

    path: Path
    rows: int
    columns: set[str]


@dataclass
class NativeStaged:
    """What a native stager hands back to ``staging.stage``."""

    rows_read: int
    rows_quarantined: int
    entities: dict[str, NativeEntity]
    notes: list[str] = field(default_factory=list)


NativeStager = Callable[[Path, ParseContext, Path], NativeStaged | None]


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _select_list(entity: Entity, provided: dict[str, str]) -> str:
    """Every column of the entity in model order, typed as staging writes them."""
    parts = []
    for column in entity.columns:
        expr = provided.get(column.name, "null")
        parts.append(f"cast({expr} as {column.sql_type}) as {column.name}")
    parts.append("cast(line as bigint) as _line")
    # one JSON document: its record numbers are its line numbers
    parts.append("cast(line as bigint) as _record")
    return ", ".join(parts)


def _reference_rows(
    items: Iterator[Item], observed_at: datetime
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]], dict[str, set[str]]]:
    """Run the reference row builder's items through the staging row rules."""
    from ingest.staging import LINE_COLUMN, RECORD_COLUMN, _first_reject, _groups

    accepted: dict[str, list[dict[str, Any]]] = {}
    columns: dict[str, set[str]] = {}
    rejects: list[dict[str, Any]] = []
    for group in _groups(items):
        rejected = _first_reject(group, observed_at)
        if rejected is not None:
            rejects.append(rejected)
            continue
        for item in group:
            assert isinstance(item, Record)
            columns.setdefault(item.entity, set()).update(item.values)
            accepted.setdefault(item.entity, []).append(
                {**item.values, LINE_COLUMN: item.line, RECORD_COLUMN: item.line}
            )
    return accepted, rejects, columns


def _write(
    conn: duckdb.DuckDBPyConnection,
    folder: Path,
    plans: dict[str, tuple[str, set[str]]],
    reference: tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]], dict[str, set[str]]],
    rows_read: int,
) -> NativeStaged:
    """COPY the native rows and the reference rows of each entity into one raw Parquet file."""
    from ingest.staging import QUARANTINE_SCHEMA, arrow_schema

    accepted, rejects, ref_columns = reference
    entities: dict[str, NativeEntity] = {}
    for name, (query, columns) in plans.items():
        entity = ENTITIES[name]
        extra = accepted.get(name, [])
        source = query
        if extra:
            conn.register(f"ref_{name}", pa.Table.from_pylist(extra, schema=arrow_schema(entity)))
            source = f"{query} union all by name select * from ref_{name}"
        path = folder / f"{name}.raw.parquet"
        conn.execute(f"copy ({source}) to {_sql_text(str(path))} (format parquet)")
        counted = conn.execute(f"select count(*) from read_parquet({_sql_text(str(path))})")
        found = counted.fetchone()
        rows = int(found[0]) if found else 0
        if rows:
            entities[name] = NativeEntity(path, rows, columns | ref_columns.get(name, set()))
        else:
            path.unlink()
    pq.write_table(
        pa.Table.from_pylist(rejects, schema=QUARANTINE_SCHEMA), folder / "quarantine.parquet"
    )
    return NativeStaged(rows_read=rows_read, rows_quarantined=len(rejects), entities=entities)


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
    from ingest.staging import EARLIEST_DAY, FUTURE_SKEW

    latest = ctx.observed_at + FUTURE_SKEW
    if not EARLIEST_DAY <= ctx.day <= latest.date():
        return None  # every row fails the day rule; the reference says so row by row
    size = path.stat().st_size
    if size == 0 or size > MAX_DOCUMENT_BYTES:
        return None
    fields = ", ".join(f"{name} JSON" for name in _TIKTOK_FIELDS)
    conn = duckdb.connect()
    try:
        conn.execute("set TimeZone = 'UTC'")
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
            f"case when {missing_user} then {_sql_text(account)}"
            " else json_extract_string(v.username, '$') end"
            if account
            else "json_extract_string(v.username, '$')"
        )
        conn.execute(
            "create temp view good as select line,"
            " case when json_type(v.id) = 'VARCHAR' then json_extract_string(v.id, '$')"
            " else cast(v.id as varchar) end"
            f" as post_id, {account_expr} as account_id,"
            " to_timestamp(try_cast(v.create_time as bigint)) as published_at,"
            " nullif(json_extract_string(v.video_description, '$'), '') as caption,"
            " try_cast(v.video_duration as bigint) as duration_seconds,"
            + ", ".join(
                f"try_cast(v.{f} as bigint) as {col}" for col, f in s.RESEARCH_VIDEO_DAILY.items()
            )
            + " from videos where clean"
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
    finally:
        conn.close()


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
