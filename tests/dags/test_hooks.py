"""The plugins' hooks turn connections into plain values; nothing is looked up before asked."""

from __future__ import annotations

import sys
from pathlib import Path
from unittest import mock

import pytest

from tests.dags.conftest import PLUGINS

PLATFORMS = ["instagram", "youtube", "tiktok", "snapchat"]


@pytest.fixture(scope="module")
def plugins_path(airflow_home):
    sys.path.insert(0, str(PLUGINS))
    yield
    sys.path.remove(str(PLUGINS))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_platform_hook_reads_its_default_connection(plugins_path, platform):
    from airflow.sdk import Connection

    from creator_metrics.hooks import platform_hook

    conn = Connection(
        conn_id=f"{platform}_default",
        conn_type="http",
        host="127.0.0.1",
        port=8765,
        schema="http",
        password="s3cret-token",
        extra='{"accounts": "acc1, acc2"}',
    )
    hook = platform_hook(platform)
    with mock.patch.object(type(hook), "get_connection", return_value=conn) as lookup:
        creds = hook.get_credentials()
    lookup.assert_called_once_with(f"{platform}_default")
    assert creds.platform == platform
    assert creds.token == "s3cret-token"
    assert creds.base_url == "http://127.0.0.1:8765"
    assert creds.accounts == ("acc1", "acc2")
    assert "s3cret-token" not in repr(creds)


def test_platform_hook_defaults_when_connection_names_no_host(plugins_path):
    from airflow.sdk import Connection

    from creator_metrics.hooks import platform_hook

    conn = Connection(conn_id="other", conn_type="http", password="k", extra='{"accounts": ["a"]}')
    hook = platform_hook("youtube", "other")
    with mock.patch.object(type(hook), "get_connection", return_value=conn) as lookup:
        creds = hook.get_credentials()
    lookup.assert_called_once_with("other")
    assert creds.base_url is None  # the client's own default host
    assert creds.accounts == ("a",)


def test_hooks_do_nothing_at_construction(plugins_path):
    from creator_metrics.hooks.base import PlatformHook

    for platform in PLATFORMS:
        with mock.patch.object(
            PlatformHook, "get_connection", side_effect=AssertionError("looked up")
        ):
            PlatformHook(platform)


def test_every_registered_platform_has_its_hook(plugins_path):
    from creator_metrics.hooks import platform_hook
    from ingest.platforms import platforms

    for name, declared in platforms().items():
        hook = platform_hook(name)
        assert (hook.platform, hook.conn_id) == (name, declared.connection_id)
        assert hook.hook_name == f"{declared.title} (creator metrics)"


def test_unknown_platform_has_no_hook(plugins_path):
    from creator_metrics.hooks import platform_hook
    from ingest.errors import IngestError

    with pytest.raises(IngestError, match="unknown platform 'myspace'"):
        platform_hook("myspace")


def test_warehouse_hook_uses_connection_path(plugins_path, tmp_path):
    from airflow.sdk import Connection

    from creator_metrics.hooks.warehouse import WarehouseHook

    target = tmp_path / "wh" / "creators.duckdb"
    conn = Connection(conn_id="warehouse_default", conn_type="duckdb", host=str(target))
    hook = WarehouseHook()
    with mock.patch.object(WarehouseHook, "get_connection", return_value=conn):
        settings = hook.ingest_settings()
    assert settings.warehouse == target
    assert settings.landing == tmp_path / "wh" / "landing"


def test_warehouse_hook_without_connection_falls_back_to_env(plugins_path, tmp_path, monkeypatch):
    from airflow.sdk.exceptions import AirflowNotFoundException

    from creator_metrics.hooks.warehouse import WarehouseHook

    monkeypatch.setenv("INGEST_WAREHOUSE", str(tmp_path / "warehouse" / "x.duckdb"))
    missing = AirflowNotFoundException("warehouse_default is not defined")
    with mock.patch.object(WarehouseHook, "get_connection", side_effect=missing):
        settings = WarehouseHook().ingest_settings()
    assert settings.warehouse == Path(tmp_path / "warehouse" / "x.duckdb")
    assert settings.landing == tmp_path / "landing"


def test_warehouse_hook_refuses_in_memory_database(plugins_path):
    from airflow.sdk import Connection

    from creator_metrics.hooks.warehouse import WarehouseHook

    conn = Connection(conn_id="warehouse_default", conn_type="duckdb", host=":memory:")
    with (
        mock.patch.object(WarehouseHook, "get_connection", return_value=conn),
        pytest.raises(ValueError, match="must name a DuckDB file"),
    ):
        WarehouseHook().ingest_settings()
