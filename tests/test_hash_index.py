"""Hashes of files handed in, believed while their stat is the one they were hashed at."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path

import pytest

from ingest import hash_index, intake
from ingest.config import Settings
from ingest.hash_index import HashIndex
from ingest.pipeline import load_files
from tests.conftest import FIXTURES

DAY = date(2026, 11, 20)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hashed(index: HashIndex, path: Path) -> str:
    return index.hashed(path, os.stat(path)).sha256


def note_file(root: Path) -> Path:
    (found,) = root.glob("*.json")
    return found


def forge(root: Path, name: str, sha256: str) -> None:
    """Change a note's hash behind the file's back: what the index answers shows it is used."""
    path = note_file(root)
    data = json.loads(path.read_text())
    data["files"][name][-1] = sha256
    path.write_text(json.dumps(data))


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    # the files of a test are seconds old at most: take them for settled
    monkeypatch.setattr(hash_index, "SETTLED_NS", 0)


def test_a_noted_hash_is_believed_until_the_file_is_another_or_changed(
    tmp_path: Path, settled: None
):
    root, page = tmp_path / "hashed", tmp_path / "pages" / "p1.json"
    page.parent.mkdir()
    page.write_bytes(b'{"page": 1}')
    index = HashIndex(root)
    assert hashed(index, page) == sha(b'{"page": 1}')
    index.save()
    forge(root, "p1.json", "f" * 64)
    assert hashed(HashIndex(root), page) == "f" * 64

    # the same size and modification time, other bytes: the change time tells
    before = os.stat(page)
    page.write_bytes(b'{"page": 2}')
    os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert hashed(HashIndex(root), page) == sha(b'{"page": 2}')

    # another file put in its place (a copy renamed over it)
    index = HashIndex(root)
    assert hashed(index, page) == sha(b'{"page": 2}')
    index.save()
    forge(root, "p1.json", "f" * 64)
    other = tmp_path / "pages" / "new.json"
    other.write_bytes(b'{"page": 3}')
    os.replace(other, page)
    assert hashed(HashIndex(root), page) == sha(b'{"page": 3}')


def test_a_file_changed_just_before_it_was_hashed_is_not_noted(tmp_path: Path):
    # its next change could fall in the same tick of the clock and keep its stat
    root, page = tmp_path / "hashed", tmp_path / "p1.json"
    page.write_bytes(b'{"page": 1}')
    index = HashIndex(root)
    assert hashed(index, page) == sha(b'{"page": 1}')
    index.save()
    assert not root.exists() or not list(root.glob("*.json"))


def test_notes_lost_damaged_or_of_another_folder_cost_only_the_hashing(
    tmp_path: Path, settled: None
):
    root, page = tmp_path / "hashed", tmp_path / "p1.json"
    page.write_bytes(b'{"page": 1}')
    index = HashIndex(root)
    hashed(index, page)
    index.save()
    notes = note_file(root)
    for damaged in ("{not json", json.dumps([1, 2]), json.dumps({"folder": "/elsewhere"})):
        notes.write_text(damaged)
        assert hashed(HashIndex(root), page) == sha(b'{"page": 1}')
    # notes that cannot be written are no error
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the notes' folder would be")
    index = HashIndex(blocked / "hashed")
    assert hashed(index, page) == sha(b'{"page": 1}')
    index.save()


def _pages(folder: Path, count: int) -> list[bytes]:
    """TikTok Research pages of one video each, as many as make a load list its folders."""
    template = json.loads((FIXTURES / "tiktok" / "research_video_query.json").read_text())
    video = template["data"]["videos"][0]
    pages = []
    folder.mkdir()
    for n in range(count):
        page = json.loads(json.dumps(template))
        page["data"]["videos"] = [{**video, "id": 7_000_000_000_000_000_000 + n}]
        data = json.dumps(page).encode()
        (folder / f"page-{n:03}.json").write_bytes(data)
        pages.append(data)
    return pages


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING", "INGEST_INBOX"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")


def test_a_replay_believes_the_notes_and_a_page_changed_in_place_still_lands(
    tmp_path: Path, settings: Settings, settled: None
):
    folder = tmp_path / "pages"
    count = intake.LIST_FROM_FILES
    _pages(folder, count)
    first = load_files([folder], settings, day=DAY)
    assert {r.status for r in first} == {"published"}
    notes = settings.staging / hash_index.FOLDER
    assert len(json.loads(note_file(notes).read_text())["files"]) == count

    # page 0 rewritten in place with other views, its size and modification time kept
    changed = folder / "page-000.json"
    before = os.stat(changed)
    data = changed.read_bytes()
    rewritten = data.replace(b'"view_count": ', b'"view_count": 1', 1)
    rewritten = rewritten.replace(b'"id": 7', b'"id":7', 1)  # the same size
    assert len(rewritten) == len(data) and rewritten != data
    changed.write_bytes(rewritten)
    os.utime(changed, ns=(before.st_atime_ns, before.st_mtime_ns))

    again = load_files([folder], settings, day=DAY)
    assert [r.status for r in again] == ["published"] + ["unchanged"] * (count - 1)
    assert (settings.landing / "tiktok" / DAY.isoformat() / f"{sha(rewritten)}.json").exists()


def test_reprocessing_hashes_every_file_whatever_the_notes_say(
    tmp_path: Path, settings: Settings, settled: None
):
    folder = tmp_path / "pages"
    pages = _pages(folder, intake.LIST_FROM_FILES)
    load_files([folder], settings, day=DAY)
    # a note gone wrong (say the stat lied) names bytes never landed
    notes = settings.staging / hash_index.FOLDER
    forge(notes, "page-000.json", "f" * 64)
    again = load_files([folder], settings, day=DAY, reprocess=True)
    assert {r.status for r in again} == {"published"}
    assert again[0].source.endswith("page-000.json")
    landed = settings.landing / "tiktok" / DAY.isoformat()
    assert (landed / f"{sha(pages[0])}.json").exists()
    assert not list(landed.glob("f" * 64 + "*"))
