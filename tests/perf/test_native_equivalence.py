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
from ingest.parsing import Format, NativeStaged, ParseContext
from ingest.platforms import registry
from ingest.staging import QUARANTINE_FILE, StagedBatch, stage
from tests.conftest import FIXTURES, context

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
import gen

OBSERVED = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)


def _format(platform: str, name: str) -> Format:
    fmt = registry((platform,)).get(platform, name, f"{platform}/{name}")
    assert fmt.native is not None, f"{platform}/{name} has no native stager"
    return fmt


def _rows(path: str) -> list[tuple[Any, ...]]:
    conn = duckdb.connect()
    try:
        conn.execute("set TimeZone = 'UTC'")
        return conn.execute(f"select * from read_parquet('{path}') order by all").fetchall()
    finally:
        conn.close()


def _quarantine(path: str | Path, rows_quarantined: int) -> list[tuple[Any, ...]]:
    """A batch's quarantine rows; its file exists exactly when it quarantined a row."""
    assert Path(path).is_file() == bool(rows_quarantined)
    return _rows(str(path)) if rows_quarantined else []


def _summary(batch: StagedBatch) -> dict[str, Any]:
    assert bool(batch.quarantine_path) == bool(batch.rows_quarantined)
    return {
        "rows_read": batch.rows_read,
        "rows_quarantined": batch.rows_quarantined,
        "rows_loaded": batch.rows_loaded,
        "notes": batch.notes,
        "entities": {
            name: {"columns": e.columns, "rows": e.rows, "data": _rows(e.path)}
            for name, e in batch.entities.items()
        },
        "quarantine": _quarantine(Path(batch.folder) / QUARANTINE_FILE, batch.rows_quarantined),
    }


def _both(
    tmp_path: Path, path: Path, fmt: Format, ctx: ParseContext, *, native: bool = True
) -> dict[str, Any]:
    """Stage a file natively and with the reference parser; return the native summary.

    ``native`` says which path the native side must have taken: True when the stager staged
    the file (a ``NativeStaged``), False when it left it to the parser (``None``, so both sides
    ran the parser: the case is about the stager declining, not about equivalence). The
    stager is wrapped to record what it returned in the very staging compared here.
    """
    assert fmt.native is not None
    stager = fmt.native
    returned: list[NativeStaged | None] = []

    def recording(landed: Path, context: ParseContext, folder: Path) -> NativeStaged | None:
        returned.append(stager(landed, context, folder))
        return returned[-1]

    outcomes = []
    for label, chosen in (
        ("native", dataclasses.replace(fmt, native=recording)),
        ("reference", dataclasses.replace(fmt, native=None)),
    ):
        try:
            batch = stage(
                path, chosen, ctx, staging_root=tmp_path / label, load_id="L", source_sha256="x"
            )
            outcomes.append(_summary(batch))
        except ParseError as exc:
            outcomes.append({"error": str(exc)})
    staged_natively = bool(returned) and isinstance(returned[-1], NativeStaged)
    assert staged_natively == native, (
        f"{path.name}: the native stager {'staged' if staged_natively else 'declined'} it"
    )
    assert native or returned == [None] or "error" in outcomes[0]
    native_outcome, reference = outcomes
    assert native_outcome == reference
    return native_outcome


# ---- TikTok Research API video/query


def test_tiktok_fixture(tmp_path: Path) -> None:
    fmt = _format("tiktok", "research_video_query")
    path = FIXTURES / "tiktok" / "research_video_query.json"
    ctx = context("tiktok", path.name)
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
    ("videos", "native"),
    [
        ([], True),
        ([{"id": 1, "username": "a", "create_time": None, "video_description": None}], True),
        ([{"id": 1, "username": "a"}, {"id": 2, "username": "b", "view_count": None}], True),
        (
            [
                {"id": 1, "username": "a", "view_count": 5},
                {"id": 1, "username": "a", "view_count": 6},
            ],
            True,
        ),
        ([{"id": 2**64 - 1, "username": "a", "video_duration": 2**31 - 1}], True),
        ([{"id": 3, "username": "a", "video_duration": 2**31}], True),
        ([{"id": 4, "username": "ü", "video_description": 'caf\u00e9 "q" \\ \n'}], True),
        ([{"id": 5, "username": "a", "create_time": 1104537600}], True),
        ([{"id": 6, "username": "a", "create_time": 1104537599}], True),
        ([5, {"id": 7, "username": "a"}], False),
        ([None, {"id": 7, "username": "a"}], True),
    ],
)
def test_tiktok_edge_pages(tmp_path: Path, videos: list[Any], native: bool) -> None:
    fmt = _format("tiktok", "research_video_query")
    path = _page(tmp_path, videos)
    ctx = context("tiktok", path.name, observed_at=OBSERVED)
    _both(tmp_path, path, fmt, ctx, native=native)


