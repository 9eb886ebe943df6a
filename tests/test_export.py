"""``ingest.export``: the marts BI reads, written to Parquet or CSV files, one per mart."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingest.config import Settings
from ingest.errors import IngestError
from ingest.export import UnknownMartError, export_marts, list_marts


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")
    settings.warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.bi_warehouse)) as bi:
        bi.execute("create schema marts")
        bi.execute("create schema meta")
        bi.execute(
            "create table marts.creator_daily as"
            " select 'cr-' || range as creator_id, 'a,b \"quoted\"' as platforms from range(5)"
        )
        # a mart whose name needs quoting, and a view: both are relations BI reads
        bi.execute('create table marts."odd name; drop" as select 1 as x')
        bi.execute("create view marts.metric_breaks as select 2 as y")
        bi.execute("create table meta.loads as select 1 as z")
    return settings


def test_every_mart_and_only_marts_by_default(settings: Settings, tmp_path: Path):
    assert list_marts(settings) == ["creator_daily", "metric_breaks", "odd name; drop"]
    written = export_marts(settings, tmp_path / "out")
    assert [(e.mart, Path(e.path).name, e.rows) for e in written] == [
        ("creator_daily", "creator_daily.parquet", 5),
        ("metric_breaks", "metric_breaks.parquet", 1),
        ("odd name; drop", "odd name; drop.parquet", 1),
    ]
    rows = duckdb.sql(f"select * from read_parquet('{written[0].path}') order by 1").fetchall()
    assert rows[0] == ("cr-0", 'a,b "quoted"')
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "creator_daily.parquet",
        "metric_breaks.parquet",
        "odd name; drop.parquet",
    ]


def test_chosen_marts_as_csv(settings: Settings, tmp_path: Path):
    written = export_marts(
        settings, tmp_path / "out", marts=["metric_breaks", "creator_daily"], format="csv"
    )
    assert [e.to_dict()["mart"] for e in written] == ["metric_breaks", "creator_daily"]
    text = (tmp_path / "out" / "creator_daily.csv").read_text()
    assert text.splitlines()[0] == "creator_id,platforms"
    assert duckdb.sql(f"select count(*) from read_csv('{written[1].path}')").fetchone() == (5,)


def test_an_unknown_mart_or_format_is_refused_naming_what_there_is(settings, tmp_path: Path):
    with pytest.raises(UnknownMartError, match=r"'loads'.*creator_daily, metric_breaks"):
        export_marts(settings, tmp_path / "out", marts=["creator_daily", "loads"])
    assert not (tmp_path / "out").exists()
    with pytest.raises(IngestError, match="xlsx"):
        export_marts(settings, tmp_path / "out", format="xlsx")


def test_no_bi_copy_yet_is_a_clear_error(tmp_path: Path):
    with pytest.raises(IngestError, match="no BI copy"):
        export_marts(Settings.from_env(tmp_path / "w.duckdb"), tmp_path / "out")
