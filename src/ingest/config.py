"""Where things live: warehouse, landing zone and staged batches, from flags or environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_WAREHOUSE = "warehouse/creators.duckdb"


@dataclass(frozen=True)
class Settings:
    """Paths of one pipeline installation.

    Args:
        warehouse: the DuckDB file the pipeline writes.
        landing: root of the landing zone (raw bytes, content-addressed).
        staging: where parsed batches wait for audit and publish.
        bi_warehouse: the read-only copy of the marts that BI tools open.
        busy_timeout: seconds to wait for another writer before giving up.
    """

    warehouse: Path
    landing: Path
    staging: Path
    bi_warehouse: Path
    busy_timeout: float = 30.0

    @classmethod
    def from_env(cls, warehouse: str | os.PathLike[str] | None = None) -> Settings:
        """Settings from arguments, then ``INGEST_*`` variables, then defaults.

        The landing zone and staging live beside the warehouse file's folder unless set.
        """
        path = Path(warehouse or os.environ.get("INGEST_WAREHOUSE") or DEFAULT_WAREHOUSE)
        home = path.parent.parent if path.parent.name == "warehouse" else path.parent
        landing = Path(os.environ.get("INGEST_LANDING") or home / "landing")
        staging = Path(os.environ.get("INGEST_STAGING") or home / "staging")
        bi = path.with_name(path.stem + "_bi" + path.suffix)
        timeout = float(os.environ.get("INGEST_BUSY_TIMEOUT", "30"))
        return cls(
            warehouse=path, landing=landing, staging=staging, bi_warehouse=bi, busy_timeout=timeout
        )
