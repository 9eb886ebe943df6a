"""The marts audit gate holds across runs: what failed its audit never reaches the BI copy."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb

from ingest.config import Settings
from ingest.creators import load_mapping
from ingest.pipeline import load_files
from ingest.runs import run_day
from tests.validation.helpers import DAY, channel, query, write_channels

CHANNELS = [f"UCgate{i:018d}" for i in range(4)]
# an account no landed file holds, so replaying the day does not restate it
BROKEN = "UCgatebroken0000000000000"


def _bi(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    conn = duckdb.connect(str(settings.bi_warehouse), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _bi_followers(settings: Settings) -> set[int | None]:
    return {
        row[0]
        for row in _bi(
            settings,
            f"select followers from marts.creator_engagement_daily where account_id = '{BROKEN}'",
        )
    }


def _restate(settings: Settings, followers: int) -> None:
    """A day of one account written to core with its marts range pending, as a load leaves it.

    A negative count cannot pass the row rules of a load; written here directly it stands for
    any mart rows that break their suite (a model bug, a migration, a rule change).
    """
    conn = duckdb.connect(str(settings.warehouse))
    try:
        conn.execute("delete from core.account_daily where account_id = $a", {"a": BROKEN})
        conn.execute(
            "insert into core.account_daily (platform, account_id, day, followers, load_id,"
            " observed_at) values ('youtube', $a, $d, $f, 'restated', current_timestamp)",
            {"f": followers, "a": BROKEN, "d": DAY},
        )
        conn.execute(
            "insert into meta.pending_mart_days values ('youtube', $a, $d, $e, 'restated')",
            {"a": BROKEN, "d": DAY, "e": DAY + timedelta(days=27)},
        )
    finally:
        conn.close()


def test_failed_marts_stay_out_of_bi_across_later_runs_until_a_rebuild_passes(
    settings, tmp_path: Path, gx_session
):
    page = write_channels(
        tmp_path / "channels.json",
        [channel(c, str(5000 + 100 * i)) for i, c in enumerate(CHANNELS)],
    )
    assert [r.status for r in load_files([page], settings, day=DAY)] == ["published"]
    assert _bi_followers(settings) == set()
    copy = _bi(settings, "select copy_id from meta.bi_copy_state")

    _restate(settings, -5)
    failing = run_day(DAY, settings, platforms=("youtube",))
    assert not failing.ok
    assert any("held back from BI" in f for f in failing.failures), failing.failures
    assert _bi_followers(settings) == set()

    # a follow-up run with nothing new: the failed ranges are still held, audited again, refused
    again = run_day(DAY, settings, platforms=("youtube",))
    assert not again.ok, again
    assert _bi_followers(settings) == set()
    assert _bi(settings, "select copy_id from meta.bi_copy_state") == copy

    # a creators load refreshes the marts too: still nothing of the failed ranges in BI
    mapping = tmp_path / "creators.csv"
    mapping.write_text(
        "creator_id,platform,account_id,handle\n"
        + "".join(f"cr{i},youtube,{c},\n" for i, c in enumerate([*CHANNELS, BROKEN]))
    )
    assert load_mapping(mapping, settings).status == "published"
    assert _bi_followers(settings) == set()
    assert _bi(settings, "select copy_id from meta.bi_copy_state") == copy
    held = query(settings, "select distinct account_id from meta.mart_audit_holds")
    assert (BROKEN,) in held

    # the range rebuilt from corrected data passes: released, and BI takes it
    _restate(settings, 7000)
    fixed = run_day(DAY, settings, platforms=("youtube",))
    assert fixed.ok, fixed
    assert _bi_followers(settings) == {7000}
    assert query(settings, "select count(*) from meta.mart_audit_holds") == [(0,)]
    creators = _bi(settings, "select count(distinct creator_id) from marts.creator_daily")
    assert creators == [(len(CHANNELS) + 1,)]
