"""Files stage side by side on a few threads; what comes back is what one thread would give."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest.config import Settings
from ingest.errors import IngestError, ParseError
from ingest.parsing import NativeMember, NativeStaged
from ingest.pipeline import STAGE_THREADS, stage_files, stage_in_parallel
from ingest.platforms import registry
from ingest.staging import (
    BatchOwner,
    StagedBatch,
    StageRequest,
    discard_all,
    scratch,
    stage_group,
    staged_rows_sql,
)
from tests.conftest import FIXTURES, context, staged_left
from tests.staged import stage_file

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
import gen

DAY = date(2026, 9, 1)
GOOD = [
    FIXTURES / "youtube" / "channels_list.json",
    FIXTURES / "youtube" / "videos_list.json",
    FIXTURES / "instagram" / "user.json",
]
BROKEN = FIXTURES / "youtube" / "channels_list_truncated.json"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")


def _rows(batch: StagedBatch) -> tuple[str, int, int, list[str]]:
    return (batch.format, batch.rows_read, batch.rows_quarantined, sorted(batch.entities))


def test_parallel_staging_keeps_order_and_refuses_only_the_broken_file(settings: Settings):
    files = [GOOD[0], BROKEN, GOOD[1], GOOD[2], GOOD[0]]
    staged, failed = stage_files(files, settings, day=DAY)
    try:
        assert [b.source_file for b in staged] == [str(p) for p in files if p != BROKEN]
        assert [f.source for f in failed] == [str(BROKEN)]
        assert "line 1" in (failed[0].message or "")
        alone = [stage_file(p, settings, day=DAY) for p in files if p != BROKEN]
        try:
            assert [_rows(b) for b in staged] == [_rows(b) for b in alone]
        finally:
            for batch in alone:
                batch.discard()
    finally:
        for batch in staged:
            batch.discard()


def test_an_interrupt_discards_what_was_staged_and_is_raised(settings: Settings):
    started: list[StagedBatch] = []
    lock = threading.Lock()

    def stage_one(path: Path) -> StagedBatch:
        if path == BROKEN:
            raise KeyboardInterrupt("stopped")
        batch = stage_file(path, settings, day=DAY)
        with lock:
            started.append(batch)
        return batch

    with pytest.raises(KeyboardInterrupt, match="stopped"):
        stage_in_parallel(stage_one, [GOOD[0], GOOD[1], BROKEN, GOOD[2]])
    assert started  # some files were staged before the error surfaced ...
    assert not any(Path(b.folder).exists() for b in started)  # ... and none was left behind
    assert not any(settings.staging.iterdir())


def test_ingest_errors_take_their_items_place():
    def stage_one(n: int) -> StagedBatch:
        raise ParseError(f"file{n}", "refused")

    outcomes = stage_in_parallel(stage_one, [1, 2, 3])
    assert [str(o) for o in outcomes] == ["file1: refused", "file2: refused", "file3: refused"]
    assert all(isinstance(o, IngestError) for o in outcomes)


class Stop(BaseException):
    """Stands in for the KeyboardInterrupt that a stop signal raises in the main thread."""


def _raise_stop(signum: int, frame: object) -> None:
    raise Stop()


def test_a_stop_interrupts_duckdb_work_running_on_staging_threads():
    """A signal while files stage: running DuckDB work is interrupted and every thread joined.

    Without the interrupt the stop waits for a query that never ends (the timeout fails it).
    """
    running = threading.Event()
    outcomes: list[BaseException | None] = []

    def stage_one(item: int) -> StagedBatch:
        with scratch() as conn:
            running.set()
            try:
                conn.execute("select count(*) from range(1000000000000) a, range(1000000000) b")
            except BaseException as exc:
                outcomes.append(exc)
                raise
        raise AssertionError("an endless query ended")

    def signal_when_running() -> None:
        running.wait(60)
        os.kill(os.getpid(), signal.SIGUSR1)

    previous = signal.signal(signal.SIGUSR1, _raise_stop)
    sender = threading.Thread(target=signal_when_running)
    try:
        sender.start()
        with pytest.raises(Stop):
            stage_in_parallel(stage_one, [1, 2, 3, 4])
    finally:
        sender.join()
        signal.signal(signal.SIGUSR1, previous)
    assert outcomes and all(isinstance(e, duckdb.InterruptException) for e in outcomes)
    assert not [t for t in threading.enumerate() if t.name.startswith("stage")]


def test_any_other_exception_takes_its_items_place_as_a_refusal():
    def stage_one(n: int) -> StagedBatch:
        if n == 2:
            raise ZeroDivisionError("division by zero")
        raise ParseError(f"file{n}", "refused")

    outcomes = stage_in_parallel(stage_one, [1, 2, 3])
    assert all(isinstance(o, IngestError) for o in outcomes)
    assert [str(o) for o in outcomes] == [
        "file1: refused",
        "cannot be read (ZeroDivisionError: division by zero)",
        "file3: refused",
    ]


@pytest.mark.parametrize("extra", [None, "batch.json", "posts.raw.parquet"])
def test_discarding_a_batch_removes_its_folder_whatever_else_it_holds(
    settings: Settings, tmp_path: Path, extra: str | None
):
    outside = tmp_path / "elsewhere.parquet"
    outside.write_bytes(b"not the batch's")
    batch = stage_file(FIXTURES / "youtube" / "videos_list.json", settings, day=DAY)
    folder = Path(batch.folder)
    assert batch.entities and all(Path(e.path).parent == folder for e in batch.entities.values())
    if extra is not None:
        (folder / extra).write_text("{}")
    # a path outside the folder is never the batch's to remove, whatever it names
    batch.quarantine_path = str(outside)
    batch.discard()
    assert not folder.exists()
    assert outside.exists()
    batch.discard()  # again, as a load's cleanup may: nothing left, nothing raised
    batch.save()  # saved once more (as a step handing it on would): a folder to discard again
    assert folder.exists()
    batch.discard()
    assert not folder.exists()


def test_a_pass_shares_one_file_per_entity_until_its_last_batch_is_discarded(
    settings: Settings, tmp_path: Path
) -> None:
    pages = gen.tiktok_pages(tmp_path / "pages", rows=500, page_rows=100)
    staged, failed = stage_files(pages, settings, day=DAY)
    assert not failed and len(staged) == len(pages)
    try:
        files = {e.path for b in staged for e in b.entities.values()}
        assert all(e.shared for b in staged for e in b.entities.values())
        # a pass per staging thread, a file per entity and pass
        assert len(files) <= len(staged[0].entities) * STAGE_THREADS < len(pages) * 2
        # a page with nothing of its own to write gets no folder: staging holds the passes'
        assert {p.name for p in settings.staging.iterdir()} == {Path(f).parent.name for f in files}
        assert not any(Path(b.folder).exists() for b in staged)
        rows = {b.load_id: _staged_posts(b) for b in staged}
        assert [len(r) for r in rows.values()] == [100] * len(pages)
        assert len({post for r in rows.values() for post in r}) == 500
        # a batch's own discard leaves its pass's files to the other batches
        staged[0].discard()
        assert all(Path(f).is_file() for f in files)
        assert _staged_posts(staged[1]) == rows[staged[1].load_id]
    finally:
        discard_all(staged)
    assert staged_left(settings.staging) == []


def _staged_posts(batch: StagedBatch) -> list[str]:
    query, params = staged_rows_sql([(batch.load_id, batch.entities["posts"])])
    conn = duckdb.connect()
    try:
        found = conn.execute(f"select post_id from ({query}) order by file_row_number", params)
        return [str(row[0]) for row in found.fetchall()]
    finally:
        conn.close()


def test_a_pass_that_fails_leaves_no_folder_behind(settings: Settings, tmp_path: Path) -> None:
    pages = gen.tiktok_pages(tmp_path / "pages", rows=300, page_rows=100)
    fmt = registry(("tiktok",)).get("tiktok", "research_video_query", "pages")
    owner = BatchOwner("run", "tiktok", DAY)
    requests = [
        StageRequest(page, context("tiktok", page.name), f"load{n}", f"sha{n}", owner)
        for n, page in enumerate(pages)
    ]

    def fails_after_writing(members: Sequence[NativeMember]) -> list[NativeStaged | None]:
        assert fmt.native_group is not None
        fmt.native_group(members)  # the pass's files are written ...
        assert members[0].shared is not None and any(members[0].shared.iterdir())
        raise RuntimeError("... and then the pass fails")

    with pytest.raises(RuntimeError, match="the pass fails"):
        stage_group(
            replace(fmt, native_group=fails_after_writing), requests, staging_root=settings.staging
        )
    assert staged_left(settings.staging) == []