def _tiktok_text(video: str = '{"id": 1, "username": "a"}', data: str = "", error: str = "") -> str:
    """A page's text with ``video`` as its one video and ``data``/``error`` members appended."""
    return (
        f'{{"data": {{"videos": [{video}], "cursor": 1{data}}},'
        f' "error": {{"code": "ok", "message": ""{error}}}}}'
    )


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("text", "native"),
    [
        ('{"data": {"videos": null}, "error": {"code": "ok"}}', False),
        ('{"data": {"cursor": 0}, "error": {"code": "ok"}}', False),
        (
            '{"data": {"videos": [{"id": 1, "id": 2, "username": "a"}]}, "error": {"code": "ok"}}',
            False,
        ),
        (
            '{"data": {"videos": []}, "error": {"code": "rate_limit_exceeded", "message": "slow"}}',
            False,
        ),
        ('{"data": {"videos": []}, "error": "invalid_grant"}', False),
        ('[{"data": {"videos": []}}]', False),
        ('{"data": {"videos": [{"id": 1, "username": "a"}]}}\n{"data": {"videos": []}}', False),
        ('\ufeff{"data": {"videos": [{"id": 1, "username": "a"}]}, "error": {"code": "ok"}}', True),
        ("", False),
        ("  \n ", False),
        (_tiktok_text(), True),
        ('{"data": {"videos": [{"id": 1, "username": "a"}]}}', True),
        ('{"data": {"videos": [{"id": 1, "username": "a"}]}, "error": null}', True),
        # what DuckDB's reader accepts and Python's refuses: a comma before a closing bracket
        ('{"data": {"videos": [{"id": 1, "username": "a"},]}, "error": {"code": "ok"}}', False),
        ('{"data": {"videos": [{"id": 1, "username": "a"} ,\n ]}, "error": {"code": "ok"}}', False),
        (_tiktok_text('{"id": 1, "username": "a",}'), False),
        (_tiktok_text('{"id": 1, "username": "a", "hashtag_names": ["fyp",]}'), False),
        (_tiktok_text(data=", "), False),
        (_tiktok_text(error=",\t"), False),
        (_tiktok_text()[:-1] + ",}", False),
        # ... and look-alikes inside strings, which are fine
        (_tiktok_text('{"id": 1, "username": "a", "video_description": "a,]b, }"}'), True),
        (_tiktok_text('{"id": 1, "username": "a", "video_description": "x: inf, [nan"}'), True),
        # NaN and (-)Infinity are Python's own spellings; any other DuckDB reads is refused
        (_tiktok_text('{"id": 1, "username": "a", "x": NaN}'), True),
        (_tiktok_text('{"id": 1, "username": "a", "view_count": NaN}'), True),
        (_tiktok_text('{"id": 1, "username": "a", "x": Infinity}'), True),
        (_tiktok_text('{"id": 1, "username": "a", "x": [-Infinity]}'), True),
        (_tiktok_text(data=', "x": -Infinity'), True),
        (_tiktok_text('{"id": 1, "username": "a", "x": nan}'), False),
        (_tiktok_text('{"id": 1, "username": "a", "like_count": nan}'), False),
        (_tiktok_text('{"id": 1, "username": "a", "x": -NaN}'), False),
        (_tiktok_text('{"id": 1, "username": "a", "x": NAN}'), False),
        (_tiktok_text('{"id": 1, "username": "a", "x": inf}'), False),
        (_tiktok_text('{"id": 1, "username": "a", "x": -inf}'), False),
        (_tiktok_text('{"id": 1, "username": "a", "x": infinity}'), False),
        (_tiktok_text(error=', "x": [ Inf]'), False),
        (_tiktok_text('{"id": 1, "username": "a", "x": 01}'), False),
        # a key twice in any object, read or not
        (_tiktok_text(data=', "cursor": 2'), False),
        (_tiktok_text(data=', "videos": []'), False),
        (_tiktok_text(error=', "code": "ok"'), False),
        (_tiktok_text()[:-1] + ', "error": {"code": "ok"}}', False),
        (_tiktok_text()[:-1] + ', "x": {"a": 1, "a": 2}}', False),
        (_tiktok_text(error=', "x": {"a": 1, "a": 2}'), False),
        (_tiktok_text('{"id": 1, "username": "a", "x": {"a": 1, "a": 2}}'), False),
        (_tiktok_text('{"id": 1, "username": "a", "x": [{"a": 1}, {"a": 1, "a": 2}]}'), False),
        (_tiktok_text('{"id": 1, "username": "a", "x": {"y": {"a": 1, "a": 2}}}'), False),
        (_tiktok_text('[{"id": 1, "id": 2}]'), False),
        (_tiktok_text('{"id": 1, "username": "a", "\\u0069d": 2}'), False),
        # objects nested in a video, their keys once each: staged (the API's *_info_list fields)
        (
            _tiktok_text(
                '{"id": 1, "username": "a", "video_label": {"content": "x"},'
                ' "hashtag_info_list": [{"hashtag_id": 1, "hashtag_name": "a"}, {"hashtag_id": 2}],'
                ' "effect_ids": [], "empty": {}}'
            ),
            True,
        ),
        # one level deeper is not looked into: left to the reference, duplicate or not
        (_tiktok_text('{"id": 1, "username": "a", "x": {"y": {"a": 1}}}'), False),
        (_tiktok_text(error=', "x": {"a": 1}'), False),
        (_tiktok_text('{"id": 1, "username": "a", "video_description": "{x}"}'), True),
        (
            _tiktok_text(
                '{"id": 1, "username": "a", "video_description": "{x} {}",'
                ' "video_label": {"content": "}{"}}'
            ),
            True,
        ),
        (
            _tiktok_text(
                '{"id": 1, "username": "a", "video_description": "{", "x": {"a": 1, "a": 2}}'
            ),
            False,
        ),
        (_tiktok_text('"{not a video}"'), False),
        (_tiktok_text('[{"a": 1}]'), False),
        (_tiktok_text(error=', "x": "{"'), False),
        # an escaped bracket would hide nesting from the stager's count
        (_tiktok_text('{"id": 1, "username": "a", "video_description": "\\u005b"}'), False),
        (_tiktok_text('{"id": 1, "username": "a", "x": "\\u007B"}'), False),
        # deep nesting: Python's decoder gives up near 1,000 levels; past 100 the stager does
        (_tiktok_text('{"id": 1, "username": "a", "x": ' + _nested(2000) + "}"), False),
        (_tiktok_text('{"id": 1, "username": "a", "x": ' + _nested(120) + "}"), False),
        (_tiktok_text(data=', "x": ' + _nested(2000)), False),
        (_tiktok_text(error=', "x": ' + _nested(120)), False),
        (_tiktok_text('{"id": 1, "username": "a", "x": ' + _nested(20) + "}"), True),
        # strings Python reads and DuckDB refuses, or the other way round
        (_tiktok_text('{"id": 1, "username": "a", "x": "\\ud800"}'), False),
        (_tiktok_text('{"id": 1, "username": "a\tb"}'), False),
        ("\ufeff\ufeff" + _tiktok_text(), False),
        (_tiktok_text().encode() + b"\xff", False),
        (_tiktok_text('{"id": 1, "username": "caf\u00e9"}').encode("latin-1"), False),
        (_tiktok_text('{"id": 1, "username": "\u00e9\U0001f600"}'), True),
    ],
)
def test_tiktok_odd_documents(tmp_path: Path, text: str | bytes, native: bool) -> None:
    """Documents not of the plain page shape are left to the parser (``native`` False), as is
    any DuckDB would read more laxly than ``parsing.decode_json``; the others give the same
    rows."""
    fmt = _format("tiktok", "research_video_query")
    path = tmp_path / "page.json"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    ctx = context("tiktok", path.name, observed_at=OBSERVED)
    _both(tmp_path, path, fmt, ctx, native=native)


