"""Parity: the expectations a run-wide audit decides in DuckDB get GX's own verdicts.

Every kind ``sql_verdicts`` decides is tripped by a file of its own, beside clean files and
values no expectation minds (a NULL flag a row condition reads). The same run is audited three
ways: decided in DuckDB, decided by GX in one pass (``sql_verdicts`` switched off), and by GX
batch by batch. Each load must get the same result of every expectation from all three: its
verdict, its counts, its samples and their source lines.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest import validation
from ingest.validation import run_audit, sql_verdicts
from tests.staged import stage_file
from tests.validation.helpers import DAY, channel, set_staged, video, write_channels, write_videos

CHANNELS = [f"UCparity{i:016d}" for i in range(6)]
LATE = datetime(2099, 1, 1, tzinfo=UTC)
BETWEEN = "expect_column_values_to_be_between"
NOT_NULL = "expect_column_values_to_not_be_null"
# (case, file kind, staged values set: [(entity, column, row, value)], the expectation it trips
# on which entity, or None where nothing should be found)
CASES: list[tuple[str, str, list[tuple[str, str, int, Any]], tuple[str, str] | None]] = [
    ("clean_videos", "videos", [], None),
    ("clean_channels", "channels", [], None),
    ("negative_views", "videos", [("post_daily", "views", 1, -3)], ("post_daily", BETWEEN)),
    (
        "unknown_platform",
        "videos",
        [("post_daily", "platform", 0, "myspace")],
        ("post_daily", "expect_column_values_to_be_in_set"),
    ),
    (
        "published_late",
        "videos",
        [("post_daily", "published_at", 2, LATE)],
        ("post_daily", BETWEEN),
    ),
    (
        "day_too_early",
        "videos",
        [("post_daily", "day", 0, date(1999, 1, 1))],
        ("post_daily", BETWEEN),
    ),
    (
        "hidden_likes_with_a_count",
        "videos",
        [("post_daily", "likes_hidden", 0, True)],
        ("post_daily", "expect_column_values_to_be_null"),
    ),
    ("no_account", "videos", [("post_daily", "account_id", 3, None)], ("post_daily", NOT_NULL)),
    ("unknown_like_flag", "videos", [("post_daily", "likes_hidden", 1, None)], None),
    # on every bound, inclusive: nothing to find
    (
        "on_the_bounds",
        "videos",
        [
            ("post_daily", "views", 0, 50),
            ("post_daily", "likes", 0, 50),
            ("post_daily", "comments", 1, 0),
            ("posts", "duration_seconds", 2, 43_200),
            ("posts", "duration_seconds", 3, 0),
        ],
        None,
    ),
    ("followers_on_the_bound", "channels", [("account_daily", "followers", 0, 10**9)], None),
    (
        "likes_over_views",
        "likes_over_views",
        [],
        ("post_daily", "expect_column_pair_values_a_to_be_greater_than_b"),
    ),
    (
        "repeated_key",
        "repeated_key",
        [],
        ("post_daily", "expect_compound_columns_to_be_unique"),
    ),
    ("very_long_video", "videos", [("posts", "duration_seconds", 0, 50_000)], ("posts", BETWEEN)),
    ("negative_duration", "videos", [("posts", "duration_seconds", 1, -1)], ("posts", BETWEEN)),
    (
        "followers_missing_not_hidden",
        "channels",
        [("account_daily", "followers", 0, None)],
        ("account_daily", NOT_NULL),
    ),
    (
        "followers_beyond_a_billion",
        "channels",
        [("account_daily", "followers", 1, 2_000_000_000)],
        ("account_daily", BETWEEN),
    ),
    ("unknown_hidden_flag", "channels", [("account_daily", "followers_hidden", 2, None)], None),
    ("created_late", "channels", [("accounts", "created_at", 0, LATE)], ("accounts", BETWEEN)),
    (
        "handles_missing",
        "channels",
        [("accounts", "handle", 0, None), ("accounts", "handle", 1, None)],
        ("accounts", NOT_NULL),
    ),
]


def _file(kind: str, name: str, folder: Path) -> Path:
    path = folder / f"{name}.json"
    if kind == "channels":
        return write_channels(path, [channel(c, str(1000 + i)) for i, c in enumerate(CHANNELS)])
    videos = [video(f"{name[:8]}{i:04d}", CHANNELS[i]) for i in range(6)]
    if kind == "likes_over_views":
        videos[4] = video(f"{name[:8]}odd", CHANNELS[4], views="10", likes="500")
    return write_videos(path, videos)


def _staged(settings, folder: Path) -> tuple[list, dict[str, str]]:
    """A batch per case, its findings set in its staged files; and each case's load."""
    batches = []
    loads = {}
    for name, kind, changes, _ in CASES:
        batch = stage_file(_file(kind, name, folder), settings, day=DAY)
        for entity, column, row, value in changes:
            set_staged(batch, entity, column, row, value)
        if kind == "repeated_key":
            path = batch.entities["post_daily"].path
            table = pq.read_table(path)
            pq.write_table(pa.concat_tables([table, table.slice(2, 1)]), path)
        batches.append(batch)
        loads[name] = batch.load_id
    return batches, loads


