"""Creator rollups: the mapping, total followers, tier by total audience, blended engagement."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ingest.creators import MappingRow, apply_mapping, is_mapping, parse_mapping
from ingest.errors import ParseError
from ingest.transforms import rebuild_marts
from tests.marts.helpers import account_day, insert, pending, post

D = date(2026, 9, 10)
NOW = datetime(2026, 9, 11, tzinfo=UTC)


def mapping(conn, *rows: tuple[str, str, str | None, str | None]) -> int:
    conn.execute("begin transaction")
    changed = apply_mapping(
        conn,
        [MappingRow(c, p, a, h, n) for n, (c, p, a, h) in enumerate(rows, start=2)],
        load_id="map",
        observed_at=NOW,
    )
    conn.execute("commit")
    return changed


def world(conn) -> None:
    # yt1: 3,000 followers, one post with 30 interactions -> er 0.01
    account_day(conn, "yt1", D, 3_000, platform="youtube")
    post(conn, "yt1", "v1", D, platform="youtube", views=1_000, likes=25, comments=5)
    # ig1: 4,000 followers, one post with 120 interactions -> er 0.03
    account_day(conn, "ig1", D, 4_000, platform="instagram")
    post(conn, "ig1", "p1", D, platform="instagram", likes=100, comments=10, saves=10)
    # tt1: followers hidden, mapped by handle; counts as present, not in the totals
    insert(conn, "accounts", platform="tiktok", account_id="tt1", handle="@Tee.Cooks")
    account_day(conn, "tt1", D, None, platform="tiktok")
    post(conn, "tt1", "t1", D, platform="tiktok", views=500, likes=50)
    # unmapped: no creator row
    account_day(conn, "lonely", D, 9_000, platform="youtube")
    for platform, account in (
        ("youtube", "yt1"),
        ("instagram", "ig1"),
        ("tiktok", "tt1"),
        ("youtube", "lonely"),
    ):
        pending(conn, account, D, D, platform=platform)


COLUMNS = (
    "creator_id, platforms, platforms_count, accounts_count, total_followers, raw_tier, tier,"
    " engagement_rate, engagement_formula, accounts_counted, counted_accounts, accounts_stale,"
    " followers_oldest_age_days"
)


def test_creator_rollup_by_total_audience_with_a_blended_rate(conn):
    world(conn)
    assert mapping(conn, ("ana", "youtube", "yt1", None), ("ana", "instagram", "ig1", None)) == 2
    mapping(
        conn,
        ("ana", "youtube", "yt1", None),
        ("ana", "instagram", "ig1", None),
        ("ana", "tiktok", None, "tee.cooks"),
    )
    rebuild_marts(conn)
    rows = conn.execute(f"select {COLUMNS} from marts.creator_daily").fetchall()
    assert len(rows) == 1
    row = rows[0]
    # each account alone is nano; together 7,000 followers are micro
    assert row[:7] == ("ana", "instagram,tiktok,youtube", 3, 3, 7_000, "micro", "micro")
    # (0.01 * 3,000 + 0.03 * 4,000) / 7,000: the hidden tiktok account has no rate
    assert row[7] == pytest.approx(150 / 7_000)
    assert row[8:] == ("er_followers_blend_v1", 2, "instagram:ig1,youtube:yt1", 0, 0)
    # each account's part, one row per account: no column per platform
    assert conn.execute(
        "select platform, account_id, status, followers, engagement_rate"
        " from marts.creator_account_daily order by platform"
    ).fetchall() == [
        ("instagram", "ig1", "counted", 4_000, pytest.approx(0.03)),
        ("tiktok", "tt1", "unknown", None, None),
        ("youtube", "yt1", "counted", 3_000, pytest.approx(0.01)),
    ]
    assert conn.execute(
        "select platform, account_id, creator_id from core.accounts order by platform"
    ).fetchall() == [("tiktok", "tt1", "ana")]


def test_a_mapping_change_rebuilds_both_creators(conn):
    world(conn)
    mapping(conn, ("ana", "youtube", "yt1", None), ("ana", "instagram", "ig1", None))
    rebuild_marts(conn)
    assert conn.execute("select count(*) from meta.pending_creator_days").fetchone() == (0,)
    # ig1 moves to bo: only creators are queued, not the account marts
    assert mapping(conn, ("ana", "youtube", "yt1", None), ("bo", "instagram", "ig1", None)) == 1
    assert conn.execute(
        "select creator_id, day_from from meta.pending_creator_days order by creator_id"
    ).fetchall() == [("ana", D), ("bo", D)]
    rebuild_marts(conn)
    assert conn.execute(
        "select creator_id, platforms, total_followers, tier, engagement_rate"
        " from marts.creator_daily order by creator_id"
    ).fetchall() == [
        ("ana", "youtube", 3_000, "nano", pytest.approx(0.01)),
        ("bo", "instagram", 4_000, "nano", pytest.approx(0.03)),
    ]
    # a creator left with no account has no rows
    mapping(conn, ("bo", "instagram", "ig1", None))
    rebuild_marts(conn)
    assert conn.execute("select creator_id from marts.creator_daily").fetchall() == [("bo",)]


def test_creator_tier_has_hysteresis_too(conn):
    mapping(conn, ("ana", "youtube", "yt1", None), ("ana", "instagram", "ig1", None))
    for n, (yt, ig) in enumerate(((2_000, 2_900), (2_600, 2_500), (2_700, 2_600))):
        day = date(2026, 9, 1 + n)
        account_day(conn, "yt1", day, yt, platform="youtube")
        account_day(conn, "ig1", day, ig, platform="instagram")
        pending(conn, "yt1", day, day, platform="youtube")
        pending(conn, "ig1", day, day, platform="instagram")
    rebuild_marts(conn, rule_version="mission-v2")
    # totals 4,900 / 5,100 / 5,300: micro only once past 5,250
    assert conn.execute(
        "select total_followers, raw_tier, tier, tier_rule_version from marts.creator_daily"
        " order by day"
    ).fetchall() == [
        (4_900, "nano", "nano", "mission-v2"),
        (5_100, "micro", "nano", "mission-v2"),
        (5_300, "micro", "micro", "mission-v2"),
    ]


def test_an_account_load_rebuilds_its_creator_from_that_day(conn):
    world(conn)
    mapping(conn, ("ana", "youtube", "yt1", None), ("ana", "instagram", "ig1", None))
    rebuild_marts(conn)
    later = date(2026, 9, 11)
    account_day(conn, "ig1", later, 96_000, platform="instagram")
    pending(conn, "ig1", later, later, platform="instagram")
    rebuild_marts(conn)
    # yt1's count of the day before still counts: it is within the window
    assert conn.execute(
        "select day, platforms, total_followers, tier, followers_oldest_age_days"
        " from marts.creator_daily order by day"
    ).fetchall() == [
        (D, "instagram,youtube", 7_000, "micro", 0),
        (later, "instagram,youtube", 99_000, "micro", 1),
    ]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "creators.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_parse_mapping_keeps_good_lines_and_explains_bad_ones(tmp_path):
    path = write(
        tmp_path,
        "\ufeffCreator_ID,Platform,Account_ID,Handle\n"
        "ana,YouTube,UC1,\n"
        "ana,instagram,,@Ana.Cooks\n"
        "\n"
        ",tiktok,t1,\n"
        "bo,myspace,m1,\n"
        "bo,tiktok,,\n"
        "bo,youtube,UC1,\n"
        "bo,instagram,,ana.cooks\n",
    )
    assert is_mapping(path)
    parsed = parse_mapping(path)
    assert parsed.rows == [
        MappingRow("ana", "youtube", "UC1", None, 2),
        MappingRow("ana", "instagram", None, "Ana.Cooks", 3),
    ]
    assert [(r.line, r.field, r.reason) for r in parsed.rejects] == [
        (5, "creator_id", "required value is missing"),
        (6, "platform", "unknown platform 'myspace' (one of instagram, youtube, tiktok, snapchat)"),
        (7, "account_id", "give the account's id or its handle"),
        (8, "account_id", "this account is already mapped on line 2"),
        (9, "handle", "this account is already mapped on line 3"),
    ]
    assert parsed.rows_read == 7


@pytest.mark.parametrize(
    "text",
    [
        "platform,account_id\nyoutube,UC1\n",
        "creator_id,platform\nana,youtube\n",
        "channel_id,subscribers\nUC1,10\n",
        "",
    ],
)
def test_other_files_are_not_mappings(tmp_path, text):
    path = write(tmp_path, text)
    assert not is_mapping(path)
    with pytest.raises(ParseError):
        parse_mapping(path)


def test_ingest_load_recognises_a_mapping_file(tmp_path, capsys):
    import json

    import duckdb

    from ingest.cli import main

    path = write(tmp_path, "creator_id,platform,account_id\nana,youtube,UC1\nbo,myspace,m1\n")
    warehouse = tmp_path / "warehouse" / "creators.duckdb"
    assert main(["load", str(path), "--warehouse", str(warehouse), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {k: result[k] for k in ("platform", "format", "status")} == {
        "platform": None,
        "format": "creators_mapping",
        "status": "published",
    }
    assert (result["rows_read"], result["rows_loaded"], result["rows_quarantined"]) == (2, 1, 1)
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert conn.execute(
            "select creator_id, platform, account_id, line from core.creators"
        ).fetchall() == [("ana", "youtube", "UC1", 2)]
        assert conn.execute("select line, field from quarantine.rows").fetchall() == [
            (3, "platform")
        ]
        assert conn.execute(
            "select format, status, rows_read from meta.loads where load_id = $id",
            {"id": result["load_id"]},
        ).fetchall() == [("creators_mapping", "published", 2)]
    finally:
        conn.close()
