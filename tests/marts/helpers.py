"""Small writers of core rows for the mart tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import duckdb

from ingest.model import ENTITIES

OBSERVED = datetime(2026, 9, 11, 6, tzinfo=UTC)


def insert(conn: duckdb.DuckDBPyConnection, entity: str, **values: Any) -> None:
    values = {"load_id": "test", "observed_at": OBSERVED, **values}
    names = ", ".join(values)
    marks = ", ".join(f"${k}" for k in values)
    conn.execute(f"insert into {ENTITIES[entity].table} ({names}) values ({marks})", values)


def account_day(conn, account: str, day: date, followers: int | None, platform="youtube"):
    insert(
        conn, "account_daily", platform=platform, account_id=account, day=day, followers=followers
    )


def post(conn, account: str, post_id: str, published: date, platform="youtube", **counts) -> None:
    """A post published on ``published`` and observed that same day with ``counts``."""
    insert(
        conn,
        "posts",
        platform=platform,
        post_id=post_id,
        account_id=account,
        published_at=datetime.combine(published, datetime.min.time(), UTC),
    )
    insert(
        conn,
        "post_daily",
        platform=platform,
        post_id=post_id,
        account_id=account,
        day=published,
        **counts,
    )


def pending(conn, account: str, start: date, end: date, platform="youtube") -> None:
    conn.execute(
        "insert into meta.pending_mart_days values ($p, $a, $s, $e, 'test')",
        {"p": platform, "a": account, "s": start, "e": end},
    )


def map_creators(conn, *rows: tuple[str, str, str]) -> None:
    """Replace the creators mapping with (creator_id, platform, account_id) rows."""
    from ingest.creators import MappingRow, apply_mapping

    conn.execute("begin transaction")
    apply_mapping(
        conn,
        [MappingRow(c, p, a, None, n) for n, (c, p, a) in enumerate(rows, start=2)],
        load_id="map",
        observed_at=OBSERVED,
    )
    conn.execute("commit")
