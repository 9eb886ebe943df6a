"""The HTML report: built from a small BI copy, drawn by plotly in headless Chromium, not blank."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import zlib
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from plotly.offline import get_plotlyjs

from ingest.bi_copy import publish_bi
from ingest.config import Settings
from ingest.creators import MappingRow, apply_mapping
from ingest.errors import IngestError
from ingest.report import TIER_COLOURS, render, write_report
from ingest.transforms import rebuild_marts
from ingest.warehouse import writer

END = date(2026, 9, 30)
DAYS = 40
OBSERVED = datetime(2026, 10, 1, 6, tzinfo=UTC)
CHROMIUM = shutil.which("chromium")
WINDOW = (1200, 2400)  # tall enough for every chart
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


CHARTS = ("tiers", "top-micro", "scatter", "growth", "spikes")


def test_the_page_has_one_plotly_div_per_chart(report):
    page = report.read_text(encoding="utf-8")
    assert re.findall(r'<div id="(chart-[a-z-]+)" class="plotly-graph-div"', page) == [
        f"chart-{key}" for key in CHARTS
    ]
    assert page.count("Plotly.newPlot(") == len(CHARTS)
    for title in (
        "Tier distribution per platform",
        "Top micro creators by engagement",
        "Engagement vs followers",
        "Follower growth of selected creators",
        "Flagged follower spikes",
    ):
        assert title in page
    # no hand-drawn charts left (plotly.js itself carries SVG snippets as strings)
    drawn = page.replace(get_plotlyjs(), "")
    assert "<svg" not in drawn and "<polyline" not in drawn
    # the bought followers are in the spike table, with the explanation beside the flag
    assert "<td>fatou</td><td>2026-09-27</td>" in page


def test_the_page_is_self_contained(report):
    page = report.read_text(encoding="utf-8")
    bundle = get_plotlyjs()
    # plotly.js is inlined exactly once, however many charts use it
    assert page.count(bundle) == 1
    assert page.count("plotly.js v") == 1
    # nothing to fetch: no script from elsewhere (no CDN), no stylesheet, image or frame
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts and all("src" not in tag for tag in scripts)
    assert not re.search(r"<script[^>]+src\s*=\s*[\"']?https?://", page)
    assert not re.search(r"<(link|img|iframe)\b", page)
    # outside the bundle (which carries map attributions as strings) the page names no URL
    rest = page.replace(bundle, "")
    assert "http://" not in rest and "https://" not in rest


def test_metric_breaks_are_marked_on_the_growth_chart(report, tmp_path):
    import plotly.graph_objects as go

    # a writable copy of the BI file gets breaks chosen by the test instead of the registry's
    bi = report.parent.parent / "warehouse" / "creators_bi.duckdb"
    copy = tmp_path / "bi.duckdb"
    shutil.copyfile(bi, copy)
    conn = duckdb.connect(str(copy))
    try:
        conn.execute("drop table if exists marts.metric_breaks")
        page = render(conn, generated_at=OBSERVED, go=go)
        assert "followers break" not in page
        conn.execute(
            "create table marts.metric_breaks (platform varchar, metric varchar,"
            " break_date date, continuous boolean, note varchar)"
        )
        conn.execute(
            "insert into marts.metric_breaks values"
            " ('youtube', 'followers', '2026-09-15', false, 'counts rounded from here'),"
            " ('youtube', 'followers', '2026-09-16', true, 'same series, new endpoint'),"
            " ('tiktok', 'views', '2026-09-17', false, 'not a follower series'),"
            " ('youtube', 'followers', '2020-01-01', false, 'before the plotted days')"
        )
        page = render(conn, generated_at=OBSERVED, go=go)
    finally:
        conn.close()
    assert page.count("followers break") == 1
    assert "youtube followers break" in page and "counts rounded from here" in page
    assert "2026-09-15" in page


def test_importing_the_report_module_does_not_import_plotly():
    # `ingest --help` stays quick: plotly is imported only when a report is written
    code = "import sys, ingest.cli, ingest.report; assert 'plotly' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


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
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            # plotly draws with JavaScript after load: let the page's clock run (virtual time,
            # so no real waiting) before the screenshot is taken
            "--virtual-time-budget=10000",
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
        # fast paths: most rows of a page are unfiltered or "up" rows, and an "up" row of
        # zeros (the usual white band) repeats the row above
        if kind == 0 or (kind == 2 and not any(line)):
            line = line if kind == 0 else bytearray(previous)
            pixels.extend(bytes(line[x : x + 3]) for x in range(0, stride, bpp))
            previous = line
            continue
        if kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
            pixels.extend(bytes(line[x : x + 3]) for x in range(0, stride, bpp))
            previous = line
            continue
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


def colour_stats(png: bytes) -> tuple[int, float, int]:
    """Distinct colours, the share of pixels that are not the page background (white) and
    the pixels painted in the tier colours (solid bar fills only plotly can have drawn)."""
    _, _, pixels = png_pixels(png)
    counts = Counter(pixels)
    inked = len(pixels) - counts[b"\xff\xff\xff"]
    tiers = {bytes.fromhex(TIER_COLOURS[t][1:]) for t in ("nano", "micro", "macro", "mega")}
    return len(counts), inked / len(pixels), sum(counts[c] for c in tiers)


def rendered(colours: int, inked: float, tier_pixels: int) -> bool:
    # tier, platform and series colours plus anti-aliased text and lines, and the bars
    return colours >= 200 and inked >= 0.03 and tier_pixels >= 5_000


@needs_chromium
def test_chromium_renders_the_charts(report, tmp_path):
    png = screenshot(report, tmp_path / "report.png", tmp_path / "profile")
    # the size straight from the IHDR chunk: decoding twice costs seconds
    assert struct.unpack(">II", png[16:24]) == WINDOW
    assert rendered(*colour_stats(png))


@needs_chromium
def test_the_check_fails_on_a_blank_page(tmp_path):
    blank = tmp_path / "blank.html"
    blank.write_text("<!doctype html><html><body></body></html>", encoding="utf-8")
    png = screenshot(blank, tmp_path / "blank.png", tmp_path / "profile")
    assert not rendered(*colour_stats(png))


@needs_chromium
def test_the_check_fails_when_the_charts_are_not_drawn(report, tmp_path):
    # the same page with its scripts removed: titles, notes and the table but no chart
    page = report.read_text(encoding="utf-8")
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r"<script\b.*?</script>", "", page, flags=re.S), encoding="utf-8")
    png = screenshot(bare, tmp_path / "bare.png", tmp_path / "profile")
    colours, inked, tier_pixels = colour_stats(png)
    assert tier_pixels == 0
    assert not rendered(colours, inked, tier_pixels)
