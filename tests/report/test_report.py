"""The HTML report: built from a small BI copy, rendered by headless Chromium, not blank."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ingest.config import Settings
from ingest.creators import MappingRow, apply_mapping
from ingest.errors import IngestError
from ingest.report import write_report
from ingest.transforms import publish_bi, rebuild_marts
from ingest.warehouse import writer

END = date(2026, 9, 30)
DAYS = 40
OBSERVED = datetime(2026, 10, 1, 6, tzinfo=UTC)
CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (make pytest installs it)"
)

ACCOUNTS = [  # platform, account, handle, creator, followers on the first day, daily growth
    ("youtube", "yt-a", "ana", "ana", 3_000, 0.01),
    ("instagram", "ig-a", "ana", "ana", 4_500, 0.004),
    ("tiktok", "tt-b", "bo", "bo", 60_000, 0.002),
    ("youtube", "yt-b", "bo", "bo", 45_000, 0.001),
    ("snapchat", "sc-c", "cy", "cy", 900, 0.02),
    ("instagram", "ig-d", "dee", "dee", 250_000, 0.003),
    ("tiktok", "tt-e", "eli", "eli", 1_400_000, 0.001),
    ("youtube", "yt-f", "fatou", "fatou", 12_000, 0.002),
]
SPIKE = ("youtube", "yt-f", END - timedelta(days=3))  # +40% bought followers


def build_bi_copy(settings: Settings) -> None:
    days = [END - timedelta(days=DAYS - 1 - n) for n in range(DAYS)]
    account_rows, daily, posts, post_daily = [], [], [], []
    for n, (platform, account, handle, _, start, growth) in enumerate(ACCOUNTS):
        account_rows.append((platform, account, handle, "t", OBSERVED))
        followers = float(start)
        for i, day in enumerate(days):
            followers *= 1 + growth + (0.001 if i % 2 else -0.0005)
            if (platform, account, day) == SPIKE:
                followers *= 1.4
            daily.append((platform, account, day, int(followers), "t", OBSERVED))
            if i % 3 == n % 3:
                post_id = f"{account}-{i}"
                published = datetime.combine(day, datetime.min.time(), UTC)
                views = int(followers * 0.3)
                likes = int(views * (0.02 + 0.01 * (n % 4)))
                posts.append((platform, post_id, account, published, "t", OBSERVED))
                post_daily.append(
                    (platform, post_id, account, day, views, likes, likes // 10, "t", OBSERVED)
                )
    with writer(settings) as conn:
        conn.executemany(
            "insert into core.accounts (platform, account_id, handle, load_id, observed_at)"
            " values (?, ?, ?, ?, ?)",
            account_rows,
        )
        conn.executemany(
            "insert into core.account_daily (platform, account_id, day, followers, load_id,"
            " observed_at) values (?, ?, ?, ?, ?, ?)",
            daily,
        )
        conn.executemany(
            "insert into core.posts (platform, post_id, account_id, published_at, load_id,"
            " observed_at) values (?, ?, ?, ?, ?, ?)",
            posts,
        )
        conn.executemany(
            "insert into core.post_daily (platform, post_id, account_id, day, views, likes,"
            " comments, load_id, observed_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            post_daily,
        )
        conn.execute(
            "insert into meta.pending_mart_days select platform, account_id, min(day), max(day),"
            " 't' from core.account_daily group by all"
        )
        conn.execute("begin transaction")
        rows = [
            MappingRow(creator, platform, account, None, line)
            for line, (platform, account, _, creator, _, _) in enumerate(ACCOUNTS, start=2)
        ]
        apply_mapping(conn, rows, load_id="map", observed_at=OBSERVED)
        conn.execute("commit")
        rebuild_marts(conn)
        publish_bi(conn, settings)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report")
    settings = Settings.from_env(root / "warehouse" / "creators.duckdb")
    build_bi_copy(settings)
    return write_report(settings, root / "out" / "report.html")


def test_the_page_is_self_contained_with_every_chart(report):
    page = report.read_text(encoding="utf-8")
    assert page.count("<svg") == 5  # tiers, top micro, scatter, growth, spikes
    for title in (
        "Tier distribution per platform",
        "Top micro creators by engagement",
        "Engagement vs followers",
        "Follower growth",
        "Flagged follower spikes",
    ):
        assert title in page
    # nothing to fetch: no scripts, stylesheets or images from elsewhere
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    # the bought followers are in the spike table, with the explanation beside the flag
    assert "<td>fatou</td><td>2026-09-27</td>" in page


def test_a_missing_bi_copy_is_a_clear_error(tmp_path):
    settings = Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")
    with pytest.raises(IngestError, match="no BI copy"):
        write_report(settings, tmp_path / "report.html")


def screenshot(page: Path, png: Path, profile: Path) -> bytes:
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--screenshot={png}",
            "--window-size=1200,1600",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return png.read_bytes()


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the pixels (RGB or RGBA bytes) of an 8-bit non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and interlace == 0 and colour_type in (2, 6)
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    previous = bytearray(stride)
    pixels = []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + best) & 0xFF
        pixels.extend(bytes(line[x : x + 3]) for x in range(0, stride, bpp))
        previous = line
    return width, height, pixels


def colour_stats(png: bytes) -> tuple[int, float]:
    """Distinct colours and the share of pixels that are not the page background (white)."""
    _, _, pixels = png_pixels(png)
    inked = sum(1 for p in pixels if p != b"\xff\xff\xff")
    return len(set(pixels)), inked / len(pixels)


@needs_chromium
def test_chromium_renders_the_charts(report, tmp_path):
    png = screenshot(report, tmp_path / "report.png", tmp_path / "profile")
    width, height, _ = png_pixels(png)
    assert (width, height) == (1200, 1600)
    colours, inked = colour_stats(png)
    # tier, platform and series colours plus anti-aliased text and lines
    assert colours >= 200
    assert inked >= 0.03


@needs_chromium
def test_the_check_fails_on_a_blank_page(tmp_path):
    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><html><body></body></html>", encoding="utf-8")
    png = screenshot(blank, tmp_path / "blank.png", tmp_path / "profile")
    colours, inked = colour_stats(png)
    assert colours < 200 and inked < 0.03
