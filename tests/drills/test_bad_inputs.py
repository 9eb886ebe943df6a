"""The bad-input corpus: hostile and broken files for every platform and format.

Every case is generated here from a good fixture (or from nothing) and says what must happen:
``error`` (the file is refused with a message naming it, and the line and field where they are
known; the warehouse is left exactly as it was), ``quarantine`` (the file loads, the bad rows go
to ``quarantine.rows`` with a reason) or ``loaded`` (the oddity is handled and nothing is lost).
Never a traceback, and always ``rows_read = rows_loaded + rows_quarantined``.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest.config import Settings
from ingest.pipeline import LoadResult, load_files
from tests.conftest import FIXTURES

DAY = date(2026, 9, 1)
ACCOUNT = "acct_bad"
SNAPSHOT_TABLES = (
    "core.accounts",
    "core.account_daily",
    "core.posts",
    "core.post_daily",
    # a rejected file is recorded (status 'rejected') and changes nothing else
    "(select * from meta.loads where status <> 'rejected')",
    "quarantine.rows",
    "marts.creator_engagement_daily",
    "marts.creator_tier_daily",
    "marts.creator_tier_history",
)


def fx(path: str) -> bytes:
    return (FIXTURES / path).read_bytes()


def fx_text(path: str) -> str:
    return fx(path).decode("utf-8-sig")


def sub(path: str, old: str, new: str, count: int = 1) -> Callable[[], bytes]:
    def make() -> bytes:
        text = fx_text(path)
        assert old in text, f"{old!r} not in {path}"
        return text.replace(old, new, count).encode()

    return make


def raw(data: bytes | Callable[[], bytes]) -> Callable[[], bytes]:
    return data if callable(data) else (lambda: data)


def zipped(members: dict[str, bytes], **options: object) -> Callable[[], bytes]:
    def make() -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        return buffer.getvalue()

    return make


def zip_with(info: Callable[[zipfile.ZipInfo], None], name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        member = zipfile.ZipInfo(name, date_time=(2026, 8, 31, 0, 0, 0))
        member.compress_type = zipfile.ZIP_DEFLATED
        info(member)
        archive.writestr(member, data)
    return buffer.getvalue()


def patched_zip(members: dict[str, bytes], find: bytes, replace: bytes, nth: int = -1) -> bytes:
    """A zip with some bytes of its headers or data overwritten (same length)."""
    data = bytearray(zipped(members)())
    spots = [m.start() for m in re.finditer(re.escape(find), bytes(data))]
    assert spots, find
    at = spots[nth]
    data[at : at + len(replace)] = replace
    return bytes(data)


def csv_rows(header: str, rows: list[str]) -> Callable[[], bytes]:
    return raw(("\n".join([header, *rows]) + "\n").encode())


CONTENT_HEADER = (
    "Video title,Post time,Video link,Total views,Total likes,Total comments,Total shares,Reach"
)
GOOD_VIDEO = (
    "Fine,2026-08-20 18:03:00,https://www.tiktok.com/@a/video/7213456789012345001,10,2,1,0,9"
)
DYI_POSTS = "your_instagram_activity/logged_information/past_instagram_insights/posts.json"
# a good row beside a bad one, so the batch-volume audit sees a normal-sized load
GOOD_2 = (
    "Also fine,2026-08-21 10:00:00,https://www.tiktok.com/@a/video/7213456789012345099,5,1,0,0,4"
)


def studio_table() -> bytes:
    with zipfile.ZipFile(
        FIXTURES / "youtube" / "Content 2026-08-04_2026-08-31 Rounded Micro.zip"
    ) as z:
        return z.read("Table data.csv")


def nested(depth: int) -> bytes:
    return (
        b'{"kind": "youtube#channelListResponse", "items": [' + b"[" * depth + b"]" * depth + b"]}"
    )


@dataclass(frozen=True)
class Case:
    id: str
    name: str
    make: Callable[[], bytes]
    expect: str  # error | quarantine | loaded
    text: str = ""  # in the error message, or in a quarantine reason
    platform: str | None = None
    account: str | None = None
    line: int | None = None
    field: str | None = None


def case(
    id: str, name: str, make: Callable[[], bytes] | bytes, expect: str, text: str = "", **kw: object
) -> Case:
    return Case(id, name, raw(make), expect, text, **kw)  # type: ignore[arg-type]


YT, TT, IG, SC = "youtube", "tiktok", "instagram", "snapchat"
A = {"account": ACCOUNT}

CASES: list[Case] = [
    # ---- JSON, any platform
    case(
        "json-truncated",
        "channels.json",
        lambda: fx("youtube/channels_list.json")[:700],
        "error",
        "invalid JSON",
        platform=YT,
    ),
    case("json-empty", "channels.json", b"", "error", "empty", platform=YT),
    case("json-whitespace", "channels.json", b"  \n\t \n", "error", "empty", platform=YT),
    case(
        "json-invalid-utf8",
        "videos.json",
        lambda: fx("youtube/videos_list.json").replace(b"All counts", b"All \xff\xfe counts"),
        "error",
        "not valid UTF-8",
        platform=YT,
    ),
    case(
        "json-utf16-undeclared",
        "channels.json",
        lambda: fx_text("youtube/channels_list.json").encode("utf-16-le"),
        "error",
        "",
        platform=YT,
    ),
    case(
        "json-latin1-declared-utf8",
        "user.json",
        lambda: (
            fx_text("instagram/user.json")
            .replace("Coffee, roasted", "Caf\u00e9, roasted")
            .encode("latin-1")
        ),
        "error",
        "not valid UTF-8",
        platform=IG,
    ),
    case(
        "json-bom-in-middle",
        "channels.json",
        lambda: fx("youtube/channels_list.json").replace(b'"etag"', codecs.BOM_UTF8 + b'"etag"'),
        "error",
        "invalid JSON",
        platform=YT,
        line=3,
    ),
    case(
        "json-double-bom",
        "channels.json",
        lambda: codecs.BOM_UTF8 * 2 + fx("youtube/channels_list.json"),
        "error",
        "",
        platform=YT,
    ),
    case(
        "json-bom-ok",
        "channels.json",
        lambda: codecs.BOM_UTF8 + fx("youtube/channels_list.json"),
        "loaded",
        platform=YT,
    ),
    case(
        "json-deeply-nested",
        "channels.json",
        lambda: nested(200_000),
        "error",
        "nested too deeply",
        platform=YT,
    ),
    case("json-top-level-string", "x.json", b'"hello"', "error", "not a recognised", platform=YT),
    case("json-top-level-null", "x.json", b"null", "error", "not a recognised", platform=TT),
    case(
        "json-trailing-garbage",
        "channels.json",
        lambda: fx("youtube/channels_list.json") + b"\n{}",
        "error",
        "invalid JSON",
        platform=YT,
    ),
    case(
        "json-control-char",
        "channels.json",
        sub("youtube/channels_list.json", "Small Channel", "Small\x01Channel"),
        "error",
        "invalid JSON",
        platform=YT,
    ),
    case(
        "json-duplicate-key",
        "channels.json",
        sub("youtube/channels_list.json", '"etag": "fixture",', '"etag": "fixture", "items": [],'),
        "error",
        "appears twice",
        platform=YT,
    ),
    case(
        "json-nan-count",
        "channels.json",
        sub("youtube/channels_list.json", '"subscriberCount": "987"', '"subscriberCount": NaN'),
        "quarantine",
        "subscriberCount",
        platform=YT,
    ),
    case(
        "json-infinity-count",
        "user.json",
        sub("instagram/user.json", '"followers_count": 267793', '"followers_count": Infinity'),
        "quarantine",
        "followers_count",
        platform=IG,
    ),
    case(
        "json-huge-float",
        "videos.json",
        sub("tiktok/research_video_query.json", '"like_count": 980', '"like_count": 1e400'),
        "quarantine",
        "like_count",
        platform=TT,
    ),
    case(
        "json-beyond-int64-number",
        "videos.json",
        sub(
            "tiktok/research_video_query.json",
            '"view_count": 12400',
            '"view_count": 123456789012345678901234567890',
        ),
        "quarantine",
        "64 bits",
        platform=TT,
    ),
    case(
        "json-beyond-int64-string",
        "channels.json",
        sub(
            "youtube/channels_list.json",
            '"viewCount": "98765"',
            '"viewCount": "99999999999999999999"',
        ),
        "quarantine",
        "64 bits",
        platform=YT,
    ),
    case(
        "json-negative-count",
        "profiles.json",
        sub(
            "snapchat/public_profiles.json",
            '"subscriber_count": "48210',
            '"subscriber_count": "-48210',
        ),
        "quarantine",
        "negative",
        platform=SC,
    ),
    case(
        "json-non-numeric-count",
        "videos.json",
        sub("youtube/videos_list.json", '"viewCount": "1200"', '"viewCount": "twelve hundred"'),
        "quarantine",
        "viewCount",
        platform=YT,
    ),
    case(
        "json-date-out-of-range",
        "channels.json",
        sub(
            "youtube/channels_list.json",
            '"publishedAt": "2019-03-04T05:06:07Z"',
            '"publishedAt": "1899-03-04T05:06:07Z"',
        ),
        "quarantine",
        "out of range",
        platform=YT,
    ),
    case(
        "json-date-in-future",
        "videos.json",
        sub(
            "youtube/videos_list.json",
            '"publishedAt": "2026-08-20T17:45:00Z"',
            '"publishedAt": "2099-08-20T17:45:00Z"',
        ),
        "quarantine",
        "out of range",
        platform=YT,
    ),
    case(
        "json-date-impossible",
        "videos.json",
        sub(
            "youtube/videos_list.json",
            '"publishedAt": "2026-08-20T17:45:00Z"',
            '"publishedAt": "2026-13-45T17:45:00Z"',
        ),
        "quarantine",
        "publishedAt",
        platform=YT,
    ),
    case(
        "json-epoch-huge",
        "videos.json",
        sub(
            "tiktok/research_video_query.json",
            '"create_time": 1787248980',
            '"create_time": 99999999999999999',
        ),
        "quarantine",
        "create_time",
        platform=TT,
    ),
    case(
        "json-same-video-twice",
        "videos.json",
        lambda: _twice_in_list("tiktok/display_video_list.json"),
        "quarantine",
        "duplicate",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "json-mixed-platforms", "mixed.json", lambda: _mixed_items(), "quarantine", "", platform=YT
    ),
    case(
        "json-wrong-platform",
        "channels.json",
        lambda: fx("youtube/channels_list.json"),
        "error",
        "not a recognised instagram",
        platform=IG,
    ),
    case(
        "json-items-not-list",
        "videos.json",
        sub("tiktok/research_video_query.json", '"videos": [', '"videos": {"x": [', 1),
        "error",
        "",
        platform=TT,
    ),
    case(
        "json-several-mb-title",
        "videos.json",
        sub(
            "youtube/videos_list.json",
            '"title": "All counts"',
            '"title": "' + "x" * 4_000_000 + '"',
        ),
        "loaded",
        platform=YT,
    ),
    case(
        "json-lone-surrogate",
        "videos.json",
        sub("youtube/videos_list.json", '"title": "All counts"', '"title": "All \\ud800 counts"'),
        "quarantine",
        "Unicode",
        platform=YT,
    ),
    case(
        "json-api-error-body",
        "user.json",
        fx("tiktok/research_user_info_error.json"),
        "error",
        "",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "json-analytics-short-row",
        "report.json",
        fx("youtube/analytics_report_day.json"),
        "quarantine",
        "",
        platform=YT,
        account=ACCOUNT,
    ),
    case(
        "json-snap-bad-count",
        "profiles.json",
        fx("snapchat/public_profiles_bad_count.json"),
        "quarantine",
        "",
        platform=SC,
    ),
    case(
        "json-snap-stats-non-numeric",
        "stats.json",
        fx("snapchat/stats_timeseries_day.json"),
        "quarantine",
        "VIEWS",
        platform=SC,
    ),
    case(
        "json-ig-negative-followers",
        "user.json",
        sub("instagram/user.json", '"followers_count": 267793', '"followers_count": -5'),
        "quarantine",
        "negative",
        platform=IG,
    ),
    case(
        "json-ig-text-count",
        "user.json",
        sub("instagram/user.json", '"followers_count": 267793', '"followers_count": "lots"'),
        "quarantine",
        "followers_count",
        platform=IG,
    ),
    # ---- CSV
    case("csv-empty", "content.csv", b"", "error", "empty", platform=TT, account=ACCOUNT),
    case(
        "csv-header-only",
        "content.csv",
        csv_rows(CONTENT_HEADER, []),
        "loaded",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-extra-column",
        "content.csv",
        csv_rows(CONTENT_HEADER + ",Mood", [GOOD_VIDEO + ",happy"]),
        "loaded",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-missing-column",
        "content.csv",
        csv_rows("Video title,Post time,Total views", ["a,2026-08-20 18:03:00,4"]),
        "error",
        "",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-duplicate-header",
        "content.csv",
        csv_rows(CONTENT_HEADER + ",Total views", [GOOD_VIDEO + ",5"]),
        "error",
        "duplicate column",
        platform=TT,
        account=ACCOUNT,
        line=1,
        field="Total views",
    ),
    case(
        "csv-short-row",
        "content.csv",
        csv_rows(CONTENT_HEADER, [GOOD_VIDEO, "Short,2026-08-20 18:03:00"]),
        "quarantine",
        "",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-long-row",
        "content.csv",
        csv_rows(CONTENT_HEADER, [GOOD_VIDEO + ",1,2,3"]),
        "loaded",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-non-numeric",
        "content.csv",
        csv_rows(CONTENT_HEADER, [GOOD_2, GOOD_VIDEO.replace(",10,2,", ",ten,2,")]),
        "quarantine",
        "Total views",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-negative",
        "content.csv",
        csv_rows(CONTENT_HEADER, [GOOD_2, GOOD_VIDEO.replace(",10,2,", ",-10,2,")]),
        "quarantine",
        "negative",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-beyond-int64",
        "content.csv",
        csv_rows(
            CONTENT_HEADER, [GOOD_2, GOOD_VIDEO.replace(",10,2,", ",18446744073709551616,2,")]
        ),
        "quarantine",
        "64 bits",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-nan",
        "content.csv",
        csv_rows(CONTENT_HEADER, [GOOD_2, GOOD_VIDEO.replace(",10,2,", ",NaN,2,")]),
        "quarantine",
        "Total views",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-infinity",
        "content.csv",
        csv_rows(CONTENT_HEADER, [GOOD_2, GOOD_VIDEO.replace(",10,2,", ",inf,2,")]),
        "quarantine",
        "Total views",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-future-post",
        "content.csv",
        csv_rows(CONTENT_HEADER, [GOOD_2, GOOD_VIDEO.replace("2026-08-20", "2031-08-20")]),
        "quarantine",
        "out of range",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-ancient-post",
        "content.csv",
        csv_rows(CONTENT_HEADER, [GOOD_2, GOOD_VIDEO.replace("2026-08-20", "1970-01-01")]),
        "quarantine",
        "out of range",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-same-key-twice",
        "content.csv",
        csv_rows(CONTENT_HEADER, [GOOD_VIDEO, GOOD_VIDEO]),
        "quarantine",
        "duplicate",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-mixed-platforms",
        "content.csv",
        csv_rows(
            CONTENT_HEADER,
            [
                GOOD_VIDEO,
                "Reel,2026-08-20 18:03:00,https://www.instagram.com/reel/Cxyz/,10,2,1,0,9",
            ],
        ),
        "quarantine",
        "no video id",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-invalid-utf8-row",
        "content.csv",
        lambda: csv_rows(CONTENT_HEADER, [GOOD_VIDEO, "x"])().replace(
            b"\nx\n",
            b"\nBad \xff\xfe title,2026-08-20 18:03:00,https://www.tiktok.com/@a/video/7213456789012345002,1,1,1,1,1\n",
        ),
        "error",
        "not valid",
        platform=TT,
        account=ACCOUNT,
        line=3,
    ),
    case(
        "csv-latin1",
        "FollowerHistory.csv",
        lambda: "Date,Followers\nAugust 29,15002\nA\u00f1o 30,1\n".encode("latin-1"),
        "error",
        "not valid",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-utf16-bom",
        "Overview.csv",
        lambda: fx_text("tiktok/Overview.csv").encode("utf-16"),
        "loaded",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-bom-in-header-cell",
        "Overview.csv",
        lambda: (
            fx_text("tiktok/Overview.csv").replace("Video Views", "\ufeffVideo Views", 1).encode()
        ),
        "loaded",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-bom-in-data-row",
        "Overview.csv",
        lambda: (
            fx_text("tiktok/Overview.csv").replace('"August 30"', '"\ufeffAugust 30"', 1).encode()
        ),
        "quarantine",
        "",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-nul-bytes",
        "content.csv",
        lambda: csv_rows(CONTENT_HEADER, [GOOD_VIDEO])().replace(b"Fine", b"Fi\x00ne"),
        "loaded",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-unterminated-quote",
        "content.csv",
        csv_rows(CONTENT_HEADER, [GOOD_VIDEO, '"never closed,2026-08-20 18:03:00,x,1,1,1,1,1']),
        "quarantine",
        "",
        platform=TT,
        account=ACCOUNT,
    ),
    case("csv-only-sep-line", "content.csv", b"sep=,\n", "error", "", platform=TT, account=ACCOUNT),
    case(
        "csv-several-mb-title",
        "content.csv",
        csv_rows(CONTENT_HEADER, [GOOD_2, GOOD_VIDEO.replace("Fine", "y" * 3_000_000)]),
        "loaded",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-field-over-limit",
        "content.csv",
        csv_rows(
            CONTENT_HEADER,
            [
                GOOD_VIDEO,
                GOOD_VIDEO.replace("Fine", '"' + "z" * 17_000_000 + '"').replace("5001", "5003"),
            ],
        ),
        "error",
        "field larger",
        platform=TT,
        account=ACCOUNT,
        line=3,
    ),
    case(
        "csv-bad-month-day",
        "Overview.csv",
        lambda: fx_text("tiktok/Overview.csv").replace('"August 30"', '"Smarch 45"').encode(),
        "quarantine",
        "",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-cr-line-endings",
        "FollowerHistory.csv",
        lambda: fx("tiktok/FollowerHistory.csv").replace(b"\r\n", b"\n").replace(b"\n", b"\r"),
        "loaded",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "csv-snap-bad-numbers",
        "insights.csv",
        lambda: fx_text("snapchat/insights_template.csv").replace("48150", "-48150").encode(),
        "quarantine",
        "negative",
        platform=SC,
    ),
    case(
        "csv-snap-date-future",
        "insights.csv",
        lambda: (
            fx_text("snapchat/insights_template.csv").replace("2026-08-29", "2036-08-29").encode()
        ),
        "quarantine",
        "out of range",
        platform=SC,
    ),
    case(
        "csv-ig-suite-truncated",
        "suite_views.csv",
        lambda: fx("instagram/suite_views.csv")[:9],
        "error",
        "",
        platform=IG,
        account=ACCOUNT,
    ),
    # ---- archives
    case(
        "zip-not-a-zip",
        "Content 2026-08-04_2026-08-31 X.zip",
        b"PK\x03\x04" + b"\x00" * 200,
        "error",
        "",
        platform=YT,
        account=ACCOUNT,
    ),
    case(
        "zip-truncated",
        "Content 2026-08-04_2026-08-31 X.zip",
        lambda: fx("youtube/Content 2026-08-04_2026-08-31 Rounded Micro.zip")[:300],
        "error",
        "",
        platform=YT,
        account=ACCOUNT,
    ),
    case(
        "zip-slip",
        "studio.zip",
        zipped({"../../../../tmp/evil/Overview.csv": fx("tiktok/Overview.csv")}),
        "error",
        "'..'",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "zip-absolute",
        "studio.zip",
        zipped({"/etc/cron.d/Overview.csv": fx("tiktok/Overview.csv")}),
        "error",
        "absolute path",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "zip-windows-drive",
        "studio.zip",
        zipped({"C:/Windows/Overview.csv": fx("tiktok/Overview.csv")}),
        "error",
        "drive letter",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "zip-symlink",
        "studio.zip",
        lambda: zip_with(
            lambda i: setattr(i, "external_attr", (0o120777 << 16)), "Overview.csv", b"/etc/passwd"
        ),
        "error",
        "symbolic link",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "zip-bomb",
        "Content 2026-08-04_2026-08-31 B.zip",
        zipped({"Table data.csv": b"Content,Views\n" + b"0" * 60_000_000}),
        "error",
        "zip bomb",
        platform=YT,
        account=ACCOUNT,
    ),
    case(
        "zip-unsupported-method",
        "studio.zip",
        lambda: patched_zip(
            {"Overview.csv": fx("tiktok/Overview.csv")}, b"\x08\x00", b"\x63\x00", nth=-1
        ),
        "error",
        "",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "zip-crc-damaged",
        "studio.zip",
        lambda: _damaged_member(),
        "error",
        "",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "zip-encrypted-flag",
        "studio.zip",
        lambda: _encrypted({"Overview.csv": fx("tiktok/Overview.csv")}),
        "error",
        "encrypted",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "zip-dyi-bad-json",
        "dyi.zip",
        zipped({DYI_POSTS: b'{"organic_insights_posts": [{'}),
        "error",
        "posts.json",
        platform=IG,
        account=ACCOUNT,
    ),
    case(
        "zip-dyi-deep-json",
        "dyi.zip",
        zipped({DYI_POSTS: b"[" * 100_000 + b"]" * 100_000}),
        "error",
        "posts.json",
        platform=IG,
        account=ACCOUNT,
    ),
    case(
        "zip-odd-member-names",
        "studio.zip",
        zipped(
            {
                "r\u00e9sum\u00e9 ;'\"drop table x;--.csv": b"a,b\n1,2\n",
                "Overview.csv": fx("tiktok/Overview.csv"),
            }
        ),
        "loaded",
        platform=TT,
        account=ACCOUNT,
    ),
    case(
        "zip-in-zip",
        "studio.zip",
        zipped(
            {
                "inner.zip": zipped({"Overview.csv": fx("tiktok/Overview.csv")})(),
                "FollowerHistory.csv": fx("tiktok/FollowerHistory.csv"),
            }
        ),
        "loaded",
        platform=TT,
        account=ACCOUNT,
    ),
    case("zip-empty-archive", "studio.zip", zipped({}), "error", "", platform=TT, account=ACCOUNT),
]


def _twice_in_list(path: str) -> bytes:
    doc = json.loads(fx_text(path))
    doc["data"]["videos"].append(doc["data"]["videos"][0])
    return json.dumps(doc).encode()


def _mixed_items() -> bytes:
    doc = json.loads(fx_text("youtube/channels_list.json"))
    tiktok = json.loads(fx_text("tiktok/display_user_info.json"))
    doc["items"].append(tiktok)
    return json.dumps(doc).encode()


def _encrypted(members: dict[str, bytes]) -> bytes:
    """A zip whose member says it is encrypted (general purpose flag bit 0)."""
    data = bytearray(zipped(members)())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature) + flags_at
        data[at] |= 0x1
    return bytes(data)


def _damaged_member() -> bytes:
    data = bytearray(zipped({"Overview.csv": fx("tiktok/Overview.csv") * 20})())
    # flip bytes in the middle of the compressed data of the only member
    middle = 30 + len("Overview.csv") + 40
    for i in range(middle, middle + 8):
        data[i] ^= 0xFF
    return bytes(data)


# ---- running them


def group_key(c: Case) -> tuple[str, str]:
    return (c.platform or "", c.account or "")


def snapshot(warehouse: Path) -> dict[str, list[tuple[object, ...]]]:
    if not warehouse.exists():
        return {}
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {
            t: conn.execute(f"select * from {t} order by all").fetchall() for t in SNAPSHOT_TABLES
        }
    finally:
        conn.close()


def quarantine_reasons(warehouse: Path, load_id: str) -> list[str]:
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = conn.execute(
            "select reason from quarantine.rows where load_id = $id", {"id": load_id}
        ).fetchall()
    finally:
        conn.close()
    return [str(r[0]) for r in rows]


def write_cases(cases: list[Case], folder: Path) -> dict[str, Case]:
    """Each case in its own folder (names repeat across cases); path -> case."""
    written: dict[str, Case] = {}
    for c in cases:
        path = folder / c.id / c.name
        path.parent.mkdir(parents=True)
        path.write_bytes(c.make())
        written[str(path)] = c
    return written


def check_error(c: Case, path: str, result: LoadResult) -> None:
    # refused before landing ("failed"), or landed and rejected (recorded in meta.loads)
    assert result.status in ("failed", "rejected"), f"{c.id}: expected an error, got {result}"
    message = result.message or ""
    assert path in message, f"{c.id}: the message does not name the file: {message[:300]}"
    assert c.text in message, f"{c.id}: {message[:300]}"
    if c.line is not None:
        assert f"line {c.line}" in message, f"{c.id}: {message[:300]}"
    if c.field is not None:
        assert f"field {c.field!r}" in message, f"{c.id}: {message[:300]}"
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (0, 0, 0)


def check_loaded(c: Case, result: LoadResult, warehouse: Path) -> None:
    assert result.status == "published", f"{c.id}: {result.message}"
    assert result.rows_read == result.rows_loaded + result.rows_quarantined, c.id
    reasons = quarantine_reasons(warehouse, result.load_id or "")
    assert len(reasons) == result.rows_quarantined, c.id
    if c.expect == "quarantine":
        assert result.rows_quarantined >= 1, f"{c.id}: nothing quarantined"
        assert any(c.text in r for r in reasons), f"{c.id}: {reasons}"
    else:
        assert result.rows_quarantined == 0, f"{c.id}: {reasons}"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("INGEST_WAREHOUSE", "INGEST_LANDING", "INGEST_STAGING"):
        monkeypatch.delenv(name, raising=False)
    return Settings.from_env(tmp_path / "warehouse" / "creators.duckdb")


def test_the_corpus_is_big_and_covers_every_platform():
    assert len({c.id for c in CASES}) == len(CASES) >= 60
    assert {c.platform for c in CASES} >= {YT, TT, IG, SC}
    assert {c.expect for c in CASES} == {"error", "quarantine", "loaded"}


# the CLI runs these in a subprocess; load_files runs the rest in-process
CLI_CASES = {
    "json-truncated",
    "json-deeply-nested",
    "json-duplicate-key",
    "csv-duplicate-header",
    "csv-invalid-utf8-row",
    "zip-slip",
    "zip-bomb",
    "zip-crc-damaged",
    "zip-unsupported-method",
    "json-lone-surrogate",
}
GROUPS = sorted({group_key(c) for c in CASES if c.id not in CLI_CASES})


@pytest.mark.parametrize(
    "group", GROUPS, ids=lambda g: f"{g[0] or 'detect'}-{g[1] or 'no-account'}"
)
def test_bad_inputs_in_process(group: tuple[str, str], settings: Settings, tmp_path: Path):
    cases = [c for c in CASES if group_key(c) == group and c.id not in CLI_CASES]
    platform, account = group[0] or None, group[1] or None
    # a first good load, so "unchanged" means something
    seed = load_files([FIXTURES / "youtube" / "channels_list.json"], settings, day=DAY)
    assert [r.status for r in seed] == ["published"]
    fatal = write_cases([c for c in cases if c.expect == "error"], tmp_path / "fatal")
    usable = write_cases([c for c in cases if c.expect != "error"], tmp_path / "usable")
    if fatal:
        before = snapshot(settings.warehouse)
        results = load_files(
            [Path(p) for p in fatal], settings, platform=platform, account=account, day=DAY
        )
        assert len(results) == len(fatal)
        for result in results:
            check_error(fatal[result.source], result.source, result)
        assert snapshot(settings.warehouse) == before, "a refused file changed the warehouse"
    if usable:
        results = load_files(
            [Path(p) for p in usable], settings, platform=platform, account=account, day=DAY
        )
        assert len(results) == len(usable)
        for result in results:
            check_loaded(usable[result.source], result, settings.warehouse)


def test_bad_inputs_through_the_cli(tmp_path: Path):
    warehouse = tmp_path / "warehouse" / "creators.duckdb"
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("INGEST_")}
    by_group: dict[tuple[str, str], list[Case]] = {}
    for c in CASES:
        if c.id in CLI_CASES:
            by_group.setdefault(group_key(c), []).append(c)
    checked = 0
    for (platform, account), cases in sorted(by_group.items()):
        written = write_cases(cases, tmp_path / f"cli-{platform}-{account}")
        args = [
            sys.executable,
            "-m",
            "ingest",
            "load",
            *written,
            "--json",
            "--date",
            DAY.isoformat(),
            "--warehouse",
            str(warehouse),
        ]
        if platform:
            args += ["--platform", platform]
        if account:
            args += ["--account", account]
        done = subprocess.run(
            args, capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path
        )
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
        results = [
            LoadResult(**json.loads(line))
            for line in done.stdout.splitlines()
            if line.startswith("{")
        ]
        assert len(results) == len(written), done.stderr
        for result in results:
            c = written[result.source]
            if c.expect == "error":
                check_error(c, result.source, result)
            else:
                check_loaded(c, result, warehouse)
            checked += 1
        failed = any(r.status != "published" for r in results)
        assert done.returncode == (1 if failed else 0), done.stderr
    assert checked == len(CLI_CASES)
