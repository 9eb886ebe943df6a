"""Restatements through the real publish path: a later load replaces one past day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ingest.parsing import Format, ParseContext, Record
from ingest.publish import publish
from ingest.staging import stage
from ingest.transforms import rebuild_marts

D0 = date(2026, 7, 1)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def load(conn, tmp_path: Path, name: str, rows: dict[int, int], observed: datetime) -> None:
    """Stage and publish ``rows`` (day number -> followers) as one account_daily load."""

    def parse(path: Path, ctx: ParseContext) -> Iterator[Record]:
        for line, (n, followers) in enumerate(sorted(rows.items()), start=2):
            values = {"platform": "youtube", "account_id": "acc", "day": day(n)}
            yield Record("account_daily", line, {**values, "followers": followers})

    source = tmp_path / f"{name}.csv"
    source.write_text(name)
    fmt = Format("youtube", "test_rows", parse, lambda sample: True)
    ctx = ParseContext(source=name, platform="youtube", account=None, observed_at=observed, day=D0)
    batch = stage(
        source, fmt, ctx, staging_root=tmp_path / "staging", load_id=name, source_sha256=name
    )
    publish(conn, batch)
    rebuild_marts(conn)


def followers(n: int) -> int:
    """Day 0 = 10,000; then +10 on odd days and +20 on even days."""
    return 10_000 + 10 * ((n + 1) // 2) + 20 * (n // 2)


def anomaly(conn, n: int):
    return conn.execute(
        "select window_changes, median_change, mad_change, scale"
        " from marts.follower_anomalies_daily where day = $d",
        {"d": day(n)},
    ).fetchone()


def test_a_restated_day_rebuilds_its_window_and_keeps_history(conn, tmp_path):
    first = datetime(2026, 8, 25, 6, tzinfo=UTC)
    load(conn, tmp_path, "first", {n: followers(n) for n in range(52)}, first)
    before = conn.execute(
        "select * from marts.creator_engagement_daily where day < $d order by day", {"d": day(21)}
    ).fetchall()
    # baseline of day 50 = days 22..49: 14 x 20 and 14 x 10 -> median 15, MAD 5
    assert anomaly(conn, 50) == (28, 15.0, 5.0, pytest.approx(10.73))

    load(conn, tmp_path, "second", {21: followers(21) + 1_000}, first + timedelta(days=1))

    assert conn.execute(
        "select followers, load_id from core.account_daily where day = $d", {"d": day(21)}
    ).fetchone() == (followers(21) + 1_000, "second")
    assert conn.execute(
        "select followers, load_id, replaced_by_load_id from core.account_daily_history"
    ).fetchall() == [(followers(21), "first", "second")]
    # the day and the days whose windows reach it show the new value
    engagement = {
        d: (f, c1, c7)
        for d, f, c1, c7 in conn.execute(
            "select day, followers, followers_change_1d, followers_change_7d"
            " from marts.creator_engagement_daily"
        ).fetchall()
    }
    # a week of changes is 100 (days ending on an odd day) or 110 (ending on an even day)
    assert engagement[day(21)] == (followers(21) + 1_000, 1_010, 100 + 1_000)
    assert engagement[day(22)] == (followers(22), 20 - 1_000, 110)
    assert engagement[day(28)] == (followers(28), 20, 110 - 1_000)
    assert engagement[day(29)] == (followers(29), 10, 100)
    # day 21: +1,010 against a median of 15, scaled by 0.001 * 10,300 (day 20's followers)
    assert conn.execute(
        "select robust_score, is_spike from marts.follower_anomalies_daily where day = $d",
        {"d": day(21)},
    ).fetchone() == (pytest.approx(995 / 10.3), True)
    # day 50 = 21 + 29 is reached only through the spike baseline: its window now holds
    # -980 instead of a 20 -> 13 x 20, 14 x 10, -980: median 10; deviations 14 x 0, 13 x 10,
    # 990: MAD 5; scale max(7.413, 0.001 * 10,730) = 10.73
    assert anomaly(conn, 50) == (28, 10.0, 5.0, pytest.approx(10.73))
    assert anomaly(conn, 51) == (28, 15.0, 5.0, pytest.approx(10.75))
    # days before the restated one are untouched
    assert (
        conn.execute(
            "select * from marts.creator_engagement_daily where day < $d order by day",
            {"d": day(21)},
        ).fetchall()
        == before
    )
