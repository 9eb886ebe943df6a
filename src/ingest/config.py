"""Where things live: warehouse, landing zone and staged batches, from flags or environment.

The ``INGEST_*`` variables themselves are declared and validated in ``ingest.settings``; that
module imports pydantic, so it is imported here only inside the functions that read them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ingest.errors import ConfigError

if TYPE_CHECKING:
    from ingest.settings import CoreSettings

__all__ = ["ConfigError", "ConfigReport", "Lake", "Settings", "describe_config", "inbox_folder"]

LAKE_PREFIX = "ducklake:postgres:"

_PASSWORD_RE = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_URI_PASSWORD_RE = re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*(@)", re.IGNORECASE)


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
        writer_memory_mib: DuckDB's memory limit while loads are published.
        lake: the DuckLake warehouse, or None for the embedded DuckDB file.
    """

    warehouse: Path
    landing: Path
    staging: Path
    bi_warehouse: Path
    busy_timeout: float = 30.0
    writer_memory_mib: int = 512
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

        Raises:
            ConfigError: a variable's value is invalid, or the warehouse cannot be used.
        """
        from ingest.settings import read_core

        return cls.from_core(read_core(), warehouse, data_path)

    @classmethod
    def from_core(
        cls,
        core: CoreSettings,
        warehouse: str | os.PathLike[str] | None = None,
        data_path: str | os.PathLike[str] | None = None,
    ) -> Settings:
        """Settings from arguments, then the core's variables as read in ``core``."""
        named = str(warehouse or core.warehouse)
        if named.startswith("ducklake:"):
            return cls._lake(named, data_path, core)
        if data_path is not None:
            raise ConfigError("--data-path only applies to a ducklake:postgres: warehouse")
        path = Path(named)
        home = path.parent.parent if path.parent.name == "warehouse" else path.parent
        return cls(
            warehouse=path,
            landing=core.landing or home / "landing",
            staging=core.staging or home / "staging",
            bi_warehouse=path.with_name(path.stem + "_bi" + path.suffix),
            busy_timeout=core.busy_timeout,
            writer_memory_mib=core.writer_memory_mib,
        )

    @classmethod
    def _lake(
        cls, named: str, data_path: str | os.PathLike[str] | None, core: CoreSettings
    ) -> Settings:
        if not named.startswith(LAKE_PREFIX):
            raise ConfigError(
                "a DuckLake warehouse must use a PostgreSQL catalog: ducklake:postgres:<conninfo>"
            )
        conninfo = named.removeprefix(LAKE_PREFIX).strip()
        if not conninfo:
            raise ConfigError("ducklake:postgres: needs a libpq conninfo (host=... dbname=...)")
        data = str(data_path or core.lake_data_path or "")
        if not data:
            raise ConfigError(
                "a DuckLake warehouse needs a data path: --data-path DIR or INGEST_LAKE_DATA_PATH"
            )
        remote = "://" in data
        if not remote:
            # why: duckdb resolves a relative data path against the process's cwd, which
            # differs between workers; the catalog must record one absolute location
            data = str(Path(data).resolve())
        if remote and not (core.landing and core.staging):
            raise ConfigError(
                "with an object-store data path, set INGEST_LANDING and INGEST_STAGING too"
            )
        home = Path(data).parent
        local = home / "warehouse"
        return cls(
            warehouse=local / "ducklake",
            landing=core.landing or home / "landing",
            staging=core.staging or home / "staging",
            bi_warehouse=local / "ducklake_bi",
            busy_timeout=core.busy_timeout,
            writer_memory_mib=core.writer_memory_mib,
            lake=Lake(conninfo=conninfo, data_path=data),
        )


def inbox_folder(settings: Settings, core: CoreSettings | None = None) -> Path:
    """``INGEST_INBOX``, else ``inbox/`` beside the landing zone."""
    if core is None:
        from ingest.settings import read_core

        core = read_core()
    return core.inbox or settings.landing.parent / "inbox"


# ---- ingest config

Source = Literal["flag", "env", "default"]
SECRET_SHOWN = "***"


@dataclass(frozen=True)
class ConfigEntry:
    """One variable's effective value, as ``ingest config`` shows it.

    Args:
        name: the setting's name (``busy_timeout``; a platform's own: ``<platform>.<field>``).
        env: the variable.
        value: its effective value (a path, a number, text); ``***`` for a secret that is set;
            None when unset and without default.
        source: where the value came from: a command-line flag, the environment, a default.
        platform: the platform that declares it, or None for the core.
        secret: whether the value is a secret (then never shown).
    """

    name: str
    env: str
    value: str | int | float | None
    source: Source
    platform: str | None = None
    secret: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "env": self.env,
            "value": self.value,
            "source": self.source,
            "platform": self.platform,
            "secret": self.secret,
        }


@dataclass(frozen=True)
class ConfigReport:
    """The effective settings, secrets masked: ``to_dict()`` for ``--json``, ``str`` for people."""

    entries: tuple[ConfigEntry, ...]
    warehouse: str

    def to_dict(self) -> dict[str, object]:
        return {
            "warehouse": self.warehouse,
            "settings": [entry.to_dict() for entry in self.entries],
        }

    def __str__(self) -> str:
        rows = [("variable", "value", "from", "platform")]
        rows += [
            (e.env, "not set" if e.value is None else str(e.value), e.source, e.platform or "")
            for e in self.entries
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows
        ]
        return "\n".join(line.rstrip() for line in lines)


def describe_config(warehouse: str | None = None, data_path: str | None = None) -> ConfigReport:
    """Every ``INGEST_*`` variable's effective value and where it came from; secrets masked.

    ``warehouse`` and ``data_path`` are the command's ``--warehouse`` and ``--data-path``
    flags, which take precedence over ``INGEST_WAREHOUSE`` and ``INGEST_LAKE_DATA_PATH``.

    Raises:
        ConfigError: a variable's value is invalid (all of them named at once), or the
            warehouse cannot be used.
    """
    from ingest.platforms import platforms
    from ingest.settings import PlatformSettings, read_settings, variables

    declared = list(platforms().values())
    read = read_settings(declared)
    settings = Settings.from_core(read.core, warehouse, data_path)
    flags = {"INGEST_WAREHOUSE": warehouse, "INGEST_LAKE_DATA_PATH": data_path}
    effective: Mapping[str, str | int | float | None] = {
        "INGEST_WAREHOUSE": settings.describe(),
        "INGEST_LAKE_DATA_PATH": settings.lake.data_path if settings.lake else None,
        "INGEST_LANDING": str(settings.landing),
        "INGEST_STAGING": str(settings.staging),
        "INGEST_INBOX": str(inbox_folder(settings, read.core)),
    }
    entries = []
    for variable in variables(declared):
        holder: CoreSettings | PlatformSettings = (
            read.core if variable.platform is None else read.platforms[variable.platform]
        )
        given = variable.field in holder.model_fields_set
        source: Source = "flag" if flags.get(variable.env) else "env" if given else "default"
        value = effective.get(variable.env, _plain(getattr(holder, variable.field)))
        if variable.secret:
            value = SECRET_SHOWN if value is not None else None
        name = f"{variable.platform}.{variable.field}" if variable.platform else variable.field
        entries.append(
            ConfigEntry(name, variable.env, value, source, variable.platform, variable.secret)
        )
    return ConfigReport(entries=tuple(entries), warehouse=settings.describe())


def _plain(value: object) -> str | int | float | None:
    if value is None or isinstance(value, int | float | str):
        return value
    return str(value)
