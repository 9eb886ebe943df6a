"""Deterministic generators of large inputs in the platforms' real shapes, for the benchmarks.

Every generator takes a seed and writes the same bytes for the same arguments, so runs on
different days and machines measure the same work.
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

# research api video ids are 19 digits, far above 2**53: a float would lose them
VIDEO_ID_BASE = 7_213_456_789_012_345_678
WORDS = (
    "desk setup",
    "morning routine",
    "café run",
    "leg day",
    "pasta night",
    "🔥 drop",
    'the "best" tip',
    "tutorial",
    "back\\slash",
    "storytime",
    "día de campo",
    "日本語",
)


def _caption(rng: random.Random) -> str:
    return f"{rng.choice(WORDS)} part {rng.randrange(1, 50)} #{rng.choice(('fyp', 'wfh', 'diy'))}"


def tiktok_video(
    rng: random.Random, index: int, accounts: int, observed: datetime
) -> dict[str, object]:
    views = rng.randrange(100, 5_000_000)
    created = int(observed.timestamp()) - rng.randrange(3600, 365 * 86400)
    video: dict[str, object] = {
        "id": VIDEO_ID_BASE + index * 7,
        "create_time": created,
        "username": f"creator{index % accounts:05d}",
        "region_code": "US",
        "video_description": _caption(rng) if index % 17 else "",
        "like_count": views // rng.randrange(8, 40),
        "comment_count": views // rng.randrange(200, 2000),
        "share_count": views // rng.randrange(300, 3000),
        "view_count": views,
        "favourites_count": views // rng.randrange(100, 900),
        "video_duration": rng.randrange(5, 600),
        "hashtag_names": ["fyp"],
    }
    return video


# rows the reference parser or the row rules turn away, or accept only after coercion
BAD_VIDEOS: tuple[dict[str, object] | object, ...] = (
    {"id": 7213456789012345678.0, "username": "float_id", "view_count": 1},
    {"username": "no_id", "view_count": 1},
    {"id": None, "username": "null_id", "view_count": 1},
    {"id": True, "username": "bool_id", "view_count": 1},
    {"id": "72134567890123456x", "username": "letters", "view_count": 1},
    {"id": " 7213456789000000001 ", "username": "padded_string_id", "view_count": "1,234"},
    {"id": 7213456789000000002, "username": "   ", "view_count": 1},
    {"id": 7213456789000000003, "username": "neg", "view_count": -5},
    {"id": 7213456789000000004, "username": "frac", "like_count": 2.5},
    {"id": 7213456789000000005, "username": "whole_float", "like_count": 3.0},
    {"id": 7213456789000000006, "username": "future", "create_time": 4102444800},
    {"id": 7213456789000000007, "username": "ancient", "create_time": 0},
    {"id": 7213456789000000008, "username": "iso", "create_time": "2026-08-01T10:00:00Z"},
    {"id": 7213456789000000009, "username": "garbage_time", "create_time": "last tuesday"},
    {"id": 7213456789000000010, "username": "long", "video_duration": 2**40},
    {"id": 7213456789000000011, "username": "huge", "view_count": 2**64 + 1},
    {"id": 7213456789000000012, "username": "str_count", "share_count": "n/a"},
    {"id": 7213456789000000013, "username": 12345, "view_count": 1},
    {"id": 7213456789000000014, "username": "caption_num", "video_description": 7},
    {"id": 7213456789000000015, "username": "caption_zero", "video_description": 0},
    {"id": "7213456789000000016", "username": "string_id", "view_count": None},
    {"id": 7213456789000000017, "username": "bool_count", "comment_count": False},
    None,
    {"id": 7213456789000000018, "username": "nested", "view_count": {"n": 1}},
    {"id": 7213456789000000019, "create_time": None, "video_description": None},
)


def tiktok_pages(
    folder: Path,
    *,
    rows: int,
    page_rows: int,
    accounts: int = 20_000,
    seed: int = 9,
    observed: datetime = datetime(2026, 9, 1, 6, 0, tzinfo=UTC),
    bad_every: int = 0,
    duplicate_every: int = 0,
    warning_pages: int = 0,
    critical_pages: int = 0,
) -> list[Path]:
    """Research API ``video/query`` response pages holding ``rows`` videos in all.

    ``bad_every`` swaps every n-th video for one of ``BAD_VIDEOS``; ``duplicate_every`` repeats
    the previous video's id every n-th video (a contradiction the row rules quarantine).
    ``warning_pages``: every n-th page holds videos with more likes than views, just over the
    1% the warning ``views >= likes`` (mostly 0.99) tolerates, so the page's audit warns (it
    happens: the counts are sampled at different moments). ``critical_pages``: every n-th page
    holds a video with a negative view count, which fails the critical rule ``views >= 0``
    (the row rules quarantine it; the rest of the page publishes).
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths: list[Path] = []
    written = 0
    page = 0
    while written < rows:
        count = min(page_rows, rows - written)
        videos: list[object] = []
        for offset in range(count):
            index = written + offset
            video: object = tiktok_video(rng, index, accounts, observed)
            if bad_every and index % bad_every == bad_every - 1:
                video = BAD_VIDEOS[(index // bad_every) % len(BAD_VIDEOS)]
            elif duplicate_every and index % duplicate_every == duplicate_every - 1 and videos:
                previous = videos[-1]
                if isinstance(previous, dict) and isinstance(video, dict):
                    video["id"] = previous.get("id")
            videos.append(video)
        if warning_pages and page % warning_pages == warning_pages - 1:
            for video in videos[1 : 2 + count // 100]:
                if isinstance(video, dict) and isinstance(video.get("view_count"), int):
                    video["like_count"] = video["view_count"] + 1 + rng.randrange(100)
        if critical_pages and page % critical_pages == critical_pages // 2 and videos:
            video = videos[-1]
            if isinstance(video, dict):
                video["view_count"] = -1 - rng.randrange(100)
        written += count
        page += 1
        doc = {
            "data": {
                "videos": videos,
                "cursor": written,
                "has_more": written < rows,
                "search_id": f"{7213456789012345000 + page}",
            },
            "error": {"code": "ok", "message": "", "log_id": f"20260901060000{page:06d}"},
        }
        path = folder / f"video_query_{page:05d}.json"
        path.write_text(
            json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )
        paths.append(path)
    return paths


def _clock(seconds: int) -> str:
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def youtube_studio_zip(
    path: Path,
    *,
    rows: int,
    seed: int = 9,
    bad_every: int = 0,
    window_end: date = date(2026, 8, 31),
) -> Path:
    """A YouTube Studio "Advanced mode" export: ``Table data.csv`` with a BOM and a Total row."""
    rng = random.Random(seed)
    out = io.StringIO()
    out.write(
        "\ufeffContent,Video title,Video publish time,Duration,Views,Likes,Comments added,"
        "Shares,Watch time (hours),Impressions click-through rate (%)\r\n"
    )
    out.write(f"Total,,,,{rows * 1000},{rows * 40},{rows * 3},{rows},{rows * 5}.5,\r\n")
    bad = ("12a", "-4", "1.5", "—", "", "n/a", '"1,234"', "99999999999999999999")
    for index in range(rows):
        video_id = f"v{index:010d}"
        published = window_end - timedelta(days=rng.randrange(0, 2000))
        when = published.strftime("%b %d, %Y").replace(" 0", " ")
        seconds = rng.randrange(5, 7200)
        duration = _clock(seconds) if index % 3 else str(seconds)
        views = rng.randrange(0, 2_000_000)
        views_text = f'"{views:,}"' if views >= 1000 and index % 5 == 0 else str(views)
        likes: str = str(views // rng.randrange(10, 50))
        if index % 11 == 0:
            likes = ""
        if bad_every and index % bad_every == bad_every - 1:
            likes = bad[(index // bad_every) % len(bad)]
        quoted = f"{_caption(rng)}, take {index % 7}".replace('"', '""')
        title = f'"{quoted}"' if index % 4 == 0 else f"clip {index}"
        out.write(
            f'{video_id},{title},"{when}",{duration},{views_text},{likes},'
            f"{views // 700},{views // 900},{views / 300:.1f},{rng.randrange(0, 90) / 10}\r\n"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("Table data.csv", out.getvalue().encode("utf-8"))
        archive.writestr("Chart data.csv", "Date,Views\r\n")
    return path


def youtube_videos_pages(
    folder: Path,
    *,
    rows: int,
    page_items: int = 50,
    channels: int = 20_000,
    seed: int = 9,
    observed: datetime = datetime(2026, 9, 1, 6, 0, tzinfo=UTC),
) -> list[Path]:
    """Data API ``videos.list`` responses (part=snippet,statistics,contentDetails), as the pull
    lands them: at most 50 ids a request, so ``rows`` videos are ``rows / page_items`` files.

    Counts are strings, as the API sends them; one video in 13 hides its likes and one in 29 has
    comments off (the key is absent, not zero).
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    paths: list[Path] = []
    written = 0
    page = 0
    while written < rows:
        count = min(page_items, rows - written)
        items = []
        for index in range(written, written + count):
            views = rng.randrange(0, 3_000_000)
            published = observed - timedelta(seconds=rng.randrange(3600, 3 * 365 * 86400))
            statistics = {"viewCount": str(views), "favoriteCount": "0"}
            if index % 13:
                statistics["likeCount"] = str(views // rng.randrange(15, 60))
            if index % 29:
                statistics["commentCount"] = str(views // rng.randrange(300, 3000))
            seconds = rng.randrange(5, 7200)
            items.append(
                {
                    "kind": "youtube#video",
                    "etag": f"e{index:x}",
                    "id": f"v{index:010d}",
                    "snippet": {
                        "publishedAt": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "channelId": f"UCbench{index % channels:017d}",
                        "title": _caption(rng),
                    },
                    "contentDetails": {
                        "duration": f"PT{seconds // 3600}H{seconds // 60 % 60}M{seconds % 60}S"
                    },
                    "statistics": statistics,
                }
            )
        written += count
        page += 1
        doc = {
            "kind": "youtube#videoListResponse",
            "etag": f"page{page}",
            "items": items,
            "pageInfo": {"totalResults": count, "resultsPerPage": count},
        }
        path = folder / f"videos_list_{page:06d}.json"
        path.write_text(
            json.dumps(doc, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )
        paths.append(path)
    return paths


def business_discovery_one_row(path: Path, *, account: str = "17841400000000001") -> Path:
    """A Graph API ``business_discovery`` answer for one account with no media: one row."""
    doc = {
        "business_discovery": {
            "username": "bench_one_row",
            "name": "Bench",
            "id": account,
            "followers_count": 4321,
            "media_count": 0,
            "media": {"data": []},
        },
        "id": "17841400000000000",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    return path
