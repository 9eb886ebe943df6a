"""One audit for a whole run: same per-load results as batch by batch, only offenders blocked."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path

from ingest import validation
from ingest.pipeline import load_files
from tests.conftest import FIXTURES
from tests.staged import stage_file
from tests.validation.helpers import (
    DAY,
    channel,
    query,
    set_staged,
    video,
    write_channels,
    write_videos,
)

CHANNELS = [f"UCchannel{i:015d}" for i in range(6)]


def _staged(settings, tmp_path: Path) -> list:
    one = write_channels(
        tmp_path / "one.json", [channel(c, str(1000 + i)) for i, c in enumerate(CHANNELS)]
    )
    # hidden counts: the followers_hidden expectations have rows on both sides
    two = write_channels(
        tmp_path / "two.json",
        [channel(c, None, hidden=True) for c in CHANNELS[:2]] + [channel(CHANNELS[2], "7")],
    )
    # more likes than views on one of many videos: a warning that "mostly" forgives
    items = [video(f"vid{i:08d}", c) for i, c in enumerate(CHANNELS)]
    vids = write_videos(tmp_path / "videos.json", items)
    return [stage_file(p, settings, day=DAY) for p in (one, two, vids)]


def _rows(report) -> list[dict]:
    return [asdict(r) for r in report.results]


def test_run_wide_audit_gives_each_load_its_per_batch_results(settings, tmp_path, gx_session):
    batches = _staged(settings, tmp_path)
    run = validation.audit_batches(batches, chunk_rows=4)
    alone = [validation.audit_batch(b, chunk_rows=4, now=run[0].checked_at) for b in batches]
    for together, single in zip(run, alone, strict=True):
        assert together.load_id == single.load_id
        assert _rows(together) == _rows(single)
    for batch in batches:
        batch.discard()


def test_loads_whose_results_read_alike_share_them(settings, tmp_path, gx_session):
    # a run of API pages holds ~30 results a page: alike ones are one object, not thousands
    pages = [
        write_channels(
            tmp_path / f"page{i}.json", [channel(c, str(10 * (i + 1))) for c in CHANNELS]
        )
        for i in range(3)
    ]
    short = write_channels(tmp_path / "short.json", [channel(c, "5") for c in CHANNELS[:2]])
    batches = [stage_file(p, settings, day=DAY) for p in (*pages, short)]
    reports = validation.audit_batches(batches)
    first, second, third, fewer = (r.results for r in reports)
    assert len(first) == len(fewer) > 0
    assert all(a is b is c for a, b, c in zip(first, second, third, strict=True))
    # another row count reads otherwise ("0 of 2 rows unexpected"), the same count alike
    counted = [i for i, r in enumerate(first) if r.element_count is not None]
    assert any(fewer[i].element_count == 2 for i in counted)
    for i in counted:
        assert (first[i] is fewer[i]) == (first[i].element_count == fewer[i].element_count)
    for batch in batches:
        batch.discard()


def test_an_offending_batch_is_found_and_only_it_is_blocked(settings, tmp_path, gx_session):
    good = [
        write_channels(
            tmp_path / f"good{i}.json", [channel(c, str(100 * (i + 1))) for c in CHANNELS]
        )
        for i in range(3)
    ]
    broken = write_channels(tmp_path / "broken.json", [channel(c, None) for c in CHANNELS])
    results = load_files([good[0], broken, good[1], good[2]], settings, day=DAY)
    assert [r.status for r in results] == ["published", "failed", "published", "published"]
    [failed] = [r for r in results if r.status == "failed"]
    assert failed.source.endswith("broken.json")
    # the same key in three loads of one run is a restatement, not a duplicate
    assert query(settings, "select count(*) from core.account_daily")[0][0] == len(CHANNELS)
    stored = query(
        settings,
        "select load_id, count(*), count(*) filter (not success) from meta.validations"
        " group by load_id order by load_id",
    )
    assert {r[0] for r in stored} == {r.load_id for r in results}
    assert all(bad == (1 if load == failed.load_id else 0) for load, _, bad in stored)
    # the run's Data Docs: one page per suite, naming the blocked load
    index = (validation.docs_root(settings) / "index.html").read_text()
    assert failed.load_id in index
    for suite in ("accounts", "account_daily"):
        folder = validation.docs_root(settings) / "validations" / suite
        assert len(list(folder.rglob("audit.html"))) == 1  # once for the run, not per batch


def test_duplicate_keys_within_one_batch_still_fail_in_a_run(settings, tmp_path, gx_session):
    batches = _staged(settings, tmp_path)
    target = batches[0].entities["account_daily"].path
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(target)
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), target)
    run = validation.audit_batches(batches, chunk_rows=2)
    assert [r.passed for r in run] == [False, True, True]
    [failure] = run[0].failures(validation.CRITICAL)
    assert failure.expectation == "expect_compound_columns_to_be_unique"
    for batch in batches:
        batch.discard()


def _pages(tmp_path: Path, name: str, sizes: list[int]) -> list[Path]:
    """One day's videos.list responses, page by page (the last one short)."""
    paths, start = [], 0
    for n, size in enumerate(sizes):
        items = [video(f"vid{i:08d}", CHANNELS[i % 6]) for i in range(start, start + size)]
        paths.append(write_videos(tmp_path / f"{name}_{n}.json", items))
        start += size
    return paths


