"""Where things live: warehouse, landing zone and staged batches, from flags or environment."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import IngestError

DEFAULT_WAREHOUSE = "warehouse/creators.duckdb"
LAKE_PREFIX = "ducklake:postgres:"

_PASSWORD_RE = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_URI_PASSWORD_RE = re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*(@)", re.IGNORECASE)


class ConfigError(IngestError):
    """The settings name a warehouse the pipeline cannot use."""


@dataclass(frozen=True)
class Lake:
    """A DuckLake warehouse: the catalog in PostgreSQL, the data as Parquet under ``data_path``.

    Args:
        conninfo: the libpq connection string of the catalog database (``host=... dbname=...``).
        data_path: where the Parquet files live (a local folder or an object-store URL).
    """

    conninfo: str
    data_path: str

    @property
    def uri(self) -> str:
        """What ``ATTACH`` takes: ``ducklake:postgres:<conninfo>``."""
        return LAKE_PREFIX + self.conninfo

    def redacted(self) -> str:
        """The catalog's address fit for logs and messages: any password is masked."""
        hidden = _PASSWORD_RE.sub(r"\1***", self.conninfo)
        return LAKE_PREFIX + _URI_PASSWORD_RE.sub(r"\1***\2", hidden)

    def __repr__(self) -> str:
        # why: a dataclass repr would print the password into tracebacks and logs
        return f"Lake({self.redacted()!r}, data_path={self.data_path!r})"


@dataclass(frozen=True)
class Settings:
    """Paths of one pipeline installation.

    Args:
        warehouse: the DuckDB file the pipeline writes; on DuckLake, a local folder beside the
            landing zone that only holds local by-products (validation docs).
        landing: root of the landing zone (raw bytes, content-addressed).
        staging: where parsed batches wait for audit and publish.
        bi_warehouse: the read-only copy of the marts that BI tools open (file backend only;
            on DuckLake readers attach the lake itself at the last audited snapshot).
        busy_timeout: seconds to wait for another writer before giving up (file backend).
        lake: the DuckLake warehouse, or None for the embedded DuckDB file.
    """

    warehouse: Path
    landing: Path
    staging: Path
    bi_warehouse: Path
    busy_timeout: float = 30.0
    lake: Lake | None = None

    @property
    def target(self) -> Path | Lake:
        """What :func:`ingest.warehouse.open_warehouse` opens: the file, or the lake."""
        return self.lake if self.lake is not None else self.warehouse

    def describe(self) -> str:
        """The warehouse for messages (never with a password)."""
        return self.lake.redacted() if self.lake is not None else str(self.warehouse)

    @classmethod
    def from_env(
        cls,
        warehouse: str | os.PathLike[str] | None = None,
        data_path: str | os.PathLike[str] | None = None,
    ) -> Settings:
        """Settings from arguments, then ``INGEST_*`` variables, then defaults.

        ``warehouse`` is a DuckDB file path or ``ducklake:postgres:<libpq conninfo>``; a lake
        also needs ``data_path`` (or ``INGEST_LAKE_DATA_PATH``). The landing zone and staging
        live beside the warehouse file's folder (or the lake's local data path) unless set.
        """
        timeout = float(os.environ.get("INGEST_BUSY_TIMEOUT", "30"))
        named = str(warehouse or os.environ.get("INGEST_WAREHOUSE") or DEFAULT_WAREHOUSE)
        if named.startswith("ducklake:"):
            return cls._lake(named, data_path, timeout)
        if data_path is not None:
            raise ConfigError("--data-path only applies to a ducklake:postgres: warehouse")
        path = Path(named)
        home = path.parent.parent if path.parent.name == "warehouse" else path.parent
        landing = Path(os.environ.get("INGEST_LANDING") or home / "landing")
        staging = Path(os.environ.get("INGEST_STAGING") or home / "staging")
        bi = path.with_name(path.stem + "_bi" + path.suffix)
        return cls(
            warehouse=path, landing=landing, staging=staging, bi_warehouse=bi, busy_timeout=timeout
        )

    @classmethod
    def _lake(
        cls, named: str, data_path: str | os.PathLike[str] | None, timeout: float
    ) -> Settings:
        if not named.startswith(LAKE_PREFIX):
            raise ConfigError(
                "a DuckLake warehouse must use a PostgreSQL catalog: ducklake:postgres:<conninfo>"
            )
        conninfo = named.removeprefix(LAKE_PREFIX).strip()
        if not conninfo:
            raise ConfigError("ducklake:postgres: needs a libpq conninfo (host=... dbname=...)")
        data = str(data_path or os.environ.get("INGEST_LAKE_DATA_PATH") or "")
        if not data:
            raise ConfigError(
                "a DuckLake warehouse needs a data path: --data-path DIR or INGEST_LAKE_DATA_PATH"
            )
        remote = "://" in data
        if not remote:
            # why: duckdb resolves a relative data path against the process's cwd, which
            # differs between workers; the catalog must record one absolute location
            data = str(Path(data).resolve())
        landing_env = os.environ.get("INGEST_LANDING")
        staging_env = os.environ.get("INGEST_STAGING")
        if remote and not (landing_env and staging_env):
            raise ConfigError(
                "with an object-store data path, set INGEST_LANDING and INGEST_STAGING too"
            )
        home = Path(data).parent
        local = home / "warehouse"
        return cls(
            warehouse=local / "ducklake",
            landing=Path(landing_env or home / "landing"),
            staging=Path(staging_env or home / "staging"),
            bi_warehouse=local / "ducklake_bi",
            busy_timeout=timeout,
            lake=Lake(conninfo=conninfo, data_path=data),
        )
