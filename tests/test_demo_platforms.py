"""The demo finds each platform's part through the registry; the core demo names none."""

from __future__ import annotations

import csv
import hashlib
import random
import zipfile
from datetime import date
from pathlib import Path

import pytest

import ingest.demo
from ingest.demo import demo_platforms, write_demo_files
from ingest.demo.files import DemoFile, dump_json, nightly_fetch
from ingest.demo.world import DemoPlatform, World
from ingest.errors import IngestError
from ingest.platforms import platforms
from ingest.plugin import Platform

END = date(2026, 9, 30)
# the demo files of seed 3 (6 creators, 5 days), as written before the platforms' writers
# moved into their packages; the moves had to leave every byte as it was. A deliberate change
# to a writer or to the world changes this digest: record the new one with the change.
SEED_3_DIGEST = "e0b78d716fd8a234d302b4a22df0324de591399625e3498e9bdd5d6effe49e65"


def content_digest(folder: Path, files: list[DemoFile]) -> str:
    """A digest of the files and their landing facts; a zip by its members (deflate output
    depends on the zlib build, the members do not)."""
    digest = hashlib.sha256()
    for f in files:
        digest.update(f"{f.path.relative_to(folder)}|{f.platform}|{f.day}|{f.account}".encode())
        digest.update(f.fetched_at.isoformat().encode())
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        digest.update(str(path.relative_to(folder)).encode())
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    digest.update(f"{info.filename}|{info.date_time}".encode())
                    digest.update(archive.read(info))
        else:
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_the_demo_files_of_a_seed_are_the_same_as_before_the_platforms_wrote_them(tmp_path):
    files = write_demo_files(tmp_path, creators=6, days=5, seed=3, end=END)
    assert content_digest(tmp_path, files) == SEED_3_DIGEST


def test_every_platform_with_a_demo_takes_part_from_its_own_package():
    demos = demo_platforms()
    assert set(demos) == {name for name, p in platforms().items() if p.demo is not None}
    assert demos  # the built-in platforms all have one
    for name, demo in demos.items():
        assert demo.write.__module__.startswith(f"ingest.platforms.{name}."), name
    orders = [demo.order for demo in demos.values()]
    assert orders == sorted(orders)


def _write_extra(world: World, out: Path) -> list[DemoFile]:
    files = []
    for account in world.accounts("extra"):
        path = out / "extra" / world.end.isoformat() / f"{account.account_id}.json"
        dump_json(path, {"id": account.account_id, "posts": len(account.posts)})
        files.append(DemoFile(path, "extra", world.end, nightly_fetch(world.end)))
    return files


def _extra_id(rng: random.Random, handle: str) -> str:
    return f"extra-{handle}"


EXTRA_DEMO = DemoPlatform(write=_write_extra, order=50, presence=1.0, account_id=_extra_id)
NOT_A_DEMO = object()


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch):
    """Install extra platforms beside the built-in ones, as entry points would."""

    def install(*extra: Platform) -> None:
        found = {**platforms(), **{p.name: p for p in extra}}
        monkeypatch.setattr(ingest.demo, "platforms", lambda: found)

    return install


def test_a_platform_without_a_demo_contributes_nothing(installed, tmp_path: Path):
    before = demo_platforms()
    installed(Platform(name="nodemo", title="No Demo", formats="nowhere:FORMATS"))
    assert demo_platforms() == before
    files = write_demo_files(tmp_path, creators=4, days=2, seed=5, end=END)
    assert {f.platform for f in files} == set(before)
    assert not (tmp_path / "nodemo").exists()


def test_a_third_party_platform_adds_its_files_and_accounts(installed, tmp_path: Path):
    extra = Platform(
        name="extra",
        title="Extra",
        formats="nowhere:FORMATS",
        demo=f"{__name__}:EXTRA_DEMO",
    )
    installed(extra)
    assert list(demo_platforms())[-1] == "extra"
    files = write_demo_files(tmp_path, creators=4, days=2, seed=5, end=END)
    written = [f for f in files if f.platform == "extra"]
    assert len(written) == 4  # presence 1.0: every creator has an account there
    with (tmp_path / "creators.csv").open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["platform"] == "extra"]
    assert len(rows) == 4
    assert all(r["account_id"] == f"extra-{r['handle']}" for r in rows)


def test_a_demo_reference_to_something_else_is_refused(installed):
    installed(Platform(name="broken", title="Broken", formats="x:F", demo=f"{__name__}:NOT_A_DEMO"))
    with pytest.raises(IngestError, match="broken"):
        demo_platforms()


def test_the_world_draws_platforms_in_demo_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    # the draw order, not the registry's listing order, fixes a seed's files
    first = write_demo_files(tmp_path / "a", creators=4, days=2, seed=5, end=END)
    listed = dict(reversed(list(platforms().items())))
    assert list(listed) != list(platforms())
    monkeypatch.setattr(ingest.demo, "platforms", lambda: listed)
    again = write_demo_files(tmp_path / "b", creators=4, days=2, seed=5, end=END)
    assert content_digest(tmp_path / "a", first) == content_digest(tmp_path / "b", again)
