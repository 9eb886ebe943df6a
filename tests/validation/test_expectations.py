"""Every critical expectation fails on data that breaks it and passes on data that does not."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest import validation
from ingest.model import ENTITIES
from ingest.platforms import names as platform_names
from ingest.sqlfiles import sql_root
from ingest.staging import LINE_COLUMN, StagedBatch, StagedEntity, arrow_schema
from ingest.tiers import load_rules
from ingest.validation import CRITICAL, load_suite
from ingest.validation.suites import SUITES_DIR

NOW = datetime.now(UTC)
FUTURE = NOW + timedelta(days=3)
FUTURE_DAY = FUTURE.date()
OLD = datetime(2004, 12, 31, tzinfo=UTC)
OLD_DAY = date(2004, 12, 31)

BASE: dict[str, list[dict[str, Any]]] = {
    "accounts": [
        {
            "platform": "youtube",
            "account_id": "A1",
            "handle": "@a1",
            "display_name": "A one",
            "created_at": datetime(2020, 1, 1, tzinfo=UTC),
        },
        {
            "platform": "tiktok",
            "account_id": "A1",
            "handle": "@a1",
            "display_name": "A one",
            "created_at": datetime(2021, 1, 1, tzinfo=UTC),
        },
    ],
    "account_daily": [
        {
            "platform": "youtube",
            "account_id": "A1",
            "day": date(2026, 9, 1),
            "followers": 1500,
            "following": 3,
            "posts_count": 12,
            "total_views": 10000,
            "total_likes": 700,
            "followers_hidden": False,
            "followers_rounded": True,
        },
        {
            "platform": "youtube",
            "account_id": "A2",
            "day": date(2026, 9, 1),
            "followers": None,
            "following": 0,
            "posts_count": 1,
            "total_views": 5,
            "total_likes": 0,
            "followers_hidden": True,
            "followers_rounded": False,
        },
    ],
    "posts": [
        {
            "platform": "youtube",
            "post_id": "P1",
            "account_id": "A1",
            "published_at": datetime(2026, 8, 20, 10, tzinfo=UTC),
            "caption": "hello",
            "media_type": "video",
            "permalink": "https://youtu.be/P1",
            "duration_seconds": 253,
        },
        {
            "platform": "youtube",
            "post_id": "P2",
            "account_id": "A1",
            "published_at": datetime(2026, 8, 21, 10, tzinfo=UTC),
            "caption": "again",
            "media_type": "video",
            "permalink": "https://youtu.be/P2",
            "duration_seconds": 60,
        },
    ],
    "post_daily": [
        {
            "platform": "youtube",
            "post_id": "P1",
            "account_id": "A1",
            "day": date(2026, 9, 1),
            "published_at": datetime(2026, 8, 20, 10, tzinfo=UTC),
            "views": 1000,
            "likes": 50,
            "comments": 5,
            "shares": 1,
            "saves": 0,
            "reach": 800,
            "likes_hidden": False,
        },
        {
            "platform": "youtube",
            "post_id": "P2",
            "account_id": "A1",
            "day": date(2026, 9, 1),
            "published_at": datetime(2026, 8, 21, 10, tzinfo=UTC),
            "views": 10,
            "likes": None,
            "comments": 0,
            "shares": 0,
            "saves": 0,
            "reach": 9,
            "likes_hidden": True,
        },
    ],
    "creator_engagement_daily": [
        {
            "platform": "youtube",
            "account_id": "A1",
            "handle": "@a1",
            "day": date(2026, 9, 1),
            "followers": 1500,
            "posts_28d": 2,
            "interactions_28d": 56,
            "engagement_rate": 0.0187,
            "engagement_rate_views": 0.055,
            "followers_change_1d": 3,
            "followers_change_7d": -2,
            "views_28d": 1010,
            "engagement_formula": "er_followers_v1",
            "engagement_views_formula": "er_views_v1",
        },
        {
            "platform": "youtube",
            "account_id": "A2",
            "handle": "@a2",
            "day": date(2026, 9, 1),
            "followers": None,
            "posts_28d": 0,
            "interactions_28d": None,
            "engagement_rate": None,
            "engagement_rate_views": None,
            "followers_change_1d": None,
            "followers_change_7d": None,
            "views_28d": None,
            "engagement_formula": "er_followers_v1",
            "engagement_views_formula": "er_views_v1",
        },
    ],
    # one row per rule version and tier at its lower bound, and one with hidden followers
    "creator_tier_daily": [
        *[
            {
                "platform": "youtube",
                "account_id": f"A{i}",
                "handle": f"@a{i}",
                "day": date(2026, 9, 1),
                "followers": rule["min_followers"],
                "tier": rule["tier"],
                "tier_rule_version": rule["rule_version"],
            }
            for i, rule in enumerate(load_rules().bounds())
        ],
        {
            "platform": "youtube",
            "account_id": "HIDDEN",
            "handle": "@hidden",
            "day": date(2026, 9, 1),
            "followers": None,
            "tier": None,
            "tier_rule_version": "mission-v1",
        },
    ],
}

Rows = list[dict[str, Any]]


def setting(**values: Any) -> Callable[[Rows], Rows]:
    """Break the first row by setting values."""

    def change(rows: Rows) -> Rows:
        return [{**rows[0], **values}, *rows[1:]]

    return change


def duplicate(rows: Rows) -> Rows:
    return [*rows, dict(rows[0])]


def as_float(column: str) -> tuple[Callable[[Rows], Rows], dict[str, pa.DataType]]:
    """A count written as floating point: the type expectation must catch it."""
    return (lambda rows: rows), {column: pa.float64()}


def counts(suite: str, *names: str) -> list[tuple[str, str, str, str | None, Any]]:
    cases: list[tuple[str, str, str, str | None, Any]] = []
    for name in names:
        cases.append((suite, "expect_column_values_to_be_in_type_list", name, None, as_float(name)))
        cases.append(
            (suite, "expect_column_values_to_be_between", name, None, setting(**{name: -1}))
        )
    return cases


def tier(name: str, followers: int, row: int) -> Callable[[Rows], Rows]:
    def change(rows: Rows) -> Rows:
        rows = [dict(r) for r in rows]
        rows[row]["followers"] = followers
        return rows

    return change


def keys(suite: str, *names: str) -> list[tuple[str, str, str, str | None, Any]]:
    return [
        (suite, "expect_column_values_to_not_be_null", n, None, setting(**{n: None})) for n in names
    ]


def common(suite: str, key: str, day: str | None) -> list[tuple[str, str, str, str | None, Any]]:
    cases = [
        (suite, "expect_compound_columns_to_be_unique", key, None, duplicate),
        (suite, "expect_column_values_to_be_in_set", "platform", None, setting(platform="myspace")),
    ]
    if day:
        cases += [
            (suite, "expect_column_values_to_be_between", day, None, setting(**{day: OLD_DAY})),
            (suite, "expect_column_values_to_be_between", day, None, setting(**{day: FUTURE_DAY})),
        ]
    return cases


def timestamps(suite: str, name: str) -> list[tuple[str, str, str, str | None, Any]]:
    return [
        (suite, "expect_column_values_to_be_between", name, None, setting(**{name: OLD})),
        (suite, "expect_column_values_to_be_between", name, None, setting(**{name: FUTURE})),
    ]


# (suite, expectation, column, row condition, how to break it)
CASES: list[tuple[str, str, str, str | None, Any]] = [
    *common("accounts", "platform,account_id", None),
    *keys("accounts", "platform", "account_id"),
    *timestamps("accounts", "created_at"),
    *common("account_daily", "platform,account_id,day", "day"),
    *keys("account_daily", "platform", "account_id", "day"),
    *counts("account_daily", "followers", "following", "posts_count", "total_views", "total_likes"),
    (
        "account_daily",
        "expect_column_values_to_not_be_null",
        "followers",
        "followers_hidden == False",
        setting(followers=None, followers_hidden=False),
    ),
    (
        "account_daily",
        "expect_column_values_to_be_null",
        "followers",
        "followers_hidden == True",
        setting(followers_hidden=True),
    ),
    *common("posts", "platform,post_id", None),
    *keys("posts", "platform", "post_id", "account_id"),
    *timestamps("posts", "published_at"),
    *counts("posts", "duration_seconds"),
    *common("post_daily", "platform,post_id,day", "day"),
    *keys("post_daily", "platform", "post_id", "day", "account_id"),
    *timestamps("post_daily", "published_at"),
    *counts("post_daily", "views", "likes", "comments", "shares", "saves", "reach"),
    (
        "post_daily",
        "expect_column_values_to_be_null",
        "likes",
        "likes_hidden == True",
        setting(likes_hidden=True),
    ),
    *common("creator_engagement_daily", "platform,account_id,day", "day"),
    *keys("creator_engagement_daily", "platform", "account_id", "day"),
    *[
        (
            "creator_engagement_daily",
            "expect_column_values_to_be_between",
            n,
            None,
            setting(**{n: -1}),
        )
        for n in (
            "followers",
            "posts_28d",
            "interactions_28d",
            "engagement_rate",
            "engagement_rate_views",
        )
    ],
    (
        "creator_engagement_daily",
        "expect_column_values_to_be_in_set",
        "engagement_formula",
        None,
        setting(engagement_formula="er_guess"),
    ),
    (
        "creator_engagement_daily",
        "expect_column_values_to_be_in_set",
        "engagement_views_formula",
        None,
        setting(engagement_views_formula="er_guess"),
    ),
    *common("creator_tier_daily", "platform,account_id,day", "day"),
    *keys("creator_tier_daily", "platform", "account_id", "day"),
    ("creator_tier_daily", "expect_column_values_to_be_in_set", "tier", None, setting(tier="giga")),
    (
        "creator_tier_daily",
        "expect_column_values_to_be_in_set",
        "tier_rule_version",
        None,
        setting(tier_rule_version="v0"),
    ),
    (
        "creator_tier_daily",
        "expect_column_values_to_not_be_null",
        "tier",
        "followers.notna()",
        setting(tier=None),
    ),
    (
        "creator_tier_daily",
        "expect_column_values_to_be_null",
        "tier",
        "followers.isna()",
        setting(followers=None),
    ),
    *[
        # one step past the bounds the rule (and its hysteresis margin) allows
        (
            "creator_tier_daily",
            "expect_column_values_to_be_between",
            "followers",
            f"tier == '{rule['tier']}' and tier_rule_version == '{rule['rule_version']}'",
            tier(
                rule["tier"],
                rule["min_allowed"] - 1 if rule["max_allowed"] is None else rule["max_allowed"] + 1,
                i,
            ),
        )
        for i, rule in enumerate(load_rules().bounds())
    ],
]


def _condition(spec: validation.Spec) -> str | None:
    return spec.kwargs.get("row_condition")


def _critical(suite: str, expectation: str, column: str, condition: str | None) -> validation.Spec:
    found = [
        s
        for s in load_suite(suite).expectations
        if s.severity == CRITICAL
        and s.type == expectation
        and s.column_label == column
        and _condition(s) == condition
    ]
    assert len(found) == 1, (suite, expectation, column, condition, found)
    return found[0]


def _audit(suite: str, rows: Rows, types: dict[str, pa.DataType], tmp_path: Path) -> list[Any]:
    """Audit rows with a suite: canonical tables as a staged batch, marts as rebuilt marts."""
    if suite in ENTITIES:
        return _audit_staged(suite, rows, types, tmp_path)
    return _audit_mart(suite, rows, types)


def _audit_staged(
    name: str, rows: Rows, types: dict[str, pa.DataType], tmp_path: Path, chunk_rows: int = 3
) -> list[Any]:
    entity = ENTITIES[name]
    schema = arrow_schema(entity)
    for column, kind in types.items():
        schema = schema.set(schema.get_field_index(column), pa.field(column, kind))
    table = pa.Table.from_pylist(
        [{**row, LINE_COLUMN: i + 1} for i, row in enumerate(rows)], schema=schema
    )
    path = tmp_path / f"{name}.parquet"
    pq.write_table(table, path)
    batch = StagedBatch(
        load_id="test-load",
        platform="youtube",
        format="test",
        source_file="test",
        source_sha256="0" * 64,
        account=None,
        observed_at=NOW.isoformat(),
        folder=str(tmp_path),
        started_at=NOW.isoformat(),
        rows_read=len(rows),
        entities={name: StagedEntity(name, str(path), list(entity.column_names), len(rows))},
    )
    return validation.audit_batch(batch, chunk_rows=chunk_rows).results


def _audit_mart(name: str, rows: Rows, types: dict[str, pa.DataType]) -> list[Any]:
    conn = duckdb.connect()
    try:
        conn.execute("create schema marts; create schema meta")
        conn.execute((sql_root() / "migrations" / "V005__validations.sql").read_text())
        table = pa.Table.from_pylist(rows)
        for column, kind in types.items():
            table = table.set_column(
                table.schema.get_field_index(column), column, table[column].cast(kind)
            )
        conn.register("incoming", table)
        # no key constraints here: the suite, not the table, must catch broken rows
        conn.execute(f"create table marts.{name} as select * from incoming")
        ranges = conn.execute(
            "select distinct platform, account_id, date '2000-01-01', date '2100-01-01'"
            f" from marts.{name} where platform is not null and account_id is not null"
        ).fetchall()
        pending = validation.PendingMarts(ranges=[tuple(r) for r in ranges], load_ids=["test-load"])
        return validation.audit_marts(conn, pending, chunk_rows=3).results
    finally:
        conn.close()


@pytest.mark.parametrize("suite", sorted({c[0] for c in CASES}))
def test_clean_data_meets_every_critical_expectation(suite, tmp_path, gx_session):
    results = _audit(suite, BASE[suite], {}, tmp_path)
    failed = [r.label() + ": " + r.observed for r in results if not r.success]
    assert failed == []
    audited = {(r.expectation, r.column, r.kwargs.get("row_condition")) for r in results}
    for spec in load_suite(suite).expectations:
        assert (spec.type, spec.column_label, _condition(spec)) in audited


@pytest.mark.parametrize(
    ("suite", "expectation", "column", "condition", "breaker"),
    CASES,
    ids=[f"{c[0]}-{c[1].removeprefix('expect_')}-{c[2]}-{i}" for i, c in enumerate(CASES)],
)
def test_each_critical_expectation_fails_on_data_that_breaks_it(
    suite, expectation, column, condition, breaker, tmp_path, gx_session
):
    spec = _critical(suite, expectation, column, condition)
    change, types = breaker if isinstance(breaker, tuple) else (breaker, {})
    results = _audit(suite, change([dict(r) for r in BASE[suite]]), types, tmp_path)
    [result] = [r for r in results if r.expectation == spec.type and r.kwargs == spec.kwargs]
    assert result.severity == CRITICAL
    assert not result.success, result.observed


def test_every_critical_expectation_has_a_breaking_case():
    covered = {(c[0], c[1], c[2], c[3]) for c in CASES}
    for suite in (*validation.CANONICAL_SUITES, *validation.MART_SUITES):
        for spec in load_suite(suite).expectations:
            if spec.severity == CRITICAL:
                assert (suite, spec.type, spec.column_label, _condition(spec)) in covered


def test_suite_texts_name_no_platform_and_no_count_of_them():
    # the platforms come from the registry: a suite that names one, or counts them, is stale
    # the day a platform is added
    for path in sorted(SUITES_DIR.glob("*.json")):
        text = path.read_text(encoding="utf-8").lower()
        assert not [p for p in platform_names() if p in text], path.name
        assert not re.search(r"\b(two|three|four|five|six|\d+) platforms\b", text), path.name


def _many_post_days(n: int) -> Rows:
    """``n`` post-days of one platform and account: text columns that repeat a few values."""
    return [
        {**BASE["post_daily"][0], "post_id": f"P{i:05d}", "likes": None if i % 7 else 5}
        for i in range(n)
    ]


def _result(results: list[Any], expectation: str, column: str) -> Any:
    [found] = [
        r
        for r in results
        if r.expectation == expectation and r.column == column and r.severity == CRITICAL
    ]
    return found


def test_repetitive_text_columns_still_fail_membership_and_uniqueness(tmp_path, gx_session):
    rows = _many_post_days(200)
    # one chunk: a column is categorical when a chunk's sample repeats its values
    assert not [r for r in _audit_staged("post_daily", rows, {}, tmp_path, 1000) if not r.success]
    rows[150] = {**rows[150], "platform": "myspace"}
    rows.append(dict(rows[3]))
    results = _audit_staged("post_daily", rows, {}, tmp_path, 1000)
    in_set = _result(results, "expect_column_values_to_be_in_set", "platform")
    assert not in_set.success
    assert in_set.unexpected_count == 1 and "'myspace'" in in_set.observed
    unique = _result(results, "expect_compound_columns_to_be_unique", "platform,post_id,day")
    assert not unique.success and unique.unexpected_count == 2


def test_a_count_with_nulls_reports_failing_values_as_integers(tmp_path, gx_session):
    rows = _many_post_days(50)
    rows[20] = {**rows[20], "likes": -3}
    result = _result(
        _audit_staged("post_daily", rows, {}, tmp_path, 1000),
        "expect_column_values_to_be_between",
        "likes",
    )
    assert not result.success
    assert result.observed.startswith("1 of 50 rows unexpected; e.g. -3 (rows 21)"), result.observed


def test_a_day_beyond_what_pandas_holds_in_nanoseconds_still_fails(tmp_path, gx_session):
    rows = [dict(r) for r in BASE["account_daily"]]
    rows[0]["day"] = date(9999, 12, 31)
    result = _result(
        _audit("account_daily", rows, {}, tmp_path), "expect_column_values_to_be_between", "day"
    )
    assert not result.success
    assert result.unexpected_count == 1