def test_volume_compares_a_day_of_pages_with_earlier_days(settings, tmp_path, gx_session):
    first = DAY - timedelta(days=4)
    for k in range(3):
        day = first + timedelta(days=k)
        results = load_files(_pages(tmp_path, f"d{k}", [10, 10, 4]), settings, day=day)
        # the short last page is part of the day, not a drop
        assert [r.status for r in results] == ["published"] * 3
    # a full day again: its short last page passes
    results = load_files(
        _pages(tmp_path, "d3", [10, 10, 10, 2]), settings, day=first + timedelta(days=3)
    )
    assert {r.status for r in results} == {"published"}
    [(observed,)] = query(
        settings,
        "select observed_value from meta.validations where load_id = $id"
        " and suite = 'batch_volume' and severity = 'critical'",
        {"id": results[-1].load_id},
    )
    assert observed.startswith("32 rows vs median 24 of the last 3 deliveries"), observed
    # a day whose pages add up to far less than the days before is blocked, all its pages (the
    # same six channels: a delivery is compared with earlier deliveries of the same accounts)
    results = load_files(_pages(tmp_path, "d4", [5, 1]), settings, day=date(2026, 9, 1))
    assert [r.status for r in results] == ["failed", "failed"]
    assert "6 rows vs median 24" in (results[0].message or "")


def test_a_clean_run_of_mixed_formats_is_not_audited_again_batch_by_batch(
    settings, tmp_path, gx_session, monkeypatch
):
    # channels with hidden (NULL) counts and videos provide different columns, so the run-wide
    # suite scopes some expectations to the loads that have the column; a clean run must
    # still pass as a whole, not fall back to one audit per batch
    analytics = FIXTURES / "youtube" / "analytics_report_day.json"  # no followers column
    batches = [*_staged(settings, tmp_path), stage_file(analytics, settings, account=CHANNELS[0])]
    alone: list[str] = []
    real = validation.audit_batch

    def audit_alone(batch, **kwargs):
        alone.append(batch.load_id)
        return real(batch, **kwargs)

    monkeypatch.setattr(validation.run_audit, "audit_batch", audit_alone)
    reports = validation.audit_batches(batches, chunk_rows=4)
    assert all(r.passed for r in reports)
    assert alone == []