def test_tiktok_day_out_of_range(tmp_path: Path) -> None:
    """A day before the plausible range: the stager leaves the file to the parser."""
    fmt = _format("tiktok", "research_video_query")
    path = _page(tmp_path, [{"id": 1, "username": "a"}])
    ctx = context("tiktok", path.name, day=date(2004, 12, 31), observed_at=OBSERVED)
    summary = _both(tmp_path, path, fmt, ctx, native=False)
    assert summary["rows_quarantined"] == 1


# ---- YouTube Studio export (Table data.csv)

STUDIO_HEADER = (
    "\ufeffContent,Video title,Video publish time,Duration,Views,Likes,Comments added,Shares\r\n"
)


def _studio_zip(
    tmp_path: Path,
    table: str | bytes,
    *,
    totals: str | None = None,
    name: str = "Content 2026-08-04_2026-08-31 Test.zip",
) -> Path:
    import zipfile

    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Table data.csv", table if isinstance(table, bytes) else table.encode())
        if totals is not None:
            archive.writestr("Totals.csv", totals)
        archive.writestr("Chart data.csv", "Date,Views\r\n")
    return path


def _studio_both(
    tmp_path: Path, path: Path, account: str | None = "UCtest", *, native: bool = True
) -> dict[str, Any]:
    fmt = _format("youtube", "studio_zip")
    ctx = context("youtube", path.name, account=account, observed_at=OBSERVED)
    return _both(tmp_path, path, fmt, ctx, native=native)


# fixture -> whether the stager stages it (a table without a views column is the parser's)
STUDIO_FIXTURES = {
    "Content 2026-08-04_2026-08-31 Rounded Micro.zip": True,
    "studio_missing_views.zip": False,
}


def test_studio_fixtures(tmp_path: Path) -> None:
    fmt = _format("youtube", "studio_zip")
    paths = sorted((FIXTURES / "youtube").glob("*.zip"))
    assert {p.name for p in paths} == set(STUDIO_FIXTURES)
    for path in paths:
        ctx = context("youtube", path.name, account="UCfixture", observed_at=OBSERVED)
        _both(tmp_path / path.stem, path, fmt, ctx, native=STUDIO_FIXTURES[path.name])


