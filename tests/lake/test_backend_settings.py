"""Choosing the backend, and the one place that adapts the SQL to DuckLake."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingest import backends
from ingest.cli import build_command
from ingest.config import ConfigError, Settings
from ingest.warehouse import migrate, migrations, open_warehouse

CONNINFO = "host=db.internal port=5432 dbname=lake user=etl password=s3cr'et"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING", "INGEST_LAKE_DATA_PATH"):
        monkeypatch.delenv(var, raising=False)


def test_a_file_path_selects_the_embedded_backend(tmp_path: Path):
    settings = Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")
    assert settings.lake is None
    assert settings.target == tmp_path / "warehouse" / "creators.duckdb"
    assert settings.landing == tmp_path / "landing"


def test_a_ducklake_uri_selects_the_lake_with_landing_beside_the_data(tmp_path: Path):
    settings = Settings.from_env("ducklake:postgres:" + CONNINFO, tmp_path / "lake" / "data")
    assert settings.lake is not None
    assert settings.target is settings.lake
    assert settings.lake.conninfo == CONNINFO
    assert settings.lake.uri == "ducklake:postgres:" + CONNINFO
    assert settings.lake.data_path == str(tmp_path / "lake" / "data")
    assert settings.landing == tmp_path / "lake" / "landing"
    assert settings.staging == tmp_path / "lake" / "staging"


def test_the_environment_names_the_lake_and_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("INGEST_WAREHOUSE", "ducklake:postgres:" + CONNINFO)
    monkeypatch.setenv("INGEST_LAKE_DATA_PATH", str(tmp_path / "data"))
    monkeypatch.setenv("INGEST_LANDING", str(tmp_path / "in"))
    settings = Settings.from_env()
    assert settings.lake is not None and settings.lake.data_path == str(tmp_path / "data")
    assert settings.landing == tmp_path / "in"


@pytest.mark.parametrize(
    ("warehouse", "data_path", "problem"),
    [
        ("ducklake:postgres:" + CONNINFO, None, "needs a data path"),
        ("ducklake:postgres:", "/srv/lake", "needs a libpq conninfo"),
        ("ducklake:/srv/meta.ducklake", "/srv/lake", "PostgreSQL catalog"),
        ("ducklake:postgres:" + CONNINFO, "s3://bucket/lake", "INGEST_LANDING"),
        ("warehouse/creators.duckdb", "/srv/lake", "only applies"),
    ],
)
def test_unusable_settings_say_what_is_missing(warehouse: str, data_path: str | None, problem):
    with pytest.raises(ConfigError, match=problem):
        Settings.from_env(warehouse, data_path)


def test_the_password_never_shows(tmp_path: Path):
    settings = Settings.from_env("ducklake:postgres:" + CONNINFO, tmp_path)
    for text in (settings.describe(), repr(settings), str(settings)):
        assert "s3cr" not in text and "password=***" in text
    uri = Settings.from_env("ducklake:postgres:postgresql://etl:hunter2@db/lake", tmp_path)
    assert "hunter2" not in uri.describe()


def test_the_cli_takes_a_data_path_wherever_it_takes_a_warehouse():
    root = build_command()
    for command in (
        ["load", "x.csv"],
        ["demo"],
        ["run", "--date", "2026-01-01"],
        ["backfill", "--start", "2026-01-01", "--end", "2026-01-02"],
        ["pull", "--platform", "youtube", "--date", "2026-01-01"],
        ["report"],
        ["validate", "some-load"],
        ["export", "--out", "exports"],
    ):
        name, *rest = command
        ctx = root.commands[name].make_context(
            name, [*rest, "--warehouse", "ducklake:postgres:x", "--data-path", "d"]
        )
        assert (ctx.params["warehouse"], str(ctx.params["data_path"])) == (
            "ducklake:postgres:x",
            "d",
        )


def test_key_constraints_are_stripped_and_nothing_else():
    sql = """
    -- a unique comment with a primary key (kept out)
    create table if not exists meta.x (
        id varchar primary key,
        name varchar not null unique,
        note varchar default 'primary key, unique',
        unique_count bigint,
        a int,
        b int,
        primary key (a, b),
        constraint u unique (name)
    );
    """
    adapted = backends.adapt_ddl(sql)
    conn = duckdb.connect()
    conn.execute("create schema meta")
    conn.execute(adapted)
    assert "comment" not in adapted
    assert conn.execute(
        "select count(*) from duckdb_constraints()"
        " where constraint_type in ('PRIMARY KEY', 'UNIQUE')"
    ).fetchone() == (0,)
    columns = conn.execute(
        "select column_name, column_default from duckdb_columns() where table_name = 'x'"
    ).fetchall()
    assert [c for c, _ in columns] == ["id", "name", "note", "unique_count", "a", "b"]
    assert "'primary key, unique'" in str(dict(columns)["note"])


def test_every_migration_adapts_to_the_same_tables_without_keys(tmp_path: Path):
    keyed = open_warehouse(tmp_path / "keyed.duckdb")
    migrate(keyed)
    bare = duckdb.connect()
    for _, path in migrations():
        bare.execute(backends.adapt_ddl(path.read_text()))
    listing = (
        "select schema_name, table_name, column_name, data_type, is_nullable"
        " from duckdb_columns() where database_name = current_database()"
        " and schema_name <> 'main' and table_name <> 'schema_migrations' order by all"
    )
    assert bare.execute(listing).fetchall() == keyed.execute(listing).fetchall()
    assert bare.execute(
        "select count(*) from duckdb_constraints() where constraint_type = 'PRIMARY KEY'"
    ).fetchone() == (0,)
    keyed.close()


def test_conflicts_are_recognised_through_a_failed_rollback():
    def failing() -> None:
        try:
            raise duckdb.TransactionException("Failed to commit: Transaction conflict - x")
        except duckdb.Error:
            # the case to recognise: the rollback after a failed commit fails in turn
            raise duckdb.TransactionException("cannot rollback - no transaction is active")  # noqa: B904

    with pytest.raises(duckdb.Error) as caught:
        failing()
    assert backends.is_conflict(caught.value)
    assert not backends.is_conflict(duckdb.ConstraintException("duplicate key"))


def test_a_conflict_is_retried_and_other_errors_are_not():
    conn = duckdb.connect()
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise duckdb.TransactionException("Transaction conflict - someone else won")
        return "done"

    assert backends.retry_on_conflict(conn, flaky, what="t", first_delay=0.001) == "done"
    assert len(calls) == 3

    def broken() -> None:
        calls.append(1)
        raise duckdb.CatalogException("no such table")

    calls.clear()
    with pytest.raises(duckdb.CatalogException):
        backends.retry_on_conflict(conn, broken, what="t", first_delay=0.001)
    assert len(calls) == 1

    def always() -> None:
        raise duckdb.TransactionException("Transaction conflict")

    with pytest.raises(backends.WarehouseBusyError, match="after 3 attempts"):
        backends.retry_on_conflict(conn, always, what="t", attempts=3, first_delay=0.001)
