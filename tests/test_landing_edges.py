"""Small sharp edges of landing and loading: durable renames, one manifest per bytes, no litter."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from ingest import landing
from ingest.config import Settings
from ingest.errors import WarehouseBusyError
from ingest.pipeline import load_files
from tests.conftest import FIXTURES, staged_left

DAY = date(2026, 11, 20)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING", "INGEST_INBOX"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")


def test_the_same_bytes_under_another_extension_keep_the_first_file_and_manifest(tmp_path):
    root = tmp_path / "landing"
    data = (FIXTURES / "youtube" / "channels_list.json").read_bytes()
    first = landing.land_stream(
        io.BytesIO(data),
        root,
        platform="youtube",
        day=DAY,
        source_name="channels.json",
        account="UC1",
        format="channels_list",
    )
    again = landing.land_stream(
        io.BytesIO(data),
        root,
        platform="youtube",
        day=DAY,
        source_name="channels.txt",
        account=None,
        format=None,
    )
    assert first.new and not again.new
    assert again.path == first.path
    assert (again.source_name, again.account, again.format) == (
        "channels.json",
        "UC1",
        "channels_list",
    )
    kept = landing.read_landed(first.path)
    assert (kept.source_name, kept.account, kept.format) == (
        "channels.json",
        "UC1",
        "channels_list",
    )
    folder = first.path.parent
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{first.sha256}.json",
        f"{first.sha256}.manifest.json",
    ]
    assert [f.path for f in landing.landed_files(root, "youtube", DAY)] == [first.path]


def test_every_rename_into_the_landing_zone_is_followed_by_an_fsync_of_its_folder(
    tmp_path, monkeypatch
):
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst) -> None:
        real_replace(src, dst)
        events.append(("rename", str(Path(dst).parent)))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    root = tmp_path / "landing"
    landed = landing.land_stream(
        io.BytesIO(b"a,b\n1,2\n"), root, platform="tiktok", day=DAY, source_name="x.csv"
    )
    folder = str(landed.path.parent)
    renames = [i for i, event in enumerate(events) if event == ("rename", folder)]
    assert len(renames) == 2, events  # the manifest, then the bytes
    for at in renames:
        assert ("fsync", folder) in events[at + 1 :], events
    # the new folders themselves are entries of their parents
    for created in (root / "tiktok", root / "tiktok" / DAY.isoformat()):
        assert ("fsync", str(created.parent)) in events, events


def test_a_busy_warehouse_leaves_no_staged_parquet_behind(settings, tmp_path):
    warehouse = settings.warehouse
    [first] = load_files([FIXTURES / "youtube" / "channels_list.json"], settings)
    assert first.status == "published", first.message
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('holding', flush=True);"
            " sys.stdin.read(); c.close()",
            str(warehouse),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        impatient = dataclasses.replace(settings, busy_timeout=0.2)
        with pytest.raises(WarehouseBusyError):
            load_files([FIXTURES / "youtube" / "videos_list.json"], impatient)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(60)
    assert list(settings.landing.rglob("*.manifest.json")), "the file was landed"
    left = (
        [p for p in settings.staging.rglob("*") if p.is_file()] if settings.staging.exists() else []
    )
    assert not [p for p in left if p.suffix == ".parquet"], left
    assert not staged_left(settings.staging), left