def test_studio_generated_with_bad_rows(tmp_path: Path) -> None:
    fmt = _format("youtube", "studio_zip")
    path = gen.youtube_studio_zip(
        tmp_path / "in" / "Content 2026-08-04_2026-08-31 Bench.zip", rows=3_000, bad_every=7
    )
    ctx = context("youtube", path.name, account="UCbench", observed_at=OBSERVED)
    summary = _both(tmp_path, path, fmt, ctx)
    assert summary["rows_read"] == 3_000
    assert summary["rows_quarantined"] > 50


TRICKY_ROWS = [
    # dates: other spellings, impossible, too early, in the future, missing markers
    'a1,t,"Feb 30, 2024",10,5,1,1,1',
    'a2,t,"Jan 1, 2004",10,5,1,1,1',
    'a3,t,"Sep 22, 2027",10,5,1,1,1',
    'a4,t,"September 22, 2025",10,5,1,1,1',
    "a5,t,2025-09-22,10,5,1,1,1",
    'a6,t,"sep 22, 2025",10,5,1,1,1',
    "a7,t,\u2014,10,5,1,1,1",
    'a8,t,"Sep 02, 2025",10,5,1,1,1',
    'a9,t,"Sep  2, 2025",10,5,1,1,1',
    # durations
    'b1,t,"Jan 5, 2025",1:2:3:4,5,1,1,1',
    'b2,t,"Jan 5, 2025",2147483647,5,1,1,1',
    'b3,t,"Jan 5, 2025",2147483648,5,1,1,1',
    'b4,t,"Jan 5, 2025", 12,5,1,1,1',
    'b5,t,"Jan 5, 2025",1::2,5,1,1,1',
    'b6,t,"Jan 5, 2025",596523:14:07,5,1,1,1',
    'b7,t,"Jan 5, 2025",596523:14:08,5,1,1,1',
    'b8,t,"Jan 5, 2025",--,5,1,1,1',
    # counts
    'c1,t,"Jan 5, 2025",1,"1,234",1,1,1',
    'c2,t,"Jan 5, 2025",1,1.234.567,1,1,1',
    'c3,t,"Jan 5, 2025",1,1 234,1,1,1',
    'c4,t,"Jan 5, 2025",1,+5,-5,007,1',
    'c5,t,"Jan 5, 2025",1,\u0661\u0662,1,1,1',
    'c6,t,"Jan 5, 2025",1,"1,23",1,1,1',
    'c7,t,"Jan 5, 2025",1,99999999999999999999,1,1,1',
    'c8,t,"Jan 5, 2025",1,9223372036854775807,1,1,1',
    'c9,t,"Jan 5, 2025",1,"1\u00a0234",n/a,,1',
    # content: missing, odd, repeated (identical, contradicting), the Total row elsewhere
    ',t,"Jan 5, 2025",1,1,1,1,1',
    '"",t,"Jan 5, 2025",1,1,1,1,1',
    'd d,t,"Jan 5, 2025",1,1,1,1,1',
    '\u00fc,t,"Jan 5, 2025",1,1,1,1,1',
    'e1,t,"Jan 5, 2025",1,1,1,1,1',
    'e1,t,"Jan 5, 2025",1,1,1,1,1',
    'e2,t,"Jan 5, 2025",1,1,1,1,1',
    'e2,t,"Jan 5, 2025",1,2,1,1,1',
    "Total,,,,9,9,9,9",
    # titles with quotes, commas, non-ASCII, empty
    'f1,"say ""hi"", ok",,1,1,1,1,1',
    "f2,\u65e5\u672c\u8a9e \U0001f525,,,,,,",
]


def _table(rows: list[str], header: str = STUDIO_HEADER, end: str = "\r\n") -> str:
    return header.replace("\r\n", end) + "".join(row + end for row in rows)


def test_studio_tricky_rows(tmp_path: Path) -> None:
    path = _studio_zip(tmp_path, _table(["Total,,,,1,1,1,1", *TRICKY_ROWS]))
    summary = _studio_both(tmp_path, path)
    assert summary["rows_quarantined"] > 10


