"""Landing many files at once: shared syncs, and every promise landing one file makes."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import multiprocessing
import os
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ingest import intake, landing, runs
from ingest.config import Settings
from ingest.errors import IngestError
from ingest.landing import Incoming, LandedFile
from ingest.parsing import take_sample
from ingest.platforms import registry
from ingest.progress import Event, listening
from tests.conftest import FIXTURES

DAY = date(2026, 11, 20)
NEXT_DAY = date(2026, 11, 21)


def page(number: int) -> bytes:
    return b'{"page": %d, "items": []}\n' % number


def incoming(data: bytes | Path, name: str = "page.json", **fields: object) -> Incoming:
    meta: dict[str, object] = {"platform": "tiktok", "day": DAY, "source_name": name}
    meta.update(fields)
    return Incoming(data, **meta)  # type: ignore[arg-type]


def data_files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".manifest.json")
    )


def assert_whole(root: Path) -> None:
    """No temporary file is left, and every file under a real name is complete, beside its
    manifest, which says so."""
    temporary = [p for p in root.rglob(".*") if p.is_file()]
    assert temporary == []
    for path in data_files(root):
        sha = path.name.split(".", 1)[0]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha, path
        assert landing.read_landed(path).sha256 == sha, path


def test_a_batch_lands_each_file_with_its_manifest_and_the_same_bytes_once(tmp_path: Path):
    root = tmp_path / "landing"
    items = [
        incoming(page(1), "a.json", account="acct1", format="research_video_query"),
        incoming(page(2), "b.json"),
        # the same bytes under another name and extension, then on another day
        incoming(page(1), "a-again.txt", account="acct2", format=None),
        incoming(page(3), "c.json"),
        incoming(page(2), "b.json", day=NEXT_DAY),
    ]
    outcomes = landing.land_files(items, root)
    assert all(isinstance(o, LandedFile) for o in outcomes), outcomes
    first, second, again, third, next_day = outcomes
    assert isinstance(first, LandedFile) and isinstance(again, LandedFile)
    assert [getattr(o, "new", None) for o in outcomes] == [True, True, False, True, True]
    # the first keeps its name, manifest and format, as if landed one after the other
    assert again == dataclasses.replace(first, new=False)
    assert (again.source_name, again.account, again.format) == (
        "a.json",
        "acct1",
        "research_video_query",
    )
    for outcome in outcomes:
        assert isinstance(outcome, LandedFile)
        assert landing.read_landed(outcome.path) == dataclasses.replace(outcome, new=False)
    assert [f.path for f in landing.landed_files(root, "tiktok", DAY)] == [
        o.path for o in (first, second, third) if isinstance(o, LandedFile)
    ]
    assert isinstance(next_day, LandedFile) and next_day.day == NEXT_DAY
    assert len(data_files(root)) == 4
    assert_whole(root)
    # landing them all again changes nothing
    assert [getattr(o, "new", None) for o in landing.land_files(items, root)] == [False] * 5
    assert len(data_files(root)) == 4


def test_a_file_that_cannot_be_landed_fails_alone_in_its_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    root = tmp_path / "landing"
    doomed = page(99)
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        held = Path(os.readlink(f"/proc/self/fd/{fd}"))
        if held.is_file() and held.read_bytes() == doomed:
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    outcomes = landing.land_files(
        [
            incoming(page(1)),
            incoming(tmp_path / "vanished.json"),
            incoming(page(2)),
            incoming(doomed, "doomed.json"),
            incoming(page(3)),
            incoming(doomed, "doomed-again.json"),
        ],
        root,
    )
    kinds = [type(o).__name__ for o in outcomes]
    assert kinds == [
        "LandedFile",
        "FileNotFoundError",
        "LandedFile",
        "OSError",
        "LandedFile",
        "OSError",
    ]
    landed = [o.path for o in outcomes if isinstance(o, LandedFile)]
    assert data_files(root) == sorted(landed)
    assert_whole(root)
    assert not any(root.rglob(hashlib.sha256(doomed).hexdigest() + "*"))


def test_a_batch_makes_each_file_durable_before_its_manifest_and_bytes_take_their_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    events: list[tuple[str, ...]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: str | Path, dst: str | Path) -> None:
        real_replace(src, dst)
        events.append(("rename", str(src), str(dst)))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    root = tmp_path / "landing"
    outcomes = landing.land_files([incoming(page(n), f"p{n}.json") for n in range(5)], root)
    folder = str(root / "tiktok" / DAY.isoformat())

    def at(event: tuple[str, ...]) -> int:
        assert event in events, (event, events)
        return events.index(event)

    for outcome in outcomes:
        assert isinstance(outcome, LandedFile)
        (data_tmp,) = [e[1] for e in events if e[0] == "rename" and e[2] == str(outcome.path)]
        manifest = str(outcome.manifest_path)
        (manifest_tmp,) = [e[1] for e in events if e[0] == "rename" and e[2] == manifest]
        manifest_renamed = at(("rename", manifest_tmp, manifest))
        data_renamed = at(("rename", data_tmp, str(outcome.path)))
        # both durable before either has its name; the manifest's name durable first
        assert at(("fsync", data_tmp)) < manifest_renamed
        assert at(("fsync", manifest_tmp)) < manifest_renamed
        assert manifest_renamed < data_renamed
        assert ("fsync", folder) in events[manifest_renamed:data_renamed]
        assert ("fsync", folder) in events[data_renamed:]
    # one folder fsync per step for the whole batch, not one per file
    assert events.count(("fsync", folder)) == 2
    for created in (root / "tiktok", root / "tiktok" / DAY.isoformat()):
        assert ("fsync", str(created.parent)) in events, events


@pytest.mark.parametrize(
    ("call", "number"),
    [("fsync", 3), ("replace", 0), ("replace", 2), ("replace", 4)],
    ids=["while-syncing", "first-manifest", "last-manifest", "second-file"],
)
def test_an_interrupt_inside_a_batch_leaves_no_partial_or_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str, number: int
):
    root = tmp_path / "landing"
    items = [incoming(page(n), f"p{n}.json") for n in range(3)]
    real = getattr(os, call)
    calls = 0

    def interrupted(*args: object) -> object:
        nonlocal calls
        calls += 1
        if calls == number + 1:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(os, call, interrupted)
    with pytest.raises(KeyboardInterrupt):
        landing.land_files(items, root)
    monkeypatch.setattr(os, call, real)
    assert_whole(root)
    again = landing.land_files(items, root)
    assert all(isinstance(o, LandedFile) for o in again)
    assert len(data_files(root)) == 3
    assert_whole(root)


def test_land_stream_is_a_batch_of_one(tmp_path: Path):
    root = tmp_path / "landing"
    landed = landing.land_stream(
        io.BytesIO(page(7)), root, platform="tiktok", day=DAY, source_name="s.json"
    )
    (again,) = landing.land_files([incoming(page(7), "other.json")], root)
    assert again == dataclasses.replace(landed, new=False)


def test_a_listing_finds_what_a_stat_per_file_finds(tmp_path: Path):
    root = tmp_path / "landing"
    first = landing.land_files([incoming(page(n), f"p{n}.json") for n in range(3)], root)
    sha = [hashlib.sha256(page(n)).hexdigest() for n in range(5)]
    listing = landing.LandedListing(root)
    for n in range(4):  # three landed, one not
        found = listing.find("tiktok", DAY, sha[n], f"p{n}.json")
        assert found == landing.already_landed(root, "tiktok", DAY, sha[n], f"p{n}.json")
        assert found == (dataclasses.replace(first[n], new=False) if n < 3 else None)
    assert listing.find("youtube", DAY, sha[0]) is None
    assert listing.find("tiktok", NEXT_DAY, sha[0]) is None
    # landed by this call after the listing: found once added
    (later,) = landing.land_files([incoming(page(4), "p4.json")], root)
    assert isinstance(later, LandedFile)
    assert listing.find("tiktok", DAY, sha[4]) is None
    listing.add(later)
    assert listing.find("tiktok", DAY, sha[4]) == dataclasses.replace(later, new=False)
    # gone since the listing (a purge): not found, as a stat would say
    assert isinstance(first[0], LandedFile)
    first[0].manifest_path.unlink()
    first[0].path.unlink()
    assert listing.find("tiktok", DAY, sha[0]) is None


def _land_pages(root: Path, numbers: range, **fields: object) -> list[LandedFile]:
    landed = landing.land_files([incoming(page(n), f"p{n}.json", **fields) for n in numbers], root)
    assert all(isinstance(f, LandedFile) for f in landed)
    return landed  # type: ignore[return-value]


def test_the_manifest_index_answers_as_the_manifests_while_they_are_the_same_files(
    tmp_path: Path,
):
    root, index = tmp_path / "landing", tmp_path / "staging" / landing.INDEX_FOLDER
    observed = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
    shas = [hashlib.sha256(page(n)).hexdigest() for n in range(3)]
    listing = landing.LandedListing(root, index)
    assert listing.find("tiktok", DAY, shas[0]) is None
    pulled = _land_pages(
        root, range(3), account="acct", observed_at=observed, snapshot_grace=timedelta(hours=6)
    )
    for f in pulled:  # noted as they land, from the files landing made: no manifest read
        listing.add(f)
    listing.save()
    index_file = index / "tiktok" / f"{DAY.isoformat()}.jsonl"
    assert len(index_file.read_text().splitlines()) == 3

    def found(sha: str) -> LandedFile | None:
        return landing.LandedListing(root, index).find("tiktok", DAY, sha)

    assert [found(sha) for sha in shas] == [dataclasses.replace(f, new=False) for f in pulled]
    assert landing.landed_files(root, "tiktok", DAY, index) == landing.landed_files(
        root, "tiktok", DAY
    )

    # the index is what answers: an entry altered behind its manifest's back is believed...
    lines = index_file.read_text().replace('"source_name":"p0.json"', '"source_name":"x.json"')
    index_file.write_text(lines)
    assert found(shas[0]).source_name == "x.json"  # type: ignore[union-attr]
    # ...until the manifest is another file: touched, or purged and landed again
    os.utime(pulled[0].manifest_path)
    assert found(shas[0]).source_name == "p0.json"  # type: ignore[union-attr]
    shutil.rmtree(root / "tiktok")
    (again,) = _land_pages(root, range(1, 2), account="other")
    assert found(shas[1]) == dataclasses.replace(again, new=False)
    assert found(shas[2]) is None


def test_a_damaged_or_unwritable_manifest_index_costs_only_the_reads_it_saved(tmp_path: Path):
    root, index = tmp_path / "landing", tmp_path / "staging" / landing.INDEX_FOLDER
    pulled = _land_pages(root, range(3))
    listing = landing.LandedListing(root, index)
    assert [listing.find("tiktok", DAY, f.sha256) for f in pulled] == [
        dataclasses.replace(f, new=False) for f in pulled
    ]
    listing.save()  # what it read is noted
    index_file = index / "tiktok" / f"{DAY.isoformat()}.jsonl"
    lines = index_file.read_text().splitlines()
    assert len(lines) == 3
    index_file.write_text("\n".join([lines[0][:25], "not json", '{"stamp": 1}', *lines[1:]]))
    assert [landing.LandedListing(root, index).find("tiktok", DAY, f.sha256) for f in pulled] == [
        dataclasses.replace(f, new=False) for f in pulled
    ]
    # an index that cannot be written is no error: the manifests still answer
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the index folder would be")
    listing = landing.LandedListing(root, blocked)
    assert listing.find("tiktok", DAY, pulled[0].sha256) == dataclasses.replace(
        pulled[0], new=False
    )
    listing.save()
    assert blocked.is_file()


# ---- the landing step of a load


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING", "INGEST_INBOX"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")


# the files of a call found landed before by a stat per file and platform, or by one listing
# of each day folder
FINDING = pytest.mark.parametrize("list_from", [1, 10**9], ids=["listing", "stats"])


@FINDING
@pytest.mark.parametrize("batch_files", [1, 2, 128])
def test_land_inputs_refuses_a_file_alone_in_its_turn_and_lands_the_rest(
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    batch_files: int,
    list_from: int,
):
    monkeypatch.setattr(intake, "LAND_BATCH_FILES", batch_files)
    monkeypatch.setattr(intake, "LIST_FROM_FILES", list_from)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    channels = FIXTURES / "youtube" / "channels_list.json"
    shutil.copy(channels, inbox / "a.json")
    (inbox / "b.txt").write_text("nothing any platform writes\n")
    shutil.copy(channels, inbox / "c.json")  # the same bytes as a.json
    shutil.copy(FIXTURES / "youtube" / "videos_list.json", inbox / "d.json")
    missing = tmp_path / "missing.json"
    refused: list[tuple[str, IngestError]] = []
    events: list[Event] = []
    with listening(events.append):
        landed = intake.land_inputs(
            [inbox, missing],
            settings,
            platform=None,
            account="UC1",
            day=DAY,
            refuse=lambda shown, error: refused.append((shown, error)),
        )
    assert [Path(shown).name for shown, _ in landed] == ["a.json", "c.json", "d.json"]
    assert [Path(shown).name for shown, _ in refused] == ["b.txt", "missing.json"]
    assert all(shown in str(error) for shown, error in refused)
    a, c, d = (file for _, file in landed)
    assert (a.new, c.new, d.new) == (True, False, True)
    assert c == dataclasses.replace(a, new=False)
    assert (a.platform, a.format, d.format) == ("youtube", "channels_list", "videos_list")
    lands = [e for e in events if e.step == "land"]
    assert [(e.done, e.total, Path(e.detail).name) for e in lands] == [
        (1, 5, "a.json"),
        (2, 5, "b.txt"),
        (3, 5, "c.json"),
        (4, 5, "d.json"),
        (5, 5, "missing.json"),
    ]
    assert_whole(settings.landing)
    # a replay finds every landed file and refuses the same ones
    refused.clear()
    replayed = intake.land_inputs(
        [inbox, missing],
        settings,
        platform=None,
        account="UC1",
        day=DAY,
        refuse=lambda shown, error: refused.append((shown, error)),
    )
    assert [f for _, f in replayed] == [dataclasses.replace(f, new=False) for _, f in landed]
    assert len(refused) == 2


# ---- the landing step of a day's run: the inbox

TOKEN = "EAAGsecret0123456789"
VIDEOS = FIXTURES / "tiktok" / "research_video_query.json"
VIDEO_LIST = FIXTURES / "tiktok" / "display_video_list.json"  # does not name its account
UNKNOWN = b'{"unknown": true}\n'
# (path in the day's inbox folder, its bytes, what the pick-up makes of it), in inbox order
INBOX: list[tuple[str, Path | bytes, str]] = [
    ("a-videos.json", VIDEOS, "landed"),
    ("acct1/list.json", VIDEO_LIST, "landed"),
    ("b-unknown.json", UNKNOWN, "landed"),
    ("c-videos-again.json", VIDEOS, "landed before"),
    # the same bytes as acct1's, outside an account's subfolder, in a name saved from a URL
    (f"list?access_token={TOKEN}.json", VIDEO_LIST, "failed"),
]


@FINDING
@pytest.mark.parametrize(
    ("batch_files", "batches"), [(128, [4]), (1, [1, 1, 1])], ids=["one-batch", "file-by-file"]
)
def test_an_inbox_lands_in_batches_and_each_file_keeps_its_own_outcome(
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    batch_files: int,
    batches: list[int],
    list_from: int,
):
    monkeypatch.setattr(intake, "LAND_BATCH_FILES", batch_files)
    monkeypatch.setattr(intake, "LIST_FROM_FILES", list_from)
    landed_together: list[int] = []
    real_land_files = intake.land_files

    def land_files(items: list[Incoming], root: Path) -> list[LandedFile | Exception]:
        if items:
            landed_together.append(len(items))
        return real_land_files(items, root)

    monkeypatch.setattr(intake, "land_files", land_files)
    inbox = tmp_path / "inbox"
    folder = inbox / "tiktok" / DAY.isoformat()
    for name, content, _ in INBOX:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copy(content, folder / name)
        else:
            (folder / name).write_bytes(content)
    events: list[Event] = []
    with listening(events.append):
        new, failures = runs.pick_up_inbox("tiktok", DAY, settings, inbox=inbox)

    assert landed_together == batches
    assert new == sum(outcome == "landed" for _, _, outcome in INBOX)
    # a token in a name is masked to the end of its value, which takes in the extension
    shown = [
        f"tiktok/{DAY.isoformat()}/{name}".replace(f"{TOKEN}.json", "***") for name, _, _ in INBOX
    ]
    (failure,) = failures
    assert failure.startswith(shown[-1]) and TOKEN not in failure
    assert failure.endswith(
        "tiktok display_video_list files do not name their account:"
        f" put them in {DAY.isoformat()}/<account id>/"
    )
    lands = [e for e in events if e.step == "land"]
    assert [(e.done, e.total, e.detail) for e in lands] == [
        (number, len(INBOX), name) for number, name in enumerate(shown, start=1)
    ]
    manifests = {
        (f.source_name, f.account, f.format)
        for f in landing.landed_files(settings.landing, "tiktok", DAY)
    }
    assert manifests == {
        ("a-videos.json", None, "research_video_query"),
        ("list.json", "acct1", "display_video_list"),
        ("b-unknown.json", None, None),
    }
    assert_whole(settings.landing)
    # picked up again: nothing lands anew, the same file fails; only the file of no known
    # format is detected (and handed to landing) again
    landed_together.clear()
    assert runs.pick_up_inbox("tiktok", DAY, settings, inbox=inbox) == (0, failures)
    assert landed_together == [1]
    assert len(data_files(settings.landing)) == 3


def test_detection_from_the_bytes_in_memory_picks_what_reading_the_file_picks():
    formats = registry()
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file():
            continue
        sample = take_sample(path, path.name, head=path.read_bytes())
        assert sample == take_sample(path, path.name), path
        try:
            expected: object = formats.detect(path, path.name)
        except IngestError as exc:
            expected = str(exc)
        try:
            found: object = formats.detect(path, path.name, sample=sample)
        except IngestError as exc:
            found = str(exc)
        assert found == expected, path


def _land_in_child(root: Path) -> None:
    outcomes = landing.land_files([incoming(page(n), f"child{n}.json") for n in (20, 21)], root)
    assert all(isinstance(o, LandedFile) for o in outcomes), outcomes


def test_a_forked_child_lands_a_batch_with_threads_of_its_own(tmp_path: Path):
    # a scheduler may fork a worker from a process that has landed before: the child
    # inherits the syncing threads' pool, but none of its threads
    root = tmp_path / "landing"
    landing.land_files([incoming(page(n), f"parent{n}.json") for n in (10, 11)], root)
    child = multiprocessing.get_context("fork").Process(target=_land_in_child, args=(root,))
    child.start()
    child.join(timeout=120)
    if child.exitcode is None:
        child.kill()
    assert child.exitcode == 0
    assert len(data_files(root)) == 4
    assert_whole(root)
