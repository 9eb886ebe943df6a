"""Mart SQL on small hand-computed inputs: tiers at every boundary, engagement, history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ingest.model import ENTITIES
from ingest.transforms import rebuild_marts
from ingest.warehouse import migrate, open_warehouse

D = date(2026, 9, 10)
OBSERVED = datetime(2026, 9, 11, 6, tzinfo=UTC)


@pytest.fixture
def conn(tmp_path: Path):
    connection = open_warehouse(tmp_path / "w.duckdb")
    migrate(connection)
    yield connection
    connection.close()


def insert(conn: duckdb.DuckDBPyConnection, entity: str, **values) -> None:
    values = {"load_id": "test", "observed_at": OBSERVED, **values}
    names = ", ".join(values)
    marks = ", ".join(f"${k}" for k in values)
    conn.execute(f"insert into {ENTITIES[entity].table} ({names}) values ({marks})", values)


def account_day(conn, account: str, day: date, followers: int | None, platform="youtube"):
    insert(
        conn, "account_daily", platform=platform, account_id=account, day=day, followers=followers
    )


def pending(conn, account: str, start: date, end: date, platform="youtube") -> None:
    conn.execute(
        "insert into meta.pending_mart_days values ($p, $a, $s, $e, 'test')",
        {"p": platform, "a": account, "s": start, "e": end},
    )


@pytest.mark.parametrize(
    ("followers", "tier"),
    [
        (0, "nano"),
        (4_999, "nano"),
        (5_000, "micro"),
        (99_999, "micro"),
        (100_000, "macro"),
        (999_999, "macro"),
        (1_000_000, "mega"),
        (None, None),
    ],
)
def test_tier_boundaries(conn, followers, tier):
    account_day(conn, "acc", D, followers)
    pending(conn, "acc", D, D)
    rebuild_marts(conn)
    assert conn.execute(
        "select followers, tier, tier_rule_version from marts.creator_tier_daily"
    ).fetchall() == [(followers, tier, "mission-v1")]


def test_engagement_by_followers_and_views(conn):
    for day, followers in (
        (D - timedelta(days=7), 9_000),
        (D - timedelta(days=1), 9_900),
        (D, 10_000),
    ):
        account_day(conn, "acc", day, followers)

    def post(post_id: str, published: date) -> None:
        insert(
            conn,
            "posts",
            platform="youtube",
            post_id=post_id,
            account_id="acc",
            published_at=datetime.combine(published, datetime.min.time(), UTC),
        )

    def seen(post_id: str, day: date, **counts) -> None:
        insert(
            conn,
            "post_daily",
            platform="youtube",
            post_id=post_id,
            account_id="acc",
            day=day,
            **counts,
        )

    post("p1", D - timedelta(days=3))
    seen("p1", D - timedelta(days=1), views=1_500, likes=100, comments=10, shares=5)
    seen("p1", D, views=2_000, likes=200, comments=20)  # the latest observation counts
    post("p2", D - timedelta(days=30))  # outside the 28-day window
    seen("p2", D, views=9_999, likes=9_999, comments=9_999)
    post("p3", D - timedelta(days=10))  # likes hidden: counted as a post, not in the mean
    seen("p3", D, views=700, likes=None, comments=4)
    post("p4", D - timedelta(days=27))  # last day inside the window
    seen("p4", D - timedelta(days=20), views=1_000, likes=50, comments=0)
    pending(conn, "acc", D - timedelta(days=7), D)
    rebuild_marts(conn)
    row = conn.execute(
        "select posts_28d, interactions_28d, engagement_rate, engagement_rate_views,"
        " views_28d, followers_change_1d, followers_change_7d, engagement_formula"
        " from marts.creator_engagement_daily where day = $d",
        {"d": D},
    ).fetchone()
    assert row[:2] == (3, 270)
    assert row[2] == pytest.approx(135 / 10_000)
    assert row[3] == pytest.approx(270 / 3_000)
    assert row[4:] == (3_000, 100, 1_000, "er_followers_v1")


def test_engagement_is_null_when_followers_are_hidden(conn):
    account_day(conn, "acc", D, None)
    insert(
        conn,
        "posts",
        platform="youtube",
        post_id="p1",
        account_id="acc",
        published_at=datetime.combine(D, datetime.min.time(), UTC),
    )
    insert(
        conn,
        "post_daily",
        platform="youtube",
        post_id="p1",
        account_id="acc",
        day=D,
        views=10,
        likes=1,
        comments=0,
    )
    pending(conn, "acc", D, D)
    rebuild_marts(conn)
    assert conn.execute(
        "select followers, posts_28d, interactions_28d, engagement_rate, followers_change_1d"
        " from marts.creator_engagement_daily"
    ).fetchall() == [(None, 1, 1, None, None)]


def test_tier_history_has_one_row_per_stretch(conn):
    for offset, followers in enumerate((4_900, 5_100, 5_200, 4_950)):
        account_day(conn, "acc", D + timedelta(days=offset), followers)
    pending(conn, "acc", D, D + timedelta(days=3))
    rebuild_marts(conn)
    assert conn.execute(
        "select tier, valid_from, valid_to from marts.creator_tier_history order by valid_from"
    ).fetchall() == [
        ("nano", D, D + timedelta(days=1)),
        ("micro", D + timedelta(days=1), D + timedelta(days=3)),
        ("nano", D + timedelta(days=3), None),
    ]


def test_only_pending_days_are_rebuilt_and_pending_is_consumed(conn):
    account_day(conn, "acc", D, 6_000)
    account_day(conn, "other", D, 7_000)
    pending(conn, "acc", D, D)
    rebuild_marts(conn)
    assert conn.execute("select account_id from marts.creator_tier_daily").fetchall() == [("acc",)]
    assert conn.execute("select count(*) from meta.pending_mart_days").fetchone() == (0,)


def test_core_tables_match_the_model(conn):
    for entity in ENTITIES.values():
        schema, table = entity.table.split(".")
        columns = [
            name
            for (name,) in conn.execute(
                "select column_name from information_schema.columns"
                " where table_schema = $s and table_name = $t order by ordinal_position",
                {"s": schema, "t": table},
            ).fetchall()
        ]
        assert [c for c in columns if c in entity.column_names] == list(entity.column_names)
        assert {"load_id", "observed_at"} <= set(columns)


def test_migrations_are_idempotent(conn):
    assert migrate(conn) == []