@pytest.mark.parametrize(
    ("table", "native"),
    [
        (_table(["v1,t,,1,1,1,1,1"], end="\n"), True),
        (_table(["v1,t,,1,1,1,1,1"], end="\r"), True),
        (_table(["v1,t,,1,1,1,1,1", "v2,t,,1,1,1,1,1"]).rstrip("\r\n"), True),
        (_table(["v1,t,,1,1,1,1,1"]) + "\r\n", False),
        (_table(["v1,t,,1,1,1,1,1", "", "v2,t,,1,1,1,1,1"]), False),
        (_table(["v1,t,,1,1,1,1,1", "  ,,,,,,,", "v2,t,,1,1,1,1,1"]), False),
        (_table(["v1,t,,1,1,1,1,1", ",,,,,,,", "v2,t,,1,1,1,1,1"]), False),
        (_table(['v1,"two\r\nlines",,1,1,1,1,1', "v2,t,,1,1,1,1,1"]), False),
        (_table(['v1,a"b,,1,1,1,1,1', "v2,t,,1,1,1,1,1"]), True),
        (_table(['v1,"ab"c,,1,1,1,1,1', "v2,t,,1,1,1,1,1"]), False),
        (_table(["v1,t,,1,1,1,1", "v2,t,,1,1,1,1,1,1"]), False),
        (_table([" Total ,,,,1,1,1,1", "v2,t,,1,1,1,1,1"]), False),
        (_table(["Total\u00a0,,,,1,1,1,1", "v2,t,,1,1,1,1,1"]), False),
        (_table(["v1,t\x00,,1,1,1,1,1"]), False),
        (_table(["v1,t,,1,1,1,1,1"], header=STUDIO_HEADER.lstrip("\ufeff")), True),
        (_table(["v1;t;;1;1;1;1;1"], header=STUDIO_HEADER.replace(",", ";")), True),
        (_table(["v1,t,,1,1,1,1,1"], header="sep=,\r\n" + STUDIO_HEADER.lstrip("\ufeff")), False),
        (
            _table(["v1,t,,1,1,1,1,1"], header="Title line\r\n" + STUDIO_HEADER.lstrip("\ufeff")),
            False,
        ),
        (_table(["v1,t,1,1"], header="Content,Views,Watch time (hours),Odd column\r\n"), True),
        (_table(["v1,1"], header="Content,Views\r\n"), True),
        (_table(["v1,t,1"], header="Content,Video title,Likes\r\n"), False),
        (_table(["v1,t,1,1"], header="Content,Views,Views,Likes\r\n"), False),
        (
            _table(
                ["v1,t,,1,1,1,1,1"],
                header='"Content",Video title,"Video publish time",Duration,'
                "Views,Likes,Comments added,Shares\r\n",
            ),
            False,
        ),
        (_table([]), True),
        ("", False),
    ],
)
def test_studio_odd_tables(tmp_path: Path, table: str, native: bool) -> None:
    _studio_both(tmp_path, _studio_zip(tmp_path, table), native=native)


@pytest.mark.parametrize(
    ("data", "native"),
    [
        (_table(["v1,caf\u00e9,,1,1,1,1,1"]).encode("utf-16"), False),
        (_table(["v1,caf\u00e9,,1,1,1,1,1"]).encode("utf-8")[:-12] + b"\xff\xfe,1,1,1\r\n", False),
        (_table(["v1,\xed\xa0\x80,,1,1,1,1,1"], header=STUDIO_HEADER[1:]).encode("latin-1"), False),
    ],
)
def test_studio_odd_bytes(tmp_path: Path, data: bytes, native: bool) -> None:
    _studio_both(tmp_path, _studio_zip(tmp_path, data), native=native)


def test_studio_totals_and_duplicates(tmp_path: Path) -> None:
    totals = (
        "Date,Views,Likes,Subscribers gained,Subscribers lost\r\n"
        "2026-08-30,10,1,2,-1\r\n"
        "2026-08-30,10,1,2,-1\r\n"
        "2026-08-31,x,1,2,1\r\n"
        "2026-08-29,5,,,\r\n"
    )
    rows = ["Total,,,,1,1,1,1", "v1,t,,1,1,1,1,1", "v1,t,,1,1,1,1,1", "v2,t,,1,,,,", "v3,,,,,,,"]
    _studio_both(tmp_path, _studio_zip(tmp_path, _table(rows), totals=totals))


@pytest.mark.parametrize(
    ("name", "account", "native"),
    [
        ("Content 2026-08-04_2026-08-31 Test.zip", "   ", True),
        ("Content 2026-08-04_2026-08-31 Test.zip", None, False),
        ("export.zip", "UCtest", True),
        ("Content 2004-08-04_2004-08-31 Test.zip", "UCtest", False),
        ("Content 2026-08-04_2026-09-30 Test.zip", "UCtest", False),
    ],
)
def test_studio_contexts(tmp_path: Path, name: str, account: str | None, native: bool) -> None:
    table = _table(["Total,,,,1,1,1,1", 'v1,t,"Jan 5, 2025",1:00,"1,000",1,1,1'])
    path = _studio_zip(tmp_path, table, name=name)
    _studio_both(tmp_path, path, account=account, native=native)


# ---- YouTube Data API videos.list


def _video(number: int = 1, **changes: Any) -> dict[str, Any]:
    """A videos.list item as the API sends it; ``changes`` replace (None drops) top-level
    parts, ``snippet``/``statistics``/``contentDetails`` dicts replace those objects."""
    item: dict[str, Any] = {
        "kind": "youtube#video",
        "etag": f"e{number}",
        "id": f"vid{number:08d}",
        "snippet": {
            "publishedAt": "2026-08-20T17:45:00Z",
            "channelId": "UCchannel000000000000001",
            "title": f"Video {number}",
            "thumbnails": {"default": {"url": "https://i.ytimg.com/x.jpg", "width": 120}},
            "tags": ["a", "b"],
        },
        "contentDetails": {"duration": "PT1H2M3S", "contentRating": {}},
        "statistics": {
            "viewCount": "1200",
            "likeCount": "80",
            "favoriteCount": "0",
            "commentCount": "9",
        },
    }
    for key, value in changes.items():
        if value is _DROP:
            item.pop(key, None)
        else:
            item[key] = value
    return item


