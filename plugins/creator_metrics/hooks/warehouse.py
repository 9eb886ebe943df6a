"""The warehouse as an Airflow DuckDB connection, turned into ``ingest`` settings."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from airflow.providers.duckdb.hooks.duckdb import DuckDBHook
from airflow.sdk import Connection
from airflow.sdk.exceptions import AirflowNotFoundException

if TYPE_CHECKING:
    from ingest.config import Settings


class WarehouseHook(DuckDBHook):
    """Where the pipeline's DuckDB warehouse lives.

    The ``warehouse_default`` connection (type duckdb, host = the file path) names it; without
    that connection the ``ingest`` defaults apply (``INGEST_WAREHOUSE``, then
    ``warehouse/creators.duckdb``). Unlike the provider's hook it never falls back to an
    in-memory database, which would let a publish vanish when the task ends.
    """

    default_conn_name = "warehouse_default"
    hook_name = "Creator-metrics warehouse"

    @cached_property
    def airflow_connection(self) -> Connection | None:
        """The connection, or None when it is not defined (any id: the environment decides)."""
        conn_id = self.get_conn_id()
        try:
            conn: Connection = self.get_connection(conn_id)
        except AirflowNotFoundException:
            self.log.info("no connection %r: INGEST_WAREHOUSE or the default names it", conn_id)
            return None
        return conn

    def warehouse_path(self) -> str | None:
        """The file path from the connection, or None when no connection is defined."""
        if self.airflow_connection is None:
            return None
        database: str = self.get_database()
        if database.startswith((":memory:", "md:")):
            raise ValueError(
                f"connection {self.get_conn_id()!r} must name a DuckDB file, not {database!r}"
            )
        return database

    def ingest_settings(self) -> Settings:
        """``ingest`` settings for the warehouse this connection (or the environment) names."""
        from ingest.config import Settings

        return Settings.from_env(self.warehouse_path())
