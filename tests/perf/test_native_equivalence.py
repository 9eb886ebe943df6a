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
from ingest.staging import StagedBatch, stage
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
    ],
)
def test_tiktok_edge_pages(tmp_path: Path, videos: list[Any], native: bool) -> None:
    fmt = _format("tiktok", "research_video_query")
    path = _page(tmp_path, videos)
    ctx = context("tiktok", path.name, observed_at=OBSERVED)
    _both(tmp_path, path, fmt, ctx, native=native)


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
    ],
)
def test_tiktok_odd_documents(tmp_path: Path, text: str, native: bool) -> None:
    """Documents not of the plain page shape are left to the parser (``native`` False)."""
    fmt = _format("tiktok", "research_video_query")
    path = tmp_path / "page.json"
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