_DROP = object()


def _snippet(**changes: Any) -> dict[str, Any]:
    snippet = dict(_video()["snippet"])
    for key, value in changes.items():
        if value is _DROP:
            snippet.pop(key, None)
        else:
            snippet[key] = value
    return snippet


def _statistics(**changes: Any) -> dict[str, Any]:
    statistics = dict(_video()["statistics"])
    for key, value in changes.items():
        if value is _DROP:
            statistics.pop(key, None)
        else:
            statistics[key] = value
    return statistics


def _videos_page(tmp_path: Path, items: Any, **extra: Any) -> Path:
    doc: dict[str, Any] = {"kind": "youtube#videoListResponse", "etag": "p", "items": items}
    doc.update(extra)
    doc["pageInfo"] = {"totalResults": 1, "resultsPerPage": 50}
    path = tmp_path / "videos.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8", errors="surrogatepass")
    return path


def _videos_both(tmp_path: Path, path: Path, *, native: bool = True) -> dict[str, Any]:
    fmt = _format("youtube", "videos_list")
    ctx = context("youtube", path.name, observed_at=OBSERVED)
    return _both(tmp_path, path, fmt, ctx, native=native)


def test_youtube_videos_list_fixture(tmp_path: Path) -> None:
    path = FIXTURES / "youtube" / "videos_list.json"
    summary = _videos_both(tmp_path, path)
    assert summary["rows_read"] == 3 and summary["rows_quarantined"] == 0


def test_youtube_videos_list_bench_pages(tmp_path: Path) -> None:
    pages = gen.youtube_videos_pages(tmp_path / "in", rows=120, page_items=50, channels=7)
    for page in pages:
        summary = _videos_both(tmp_path / page.stem, page)
        assert summary["rows_read"] == 50 or page == pages[-1]