def _mixed(settings, tmp_path: Path) -> tuple[list, set[str], set[str]]:
    """Clean, warning-only and critical files of several formats; (batches, critical, warned)."""

    def no_handle(item: dict) -> dict:
        del item["snippet"]["customUrl"]
        return item

    chans = [channel(c, str(1000 + i)) for i, c in enumerate(CHANNELS)]
    vids = [video(f"vid{i:08d}", CHANNELS[i % 6]) for i in range(6)]
    files = {
        "clean_channels": write_channels(tmp_path / "c1.json", chans),
        "hidden": write_channels(
            tmp_path / "c2.json", [channel(c, None, hidden=True) for c in CHANNELS[:3]]
        ),
        # handles missing on 2 of 3 accounts: more than the warning's "mostly" forgives
        "handles_warned": write_channels(
            tmp_path / "c3.json", [no_handle(channel(c)) for c in CHANNELS[:2]] + [chans[2]]
        ),
        # on 1 of 3: found, counted and forgiven
        "handles_forgiven": write_channels(
            tmp_path / "c4.json", [no_handle(channel(CHANNELS[3])), *chans[4:]]
        ),
        "clean_videos": write_videos(tmp_path / "v1.json", vids),
        # more likes than views on 2 of 6 videos, and a hidden like count beside them
        "likes_warned": write_videos(
            tmp_path / "v2.json",
            [
                video("vidw1", CHANNELS[0], views="10", likes="500"),
                video("vidw2", CHANNELS[1], views="7", likes="9"),
                video("vidw3", CHANNELS[2], likes=None),
                *vids[3:],
            ],
        ),
        # 1 of 120: below the 1% "mostly" allows
        "likes_forgiven": write_videos(
            tmp_path / "v3.json",
            [video(f"vidf{i:05d}", CHANNELS[i % 6]) for i in range(119)]
            + [video("vidf_odd", CHANNELS[0], views="1", likes="2")],
        ),
        "negative_views": write_videos(tmp_path / "v4.json", vids[:4]),
        "duplicated": write_videos(tmp_path / "v5.json", vids[2:]),
        "analytics": FIXTURES / "youtube" / "analytics_report_day.json",
    }
    account = {"analytics": CHANNELS[0]}
    batches = {
        name: stage_file(path, settings, day=DAY, account=account.get(name))
        for name, path in files.items()
    }
    set_staged(batches["negative_views"], "post_daily", "views", 2, -3)
    target = batches["duplicated"].entities["post_daily"].path
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(target)
    pq.write_table(pa.concat_tables([table, table.slice(1, 1)]), target)
    critical = {batches[n].load_id for n in ("negative_views", "duplicated")}
    warned = {batches[n].load_id for n in ("handles_warned", "likes_warned")}
    return list(batches.values()), critical, warned


def test_findings_are_told_per_load_from_one_pass_as_a_per_load_audit_tells_them(
    settings, tmp_path, gx_session, monkeypatch
):
    batches, critical, warned = _mixed(settings, tmp_path)
    alone: list[str] = []
    real = validation.audit_batch

    def audit_alone(batch, **kwargs):
        alone.append(batch.load_id)
        return real(batch, **kwargs)

    monkeypatch.setattr(validation.run_audit, "audit_batch", audit_alone)
    # one chunk for the run, and chunks of 48 rows (findings spread over several chunks; a load
    # longer than a chunk with findings is the one case still audited alone)
    for chunk_rows in (1_000_000, 48):
        alone.clear()
        run = validation.audit_batches(batches, chunk_rows=chunk_rows)
        if chunk_rows > 48:
            assert alone == []  # no second pass for row-level findings
        else:
            assert set(alone) <= {b.load_id for b in batches if b.rows_loaded > 48}
        monkeypatch.setattr(validation.run_audit, "audit_batch", real)
        for together, batch in zip(run, batches, strict=True):
            single = real(batch, chunk_rows=chunk_rows, now=run[0].checked_at)
            assert _rows(together) == _rows(single), batch.source_file
        monkeypatch.setattr(validation.run_audit, "audit_batch", audit_alone)
        assert {r.load_id for r in run if not r.passed} == critical
        if chunk_rows > 48:
            # (chunk by chunk, "mostly" is judged per chunk: 1 of 48 rows is more than 1%)
            assert {r.load_id for r in run if r.passed and r.failures("warning")} == warned
            likes = [
                f.unexpected_count
                for r in run
                for f in r.results
                if f.expectation == "expect_column_pair_values_a_to_be_greater_than_b"
                and f.unexpected_count
            ]
            # 2 in the warned file, 1 forgiven, 1 beside the negative count
            assert sorted(likes) == [1, 1, 2]
    for batch in batches:
        batch.discard()
