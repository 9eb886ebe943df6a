"""Platform packages keep their stagers' SQL in their own ``sql/`` folder; names are quoted."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingest.platforms import platforms
from ingest.sqlfiles import quote_identifier, read_package_sql, run_package_sql

PLATFORM_ROOT = Path(__file__).resolve().parents[1] / "src" / "ingest" / "platforms"


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("views", '"views"'),
        ("select", '"select"'),
        ('say "hi"', '"say ""hi"""'),
        ("a; drop table t; --", '"a; drop table t; --"'),
    ],
)
def test_quote_identifier(name: str, quoted: str):
    assert quote_identifier(name) == quoted


def test_a_quoted_identifier_names_exactly_that_column():
    conn = duckdb.connect()
    odd = 'x"; drop table t; --'
    conn.execute(f"create table t as select 1 as {quote_identifier(odd)}")
    assert [d[0] for d in conn.execute("select * from t").description] == [odd]


def sql_files() -> list[Path]:
    return sorted(PLATFORM_ROOT.glob("*/sql/*.sql"))


def test_the_platforms_ship_stager_sql():
    assert sql_files()
    assert {p.parent.parent.name for p in sql_files()} <= set(platforms())


@pytest.mark.parametrize("path", sql_files(), ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_every_platform_sql_file_is_run_by_its_package(path: Path):
    package = path.parent.parent
    sources = "".join(p.read_text(encoding="utf-8") for p in package.glob("*.py"))
    assert f'"{path.stem}"' in sources, f"{path} is not run by any module of its package"
    assert read_package_sql(f"ingest.platforms.{package.name}", path.stem) == path.read_text(
        encoding="utf-8"
    )


def test_run_package_sql_binds_the_parameters_a_statement_uses():
    conn = duckdb.connect()
    conn.execute(
        "create temp table pages as select 7 as member, [1, 2] as videos, true as has_videos"
    )
    conn.execute("alter table pages add column ok boolean default true")
    # a parameter the statement does not use is left out, not refused
    row = run_package_sql("ingest.platforms.tiktok", conn, "research_video_head", {"x": 1})
    assert row.fetchall() == [(7,)]