# one item per case, each in a page beside a plain one; every case is staged natively, the
# odd item by the reference row builder
VIDEO_ITEMS: dict[str, list[Any]] = {
    "plain": [_video(2)],
    "missing statistics": [_video(2, statistics=_DROP)],
    "statistics null": [_video(2, statistics=None)],
    "statistics not an object": [_video(2, statistics="none")],
    "empty statistics": [_video(2, statistics={})],
    "hidden likeCount": [_video(2, statistics=_statistics(likeCount=_DROP))],
    "likeCount null": [_video(2, statistics=_statistics(likeCount=None))],
    "comments off": [_video(2, statistics=_statistics(commentCount=_DROP))],
    "count not digits": [_video(2, statistics=_statistics(viewCount="12a"))],
    "count grouped": [_video(2, statistics=_statistics(viewCount="1,234"))],
    "count signed": [_video(2, statistics=_statistics(viewCount="+5"))],
    "count negative": [_video(2, statistics=_statistics(likeCount="-5"))],
    "count empty": [_video(2, statistics=_statistics(viewCount=""))],
    "count marker": [_video(2, statistics=_statistics(viewCount="n/a"))],
    "count spaced": [_video(2, statistics=_statistics(viewCount=" 5 "))],
    "count leading zeros": [_video(2, statistics=_statistics(viewCount="007"))],
    "count as number": [_video(2, statistics=_statistics(viewCount=1200))],
    "count as float": [_video(2, statistics=_statistics(viewCount=12.5))],
    "count int64 max": [_video(2, statistics=_statistics(viewCount=str(2**63 - 1)))],
    "count beyond int64": [_video(2, statistics=_statistics(viewCount=str(2**63)))],
    "count huge": [_video(2, statistics=_statistics(viewCount="9" * 30))],
    "count zero padded long": [_video(2, statistics=_statistics(viewCount="0" * 20 + "1"))],
    "count arabic digits": [_video(2, statistics=_statistics(viewCount="\u0661\u0662"))],
    "missing snippet": [_video(2, snippet=_DROP)],
    "snippet not an object": [_video(2, snippet="x")],
    "missing channelId": [_video(2, snippet=_snippet(channelId=_DROP))],
    "blank channelId": [_video(2, snippet=_snippet(channelId="  "))],
    "channelId number": [_video(2, snippet=_snippet(channelId=5))],
    "missing publishedAt": [_video(2, snippet=_snippet(publishedAt=_DROP))],
    "publishedAt null": [_video(2, snippet=_snippet(publishedAt=None))],
    "publishedAt fraction": [_video(2, snippet=_snippet(publishedAt="2026-08-20T17:45:00.5Z"))],
    "publishedAt 7 digit fraction": [
        _video(2, snippet=_snippet(publishedAt="2026-08-20T17:45:00.9999999Z"))
    ],
    "publishedAt offset": [_video(2, snippet=_snippet(publishedAt="2026-08-20T17:45:00+02:00"))],
    "publishedAt no zone": [_video(2, snippet=_snippet(publishedAt="2026-08-20T17:45:00"))],
    "publishedAt hour 24": [_video(2, snippet=_snippet(publishedAt="2026-08-20T24:00:00Z"))],
    "publishedAt second 60": [_video(2, snippet=_snippet(publishedAt="2026-08-20T23:59:60Z"))],
    "publishedAt Feb 29 2025": [_video(2, snippet=_snippet(publishedAt="2025-02-29T00:00:00Z"))],
    "publishedAt Feb 29 2024": [_video(2, snippet=_snippet(publishedAt="2024-02-29T00:00:00Z"))],
    "publishedAt too early": [_video(2, snippet=_snippet(publishedAt="2004-12-31T23:59:59Z"))],
    "publishedAt earliest": [_video(2, snippet=_snippet(publishedAt="2005-01-01T00:00:00Z"))],
    "publishedAt future": [_video(2, snippet=_snippet(publishedAt="2026-09-02T06:00:01Z"))],
    "publishedAt latest": [_video(2, snippet=_snippet(publishedAt="2026-09-02T06:00:00Z"))],
    "publishedAt unix": [_video(2, snippet=_snippet(publishedAt=1787000000))],
    "publishedAt text": [_video(2, snippet=_snippet(publishedAt="yesterday"))],
    "missing title": [_video(2, snippet=_snippet(title=_DROP))],
    "empty title": [_video(2, snippet=_snippet(title=""))],
    "title number": [_video(2, snippet=_snippet(title=7))],
    "non-ASCII title": [_video(2, snippet=_snippet(title="caf\u00e9 \u65e5\u672c \U0001f525"))],
    "title quotes and escapes": [_video(2, snippet=_snippet(title='say "hi" \\ / \n\t ok'))],
    "title NUL": [_video(2, snippet=_snippet(title="a\u0000b"))],
    "title with brackets": [_video(2, snippet=_snippet(title="[Official] {4K}, ] }"))],
    "missing id": [_video(2, id=_DROP)],
    "blank id": [_video(2, id=" ")],
    "id number": [_video(2, id=12345)],
    "id with space": [_video(2, id="vid 2")],
    "missing contentDetails": [_video(2, contentDetails=_DROP)],
    "duration null": [_video(2, contentDetails={"duration": None})],
    "duration P0D": [_video(2, contentDetails={"duration": "P0D"})],
    "duration days": [_video(2, contentDetails={"duration": "P1DT2H3M4S"})],
    "duration P": [_video(2, contentDetails={"duration": "P"})],
    "duration PT": [_video(2, contentDetails={"duration": "PT"})],
    "duration minutes only": [_video(2, contentDetails={"duration": "PT15M"})],
    "duration int32 max": [_video(2, contentDetails={"duration": "PT2147483647S"})],
    "duration beyond int32": [_video(2, contentDetails={"duration": "PT2147483648S"})],
    "duration weeks": [_video(2, contentDetails={"duration": "P1W"})],
    "duration lower case": [_video(2, contentDetails={"duration": "pt5s"})],
    "duration spaced": [_video(2, contentDetails={"duration": " PT5S "})],
    "duration number": [_video(2, contentDetails={"duration": 5})],
    "duration fraction": [_video(2, contentDetails={"duration": "PT5.5S"})],
    "live stream": [
        _video(
            2,
            contentDetails={"duration": "P0D"},
            liveStreamingDetails={"actualStartTime": "2026-08-20T17:45:00Z"},
        )
    ],
    "duplicate id": [_video(2), _video(2)],
    "duplicate id, other counts": [
        _video(2),
        _video(2, statistics=_statistics(viewCount="5")),
    ],
    "item null": [None],
    "item number": [5],
    "item string": ["vid00000002"],
    "item list": [[_video(2)]],
    "lone surrogate in unread text": [_video(2, snippet=_snippet(description="x\ud800y"))],
}


@pytest.mark.parametrize("case", list(VIDEO_ITEMS))
def test_youtube_videos_list_items(tmp_path: Path, case: str) -> None:
    """Each odd item beside plain ones gives the reference's rows and quarantine."""
    path = _videos_page(tmp_path, [_video(1), *VIDEO_ITEMS[case], _video(3)])
    # a lone surrogate is a file DuckDB cannot read: the reference parser takes it whole
    _videos_both(tmp_path, path, native="surrogate" not in case)


def test_youtube_videos_list_many_odd_items(tmp_path: Path) -> None:
    """Every case in one page: the records keep their lines, duplicates settle the same."""
    readable = [found for case, found in VIDEO_ITEMS.items() if "surrogate" not in case]
    items = [item for found in readable for item in found]
    summary = _videos_both(tmp_path, _videos_page(tmp_path, items))
    assert summary["rows_quarantined"] > 20


