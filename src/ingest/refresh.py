"""The marts after a publish: rebuild, audit, and publish BI only what passed its audit.

Every caller (``ingest load``, ``ingest run``, a creators load, the nightly DAG) refreshes the
marts through :func:`refresh_marts`, so the gate is in one place. A rebuild holds every range
it replaces in ``meta.mart_audit_holds`` (in its own transaction) and rebuilds the ranges
already held; the audit covers all held ranges and releases them only when it passes. The BI
copy is published only while nothing is held, so a range that failed its audit never reaches
BI, whatever runs next: an empty run, a creators load or another day's load finds it still
held, rebuilds and audits it again, and keeps BI on its last good copy until it passes.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import duckdb

from ingest.bi_copy import publish_bi
from ingest.config import Settings
from ingest.progress import emit
from ingest.sqlfiles import run_sql
from ingest.transforms import rebuild_marts
from ingest.validation import PendingMarts, audit_marts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MartsRefresh:
    """What one refresh did. Plain values: it travels as an Airflow XCom.

    Args:
        ranges: account ranges rebuilt (pending and held ones).
        passed: whether the audit of every held range passed.
        published: whether a new BI copy (on DuckLake: newly audited marts) was published;
            downstream consumers should hear of the marts only then.
        target: the BI file, or the DuckLake snapshot, that was published.
        held: account ranges still held back from BI.
        message: why nothing was published, when it was not.
    """

    ranges: int
    passed: bool
    published: bool
    target: str | None = None
    held: int = 0
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def held_marts(conn: duckdb.DuckDBPyConnection) -> tuple[PendingMarts, datetime | None]:
    """The held ranges the audit must pass, the loads behind them, and the newest hold's time."""
    ranges = run_sql(conn, "gate/held_ranges").fetchall()
    loads = run_sql(conn, "gate/held_loads").fetchall()
    newest = run_sql(conn, "gate/newest_hold").fetchone()
    return (
        PendingMarts(
            ranges=[(str(r[0]), str(r[1]), r[2], r[3]) for r in ranges],
            load_ids=[str(r[0]) for r in loads],
        ),
        newest[0] if newest else None,
    )


def refresh_marts(conn: duckdb.DuckDBPyConnection, settings: Settings) -> MartsRefresh:
    """Rebuild the pending and held mart ranges, audit them, and publish BI if they pass.

    Runs on the writer connection. A failed audit leaves its ranges held (BI keeps its last
    good copy); the next refresh rebuilds and audits them again.
    """
    emit("marts")
    rebuilt = rebuild_marts(conn)
    held, held_until = held_marts(conn)
    report = audit_marts(conn, held, settings)
    if not report.passed:
        message = (
            f"{len(held.ranges)} account range(s) held back from BI until their marts pass"
            f" the audit: {report.message()}"
        )
        return MartsRefresh(rebuilt, False, False, held=len(held.ranges), message=message)
    if held_until is not None:
        run_sql(conn, "gate/release_held", {"held_until": held_until})
    still = run_sql(conn, "gate/count_held").fetchone()
    if still and still[0]:
        # held by another writer after this audit read them (DuckLake): their own audit decides
        return MartsRefresh(
            rebuilt, True, False, held=int(still[0]), message="ranges held by another writer"
        )
    emit("bi_copy")
    target = publish_bi(conn, settings)
    return MartsRefresh(rebuilt, True, True, target=str(target))
