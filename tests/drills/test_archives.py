"""Hostile archives: zip-slip, absolute paths, symlinks, bombs, lying headers, damage."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from ingest.archives import SafeZip, ZipLimits, member_names, open_zip, unsafe_name
from ingest.config import Settings
from ingest.errors import ParseError
from ingest.pipeline import load_files
from tests.conftest import FIXTURES


def make_zip(tmp: Path, members: dict[str, bytes], name: str = "a.zip", **kw: int) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", kw.get("method", zipfile.ZIP_DEFLATED)) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    path = tmp / name
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../evil.csv", "'..'"),
        ("a/../../evil.csv", "'..'"),
        ("..\\..\\evil.csv", "'..'"),
        ("/etc/passwd", "absolute"),
        ("\\\\server\\share\\x.csv", "absolute"),
        ("C:\\Windows\\x.csv", "drive letter"),
        ("d:relative.csv", "drive letter"),
    ],
)
def test_path_tricks_are_refused(tmp_path: Path, name: str, problem: str):
    path = make_zip(tmp_path, {"ok.csv": b"a\n", name: b"x\n"})
    with pytest.raises(ParseError, match=problem) as caught:
        open_zip(path, "upload.zip")
    assert "upload.zip" in str(caught.value)


def test_harmless_names_pass():
    for name in ("a/b/c.csv", "Table data.csv", "résumé ;'\"x.csv", "..hidden/x", "a..b.csv"):
        assert unsafe_name(name) is None, name


def test_symlink_members_are_refused(tmp_path: Path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        link = zipfile.ZipInfo("Overview.csv")
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    path = tmp_path / "links.zip"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ParseError, match="symbolic link"):
        open_zip(path, "links.zip")


def test_a_zip_bomb_is_refused_by_ratio_before_reading(tmp_path: Path):
    path = make_zip(tmp_path, {"Table data.csv": b"0" * 20_000_000})
    assert path.stat().st_size < 100_000
    with pytest.raises(ParseError, match="zip bomb"):
        open_zip(path, "bomb.zip")


def test_declared_limits(tmp_path: Path):
    path = make_zip(tmp_path, {f"m{i}.csv": bytes(range(256)) * 8 for i in range(5)})
    with pytest.raises(ParseError, match="more than the limit of 4"):
        SafeZip(path, "x.zip", ZipLimits(max_members=4))
    with pytest.raises(ParseError, match="more than the limit of 1000"):
        SafeZip(path, "x.zip", ZipLimits(max_member_size=1000))
    with pytest.raises(ParseError, match="add up to more than"):
        SafeZip(path, "x.zip", ZipLimits(max_total_size=5000))
    with SafeZip(path, "x.zip", ZipLimits(max_members=5, max_total_size=10_240)) as archive:
        assert archive.names() == [f"m{i}.csv" for i in range(5)]
        assert archive.read("m0.csv") == bytes(range(256)) * 8


def test_a_header_that_understates_the_size_is_caught_while_reading(tmp_path: Path):
    real = b"A" * 50_000
    path = make_zip(tmp_path, {"x.csv": real}, method=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    # shrink the declared size in the central directory (offset 24 of its header)
    at = data.index(b"PK\x01\x02") + 24
    data[at : at + 4] = (100).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(ParseError) as caught, open_zip(path, "liar.zip") as archive:
        archive.read("x.csv")
    assert "liar.zip!x.csv" in str(caught.value)


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04" + b"\x00" * 64, b"not a zip at all", b""],
    ids=["bad-zip", "text", "empty"],
)
def test_unreadable_archives_are_parse_errors_naming_the_file(tmp_path: Path, data: bytes):
    path = tmp_path / "broken.zip"
    path.write_bytes(data)
    with pytest.raises(ParseError, match=r"broken\.zip: not a readable zip archive"):
        open_zip(path, "broken.zip")
    assert member_names(path) == ()


def test_unsupported_compression_is_a_parse_error(tmp_path: Path):
    path = make_zip(tmp_path, {"x.csv": b"a,b\n" * 100})
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02") + 10  # compression method in the central directory
    data[at : at + 2] = (99).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(ParseError, match="unsupported compression method 99"):
        open_zip(path, "odd.zip")


def test_damaged_member_data_is_a_parse_error(tmp_path: Path):
    path = make_zip(tmp_path, {"x.csv": bytes(range(256)) * 200})
    data = bytearray(path.read_bytes())
    for i in range(60, 80):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    with (
        pytest.raises(ParseError, match=r"damaged\.zip!x\.csv"),
        open_zip(path, "damaged.zip") as z,
    ):
        z.read("x.csv")


def test_nothing_is_written_outside_the_landing_zone(tmp_path: Path, monkeypatch):
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "a" / "b" / "c"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    overview = (FIXTURES / "tiktok" / "Overview.csv").read_bytes()
    path = make_zip(
        work, {"../../../Overview.csv": overview, "/tmp/abs-escaped/Overview.csv": overview}
    )
    settings = Settings.from_env(tmp_path / "home" / "warehouse" / "creators.duckdb")
    before = {p for p in tmp_path.rglob("*")}
    [result] = load_files([path], settings, platform="tiktok", account="acct")
    assert result.status == "rejected" and "refused" in (result.message or "")
    created = {p for p in tmp_path.rglob("*")} - before
    # only the pipeline's own places may have grown: the landing zone (the archive's own
    # bytes, content-addressed), the warehouse recording the rejection, and staging's note of it
    own = (settings.landing, settings.staging, settings.warehouse.parent)
    files = [p for p in created if p.is_file()]
    assert files and all(any(root in p.parents for root in own) for p in files), files
    assert not (tmp_path / "Overview.csv").exists()
    assert not Path("/tmp/abs-escaped").exists()
    landed = [p for p in settings.landing.rglob("*") if p.is_file()]
    assert all(p.suffix in (".zip", ".json") for p in landed), landed


def test_odd_file_names_land_safely(tmp_path: Path, monkeypatch):
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING"):
        monkeypatch.delenv(name, raising=False)
    odd = tmp_path / "in" / "Over'view; drop table core.posts;-- \u00e9\u6f22 $HOME `x`.csv"
    odd.parent.mkdir()
    odd.write_bytes((FIXTURES / "tiktok" / "Overview.csv").read_bytes())
    settings = Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")
    [result] = load_files([odd], settings, platform="tiktok", account="acct")
    assert result.status == "published", result.message
    landed = [p for p in settings.landing.rglob("*") if p.is_file()]
    # content-addressed names only: the odd name lives in the manifest, not on disk
    assert {p.name.split(".", 1)[0] for p in landed} == {landed[0].name.split(".", 1)[0]}
    assert all(p.name.isascii() and " " not in p.name for p in landed)
    manifest = next(p for p in landed if p.name.endswith(".manifest.json"))
    assert json.loads(manifest.read_text(encoding="utf-8"))["source_name"] == odd.name