@pytest.mark.parametrize(
    ("text", "native"),
    [
        ('{"kind": "youtube#videoListResponse", "items": []}', True),
        ('{"kind": "youtube#videoListResponse"}', True),
        ('{"kind": "youtube#videoListResponse", "items": null}', False),
        ('{"kind": "youtube#videoListResponse", "items": {"id": "a"}}', False),
        ('{"kind": "youtube#videoListResponse", "items": "x"}', False),
        ('{"kind": "youtube#channelListResponse", "items": []}', False),
        ('{"kind": 5, "items": []}', False),
        ('{"items": []}', False),
        (
            '{"error": {"code": 403, "message": "quotaExceeded",'
            ' "errors": [{"reason": "quotaExceeded"}]}}',
            False,
        ),
        (
            '{"kind": "youtube#videoListResponse", "items": [],'
            ' "error": {"code": 403, "message": "quota"}}',
            True,
        ),
        ('[{"kind": "youtube#videoListResponse", "items": []}]', False),
        ('{"kind": "youtube#videoListResponse", "items": []}\n{"kind": "x"}', False),
        ('\ufeff{"kind": "youtube#videoListResponse", "items": []}', True),
        ('\ufeff\ufeff{"kind": "youtube#videoListResponse", "items": []}', False),
        ('  \n\t{"kind": "youtube#videoListResponse", "items": []}\r\n ', True),
        ("", False),
        ("   ", False),
        # what DuckDB's reader accepts and Python's refuses
        ('{"kind": "youtube#videoListResponse", "items": [],}', False),
        ('{"kind": "youtube#videoListResponse", "items": [{"id": "a",}]}', False),
        ('{"kind": "youtube#videoListResponse", "items": [], "x": nan}', False),
        ('{"kind": "youtube#videoListResponse", "items": [], "x": Infinity}', True),
        ('{"kind": "youtube#videoListResponse", "items": [], "x": -inf}', False),
        ('{"kind": "youtube#videoListResponse", "items": [], "x": -NaN}', False),
        ('{"kind": "youtube#videoListResponse", "items": [], "x": NaN}', True),
        ('{"kind": "youtube#videoListResponse", "items": [], "x": 01}', False),
        ('{"kind": "youtube#videoListResponse", "kind": "youtube#videoListResponse"}', False),
        ('{"kind": "youtube#videoListResponse", "items": [{"id": "a", "id": "b"}]}', False),
        (
            '{"kind": "youtube#videoListResponse", "items": [{"id": "a",'
            ' "snippet": {"channelId": "UC1", "channelId": "UC2"}}]}',
            False,
        ),
        (
            '{"kind": "youtube#videoListResponse", "items": [{"id": "a",'
            ' "statistics": {"viewCount": "1", "viewCount": "2"}}]}',
            False,
        ),
        ('{"kind": "youtube#videoListResponse", "items": [], "x": "\\ud800"}', False),
        ('{"kind": "youtube#videoListResponse", "items": [], "x": "\\u005b"}', False),
        ('{"kind": "youtube#videoListResponse", "items": [], "x": "a\tb"}', False),
        (
            '{"kind": "youtube#videoListResponse", "items": [], "x": '
            + "[" * 120
            + "]" * 120
            + "}",
            False,
        ),
        (
            '{"kind": "youtube#videoListResponse", "items": [{"id": "a", "x": '
            + "[" * 120
            + "]" * 120
            + "}]}",
            False,
        ),
        (
            '{"kind": "youtube#videoListResponse", "items": [{"id": "a", "x": '
            + "[" * 2000
            + "]" * 2000
            + "}]}",
            False,
        ),
        (
            '{"kind": "youtube#videoListResponse", "items": [], "x": '
            + "[" * 3000
            + "]" * 3000
            + "}",
            False,
        ),
    ],
)
def test_youtube_videos_list_odd_documents(tmp_path: Path, text: str, native: bool) -> None:
    """Documents DuckDB would read otherwise than the reference are left to it (``native``
    False), error or not; the others give the same rows."""
    path = tmp_path / "videos.json"
    path.write_text(text, encoding="utf-8")
    _videos_both(tmp_path, path, native=native)


@pytest.mark.parametrize(
    "data",
    [
        b'{"kind": "youtube#videoListResponse", "items": [{"id": "caf\xe9"}]}',
        b'{"kind": "youtube#videoListResponse", "items": [{"id": "\xed\xa0\x80"}]}',
        '{"kind": "youtube#videoListResponse", "items": []}'.encode("utf-16"),
    ],
)
def test_youtube_videos_list_not_utf8(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "videos.json"
    path.write_bytes(data)
    _videos_both(tmp_path, path, native=False)


def test_youtube_videos_list_day_out_of_range(tmp_path: Path) -> None:
    fmt = _format("youtube", "videos_list")
    path = _videos_page(tmp_path, [_video(1)])
    ctx = context("youtube", path.name, day=date(2004, 12, 31), observed_at=OBSERVED)
    summary = _both(tmp_path, path, fmt, ctx, native=False)
    assert summary["rows_quarantined"] == 1