def _results(report) -> list[dict[str, Any]]:
    return [asdict(r) for r in report.results]


@pytest.mark.parametrize("chunk_rows", [1_000_000, 5])
def test_duckdb_and_gx_give_every_load_the_same_result_of_every_expectation(
    settings, tmp_path, gx_session, monkeypatch, chunk_rows
):
    batches, loads = _staged(settings, tmp_path)
    decided: list[tuple[str, bool]] = []
    real_decide = sql_verdicts.decide

    def watched(conn, rows, *args, **kwargs):
        outcome = real_decide(conn, rows, *args, **kwargs)
        decided.append((rows.suite.name, outcome is not None))
        return outcome

    monkeypatch.setattr(sql_verdicts, "decide", watched)
    in_sql = validation.audit_batches(batches, chunk_rows=chunk_rows)
    # every suite of the run was decided in DuckDB, none handed to GX
    assert sorted(decided) == sorted((s, True) for s in validation.CANONICAL_SUITES)
    checked_at = in_sql[0].checked_at
    monkeypatch.setattr(sql_verdicts, "decide", lambda *args, **kwargs: None)
    by_gx = validation.audit_batches(batches, chunk_rows=chunk_rows, now=checked_at)
    for sql_report, gx_report, batch in zip(in_sql, by_gx, batches, strict=True):
        alone = run_audit.audit_batch(batch, chunk_rows=chunk_rows, now=checked_at)
        assert _results(sql_report) == _results(gx_report), batch.source_file
        assert _results(sql_report) == _results(alone), batch.source_file
    by_load = {r.load_id: r for r in in_sql}
    for name, _, _, trips in CASES:
        report = by_load[loads[name]]
        found = {(r.suite, r.expectation) for r in report.results if r.unexpected_count}
        if trips is None:
            assert found == set(), name
        else:
            assert trips in found, name
    for batch in batches:
        batch.discard()


# (kind, arguments, decided in DuckDB): any other kind, or an argument whose meaning GX defines
# otherwise, leaves the whole suite to GX
LEFT_TO_GX = [
    ("expect_column_values_to_be_between", {"column": "views", "min_value": 0}, True),
    ("expect_column_values_to_match_regex", {"column": "post_id", "regex": "^v"}, False),
    (
        "expect_column_pair_values_a_to_be_greater_than_b",
        {"column_A": "views", "column_B": "likes", "ignore_row_if": "neither"},
        False,
    ),
    ("expect_column_values_to_be_between", {"column": "views", "min_value": "0"}, False),
    ("expect_column_values_to_be_between", {"column": "views", "min_value": 0, "x": 1}, False),
    (
        "expect_column_values_to_be_null",
        {"column": "likes", "row_condition": "views > 5", "condition_parser": "pandas"},
        False,
    ),
    (
        "expect_column_values_to_be_null",
        {
            "column": "likes",
            "row_condition": 'col("views") == 5',
            "condition_parser": "great_expectations",
        },
        False,
    ),
]


@pytest.mark.parametrize(("kind", "kwargs", "in_duckdb"), LEFT_TO_GX)
def test_what_duckdb_does_not_decide_is_left_to_gx(tmp_path, kind, kwargs, in_duckdb):
    from ingest.sqlfiles import in_memory
    from ingest.staging import LINE_COLUMN, StagedEntity
    from ingest.validation.frames import LOAD_COLUMN, ROW_COLUMN, Rows
    from ingest.validation.suites import Spec, Suite

    path = tmp_path / "post_daily.parquet"
    pq.write_table(
        pa.table(
            {
                "post_id": ["v1", "v2"],
                "views": pa.array([10, 3], pa.int64()),
                "likes": pa.array([1, None], pa.int64()),
                LINE_COLUMN: pa.array([1, 2], pa.int64()),
            }
        ),
        path,
    )
    spec = Spec(kind, kwargs, "critical")
    rows = Rows(
        suite=Suite("post_daily", "core.post_daily", ("post_id",), (spec,)),
        query="",
        params={},
        columns=("post_id", "views", "likes", LINE_COLUMN, LOAD_COLUMN, ROW_COLUMN),
        pieces=(
            (*run_audit._rows_query([("load1", StagedEntity("post_daily", str(path), [], 2))]), 2),
        ),
    )
    conn = in_memory()
    try:
        decided = sql_verdicts.decide(conn, rows, [spec], {}, lambda _: False)
    finally:
        conn.close()
    assert (decided is not None) == in_duckdb
    if decided is not None:
        assert decided.counts == [{"load1": 2}]
        assert decided.merged[0].unexpected_count == 0
