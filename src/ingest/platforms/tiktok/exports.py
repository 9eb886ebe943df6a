"""Parsers for TikTok: Research and Display API v2 responses and TikTok Studio CSV exports.

One module for all of the platform's parsers, on purpose (it runs past 600 lines): the formats
share their id, date and owner rules (the helpers at the end), and the lineage registry and the
native stagers point at these parsers as the reference for what every format yields.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from ingest.archives import open_zip
from ingest.coerce import (
    CoercionError,
    infer_years,
    is_missing,
    to_count,
    to_display_date,
    to_month_day,
    to_utc_timestamp,
)
from ingest.csvfiles import CsvRow, detect_encoding, read_csv
from ingest.errors import ParseError
from ingest.parsing import (
    SNIFF_BYTES,
    Item,
    Note,
    ParseContext,
    Record,
    RowError,
    Sample,
    convert,
    guarded,
    load_json,
    require,
    source_base_name,
)
from ingest.platforms.tiktok import settings as s

_BARE_ID_RE = re.compile(r'"id":\d')
_RESEARCH_VIDEO_MARKERS = ('"search_id":', '"username":', '"region_code":', '"favourites_count":')
_VIDEO_LINK_RE = re.compile(r"/video/(\d+)")
_SLASH_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")

_NAME_DATE_RE = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)")
_NAME_WINDOW_RE = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})(?!\d)")
# how far past its anchor day the newest label of a Studio export may lie (zones, filing)
STUDIO_LABEL_LEAD = timedelta(days=2)

_flow = partial(to_count, allow_negative=True)

# ---- detection


def sniff_research_user_info(sample: Sample) -> bool:
    head = _v2_head(sample)
    return (
        '"videos":' not in head
        and '"data":{"user":' not in head
        and any(f'"{f}":' in head for f in s.USER_DAILY.values())
    )


def sniff_research_video_query(sample: Sample) -> bool:
    head = _v2_head(sample)
    return '"videos":[' in head and _looks_research(head)


def sniff_display_user_info(sample: Sample) -> bool:
    return '"data":{"user":{' in _v2_head(sample)


def sniff_display_video_list(sample: Sample) -> bool:
    head = _v2_head(sample)
    return '"videos":[' in head and not _looks_research(head)


def sniff_studio_overview(sample: Sample) -> bool:
    return _studio_kind(_csv_header(sample.head), sample.name) == "overview"


def sniff_studio_follower_history(sample: Sample) -> bool:
    return _studio_kind(_csv_header(sample.head), sample.name) == "follower_history"


def sniff_studio_viewers(sample: Sample) -> bool:
    return _studio_kind(_csv_header(sample.head), sample.name) == "viewers"


def sniff_studio_content(sample: Sample) -> bool:
    return _studio_kind(_csv_header(sample.head), sample.name) == "content"


def sniff_studio_zip(sample: Sample) -> bool:
    return any(_basename(m).lower() in s.STUDIO_MEMBER_NAMES for m in sample.members)


def _v2_head(sample: Sample) -> str:
    head = sample.json_head()
    # a v2 response has two top-level keys, data and error; anything else is not ours
    return head if head.startswith(('{"data":{', '{"error":{')) else ""


def _looks_research(head: str) -> bool:
    # Research ids are bare JSON numbers, Display ids are strings
    return bool(_BARE_ID_RE.search(head)) or any(m in head for m in _RESEARCH_VIDEO_MARKERS)


def _csv_header(head: bytes) -> frozenset[str]:
    if head.startswith(b"PK") or head.lstrip()[:1] in (b"{", b"["):
        return frozenset()
    text = head.decode(detect_encoding(head), errors="replace").lstrip("\ufeff")
    lines = text.splitlines()
    if lines and lines[0].lower().startswith("sep="):
        lines = lines[1:]
    if not lines:
        return frozenset()
    delimiter = max((",", ";", "\t"), key=lines[0].count)
    return frozenset(_norm(c) for c in next(csv.reader([lines[0]], delimiter=delimiter), []))


def _studio_kind(header: frozenset[str], name: str) -> str | None:
    def has(table: dict[str, tuple[str, ...]], *keys: str) -> bool:
        return all(any(spelling in header for spelling in table[k]) for k in keys)

    if has(s.CONTENT_COLUMNS, "permalink", "views"):
        return "content"
    overview = s.OVERVIEW_COLUMNS
    if has(overview, "date", "daily_views") and any(
        has(overview, k) for k in ("profile_views", *s.OVERVIEW_FLOWS[1:])
    ):
        return "overview"
    history = s.FOLLOWER_HISTORY_COLUMNS
    if has(history, "date", "followers") and (
        has(history, "net_followers") or _basename(name).lower() == "followerhistory.csv"
    ):
        return "follower_history"
    viewers = s.VIEWERS_COLUMNS
    if has(viewers, "date", "total_viewers") and (
        has(viewers, "new_viewers") or has(viewers, "returning_viewers")
    ):
        return "viewers"
    return None


def _norm(header: str) -> str:
    return " ".join(unicodedata.normalize("NFC", header).replace("\ufeff", "").split()).lower()


def _basename(name: str) -> str:
    return name.rsplit("/", 1)[-1]


# ---- Research and Display API v2


def parse_research_user_info(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """Research API ``user/info``: the account and its counts that day.

    The response does not carry the username it was asked for: the account comes from the user.
    """
    if not ctx.account:
        raise ParseError(ctx.source, "a Research API user/info response does not name its user")
    data = _v2_data(path, ctx)
    yield from guarded(1, data, partial(_user, data, ctx.account, ctx.day, "data."))


def parse_display_user_info(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """Display API ``user/info``: the authorizing user and its counts that day."""
    data = _v2_data(path, ctx)
    user = data.get("user")
    if not isinstance(user, dict):
        raise ParseError(ctx.source, "expected an object", field="data.user")
    account = user.get("username") or ctx.account
    if not account:
        raise ParseError(
            ctx.source, "no username in the response: pass --account", field="username"
        )
    yield from guarded(1, user, partial(_user, user, account, ctx.day, "data.user."))


def _user(user: dict[str, Any], account_id: str, day: date, prefix: str) -> list[Item]:
    account: dict[str, Any] = {"platform": s.PLATFORM, "account_id": account_id}
    account["handle"] = account_id  # the account id is the username
    if "display_name" in user:
        account["display_name"] = user["display_name"] or None
    daily: dict[str, Any] = {
        "platform": s.PLATFORM,
        "account_id": account_id,
        "day": day,
        "day_timezone": "UTC",
    }
    daily.update(_counts(user, s.USER_DAILY, prefix))
    return [Record("accounts", 0, account), Record("account_daily", 0, daily)]


def parse_research_video_query(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """Research API ``video/query`` page: each video and its counts that day."""
    for index, video in page_videos(path, ctx):
        yield from guarded(index, video, partial(research_video, video, ctx))


def research_video(item: Any, ctx: ParseContext) -> list[Item]:
    """The rows of one ``video/query`` video (the reference the native stager defers to)."""
    video = _object(item)
    post_id = _video_id(video)
    account_id = require(video.get("username") or ctx.account, "username")
    post = _post(post_id, account_id)
    _put(post, "published_at", video, "create_time", to_utc_timestamp)
    _put(post, "caption", video, "video_description")
    _put(post, "duration_seconds", video, "video_duration", to_count)
    post["permalink"] = s.VIDEO_URL.format(username=account_id, video_id=post_id)
    return [
        Record("posts", 0, post),
        _post_daily(post, ctx.day, _counts(video, s.RESEARCH_VIDEO_DAILY, "")),
    ]


def parse_display_video_list(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """Display API ``video/list`` page: the user's videos and their counts that day.

    ``data.cursor`` is a time in milliseconds for paging, not a video's time, and is not read.
    """
    if not ctx.account:
        raise ParseError(ctx.source, "a Display API video/list response does not name its user")
    for index, video in page_videos(path, ctx):
        yield from guarded(index, video, partial(_display_video, video, ctx.account, ctx.day))


def _display_video(item: Any, account_id: str, day: date) -> list[Item]:
    video = _object(item)
    post_id = _video_id(video)
    post = _post(post_id, account_id)
    _put(post, "published_at", video, "create_time", to_utc_timestamp)
    if "video_description" in video or "title" in video:
        post["caption"] = video.get("video_description") or video.get("title") or None
    _put(post, "duration_seconds", video, "duration", to_count)
    post["permalink"] = video.get("share_url") or s.VIDEO_URL.format(
        username=account_id, video_id=post_id
    )
    return [
        Record("posts", 0, post),
        _post_daily(post, day, _counts(video, s.DISPLAY_VIDEO_DAILY, "")),
    ]


def _post(post_id: str, account_id: str) -> dict[str, Any]:
    return {
        "platform": s.PLATFORM,
        "post_id": post_id,
        "account_id": account_id,
        "media_type": "video",
    }


def _post_daily(post: dict[str, Any], day: date, counts: dict[str, Any]) -> Record:
    keys = {"platform": s.PLATFORM, "post_id": post["post_id"], "account_id": post["account_id"]}
    daily: dict[str, Any] = {**keys, "day": day}
    if "published_at" in post:
        daily["published_at"] = post["published_at"]
    return Record("post_daily", 0, {**daily, **counts})


def _put(
    target: dict[str, Any],
    column: str,
    source: dict[str, Any],
    field: str,
    converter: Callable[[Any], Any] | None = None,
) -> None:
    if field in source:
        value = source[field]
        target[column] = convert(value, converter, field) if converter else value or None


def _counts(obj: dict[str, Any], fields: dict[str, str], prefix: str) -> dict[str, Any]:
    # a field the response lacks was not asked for (fields=), which says nothing about its value
    return {col: convert(obj[f], to_count, prefix + f) for col, f in fields.items() if f in obj}


def _video_id(video: dict[str, Any]) -> str:
    value = require(video.get("id"), "id")
    # a float id has already lost digits somewhere upstream: refuse it rather than guess
    text = str(value).strip() if isinstance(value, int | str) else ""
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
        raise RowError("id", f"expected an integer video id, got {value!r}")
    return text


def _object(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise RowError(None, f"expected a video object, got {type(item).__name__}")
    return item


def page_videos(path: Path, ctx: ParseContext) -> Iterator[tuple[int, Any]]:
    """The videos of a v2 response page, numbered from 1; a page that is not one fails whole."""
    videos = _v2_data(path, ctx).get("videos", [])
    if not isinstance(videos, list):
        raise ParseError(ctx.source, "expected a list", field="data.videos")
    yield from enumerate(videos, start=1)


def _v2_data(path: Path, ctx: ParseContext) -> dict[str, Any]:
    # python's json reads integers exactly, so 19-digit video ids never pass through a float
    doc = load_json(path, ctx.source)
    if not isinstance(doc, dict):
        raise ParseError(ctx.source, "expected a TikTok API v2 response object")
    error = doc.get("error")
    if isinstance(error, dict) and error.get("code") != s.ERROR_OK:
        message = error.get("message") or "no message"
        raise ParseError(
            ctx.source, f"TikTok API error {error.get('code')!r}: {message}", field="error.code"
        )
    if error is not None and not isinstance(error, dict):
        # the OAuth endpoints answer {"error": "invalid_grant", "error_description": "..."}
        message = doc.get("error_description") or "no message"
        raise ParseError(ctx.source, f"TikTok API error {error!r}: {message}", field="error")
    data = doc.get("data")
    if not isinstance(data, dict):
        raise ParseError(ctx.source, "expected an object", field="data")
    return data


# ---- TikTok Studio "Download data" CSVs

StudioReader = Callable[[Any, str, ParseContext], Iterator[Item]]


def parse_studio_overview(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """``Overview.csv``: the account's daily views, likes, comments and shares."""
    with path.open("rb") as stream:
        yield from _overview(stream, ctx.source, ctx)


def parse_studio_follower_history(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """``FollowerHistory.csv``: the account's followers day by day."""
    with path.open("rb") as stream:
        yield from _follower_history(stream, ctx.source, ctx)


def parse_studio_viewers(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """``Viewers.csv``: recognised, but viewer counts have no canonical column."""
    with path.open("rb") as stream:
        yield from _viewers(stream, ctx.source, ctx)


def parse_studio_content(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """The per-video content export: each post and its totals on the export day."""
    with path.open("rb") as stream:
        yield from _content(stream, ctx.source, ctx)


def parse_studio_zip(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """A zip of Studio CSVs: each member is read by the parser its header calls for."""
    with open_zip(path, ctx.source) as archive:
        for name in archive.names():
            source = f"{ctx.source}!{name}"
            with archive.open(name) as member:
                kind = _studio_kind(_csv_header(member.read(SNIFF_BYTES)), name)
            if kind is None:
                yield Note(f"{source}: not a TikTok Studio table this pipeline loads; skipped")
                continue
            with archive.open(name) as member:
                yield from _STUDIO_READERS[kind](member, source, ctx)


def _overview(stream: Any, source: str, ctx: ParseContext) -> Iterator[Item]:
    # daily flows can be negative: Studio posts moderation corrections (Comments -1)
    loaded: dict[str, Callable[[Any], Any]] = {col: _flow for col in s.OVERVIEW_FLOWS}
    loaded["followers"] = to_count
    yield from _studio_daily(stream, source, ctx, s.OVERVIEW_COLUMNS, "daily_views", loaded)


def _follower_history(stream: Any, source: str, ctx: ParseContext) -> Iterator[Item]:
    # Followers can be the literal "undefined", which to_count reads as NULL
    loaded: dict[str, Callable[[Any], Any]] = {"followers": to_count}
    yield from _studio_daily(stream, source, ctx, s.FOLLOWER_HISTORY_COLUMNS, "followers", loaded)


def _viewers(stream: Any, source: str, ctx: ParseContext) -> Iterator[Item]:
    header, _ = read_csv(stream, source)
    _columns(header, s.VIEWERS_COLUMNS, source, ("date", "total_viewers"))
    yield Note(f"{source}: viewer counts have no canonical column; nothing loaded")


def _studio_daily(
    stream: Any,
    source: str,
    ctx: ParseContext,
    table: dict[str, tuple[str, ...]],
    metric: str,
    loaded: dict[str, Callable[[Any], Any]],
) -> Iterator[Item]:
    account = _studio_account(ctx, source)
    header, rows = read_csv(stream, source)
    found, unknown = _columns(header, table, source, ("date", metric))
    if unknown:
        yield Note(f"{source}: columns not used: {', '.join(unknown)}")
    date_column = found["date"]
    # year-less dates get their years from the whole window, so the rows are read first
    buffered = list(rows)
    days = _studio_days(
        [row.values[date_column] for row in buffered], date_column, studio_anchor(ctx)
    )
    _check_window(days, ctx, source)
    columns = {col: name for col, name in found.items() if col in loaded}
    for row, day in zip(buffered, days, strict=True):

        def build(values: dict[str, str] = row.values, day: date | RowError = day) -> list[Item]:
            if isinstance(day, RowError):
                raise day
            daily: dict[str, Any] = {"platform": s.PLATFORM, "account_id": account, "day": day}
            for col, name in columns.items():
                daily[col] = convert(values[name], loaded[col], name)
            return [Record("account_daily", 0, daily)]

        yield from guarded(row.line, _raw(row), build)


def _content(stream: Any, source: str, ctx: ParseContext) -> Iterator[Item]:
    account = _studio_account(ctx, source)
    header, rows = read_csv(stream, source)
    found, unknown = _columns(header, s.CONTENT_COLUMNS, source, ("permalink",))
    if unknown:
        yield Note(f"{source}: columns not used: {', '.join(unknown)}")
    buffered = list(rows)  # the day/month order of slashed dates is decided per file
    posted = found.get("published_at")
    day_first = _day_first([row.values[posted] for row in buffered] if posted else [])
    for row in buffered:

        def build(values: dict[str, str] = row.values) -> list[Item]:
            link_column = found["permalink"]
            link = require(values[link_column].strip(), link_column)
            match = _VIDEO_LINK_RE.search(link)
            if not match:
                raise RowError(link_column, f"no video id in {link!r}")
            post = _post(match.group(1), account)
            post["permalink"] = link
            if "caption" in found:
                post["caption"] = values[found["caption"]] or None
            if posted:
                post["published_at"] = convert(
                    values[posted], partial(_post_time, day_first=day_first), posted
                )
            counts = {
                col: convert(values[found[col]], to_count, found[col])
                for col in s.CONTENT_COUNTS
                if col in found
            }
            return [Record("posts", 0, post), _post_daily(post, ctx.day, counts)]

        yield from guarded(row.line, _raw(row), build)


_STUDIO_READERS: dict[str, StudioReader] = {
    "overview": _overview,
    "follower_history": _follower_history,
    "viewers": _viewers,
    "content": _content,
}


def _studio_account(ctx: ParseContext, source: str) -> str:
    if not ctx.account:
        raise ParseError(source, "a TikTok Studio export does not name its account: pass --account")
    return ctx.account


def _columns(
    header: list[str], table: dict[str, tuple[str, ...]], source: str, required: tuple[str, ...]
) -> tuple[dict[str, str], list[str]]:
    """Match a header against a synonym table: key -> the file's column name, and the rest."""
    found: dict[str, str] = {}
    unknown: list[str] = []
    for name in header:
        key = next((k for k, spellings in table.items() if _norm(name) in spellings), None)
        if key is not None:
            found.setdefault(key, name)
        elif name:
            unknown.append(name)
    for key in required:
        if key not in found:
            spelling = table[key][0]
            raise ParseError(source, f"required column {spelling!r} is missing", field=spelling)
    return found, unknown


def studio_anchor(ctx: ParseContext) -> date:
    """The day a Studio export was made, which year-less labels are placed against.

    The export's own date where its file (or archive) name carries one (the last
    ``yyyy-mm-dd`` in the base name, the window's end for ``.._<start>_<end>``), else the day
    the file was filed under (its landing day). Never the clock, so a replay places every
    label in the year its first load did.
    """
    found = _NAME_DATE_RE.findall(source_base_name(ctx.source))
    for text in reversed(found):
        try:
            return date.fromisoformat(text)
        except ValueError:
            continue
    return ctx.day


def _check_window(days: list[date | RowError], ctx: ParseContext, source: str) -> None:
    """Refuse a file whose dates do not fit the window its own name states.

    Where the labels and the name disagree, which year the labels belong to is a guess, and a
    wrong guess writes a whole window a year away: the file is refused instead.
    """
    windows = _NAME_WINDOW_RE.findall(source_base_name(ctx.source))
    dated = [d for d in days if isinstance(d, date)]
    if not windows or not dated:
        return
    try:
        start, end = (date.fromisoformat(text) for text in windows[-1])
    except ValueError:
        return  # not a window after all; the anchor alone applies
    if min(dated) < start - STUDIO_LABEL_LEAD or max(dated) > end + STUDIO_LABEL_LEAD:
        raise ParseError(
            source,
            f"its dates run from {min(dated)} to {max(dated)}, outside the window {start} to"
            f" {end} its name states; the year of its labels is ambiguous",
            field="Date",
        )


def _studio_days(labels: list[str], field: str, anchor: date) -> list[date | RowError]:
    """The day of each row: dated labels as written, year-less ones placed before ``anchor``.

    Studio dates its export in the creator's zone, which can be a day ahead of UTC, and a user
    may file a download under the day before it was made: the newest year-less label may lie up
    to ``STUDIO_LABEL_LEAD`` past the anchor and still belongs to the anchor's year.
    """
    latest = anchor + STUDIO_LABEL_LEAD
    day_first = _day_first(labels)
    parsed: list[date | tuple[int, int] | RowError] = []
    for label in labels:
        try:
            parsed.append(_studio_date(label, day_first))
        except CoercionError as exc:
            parsed.append(RowError(field, str(exc)))
    years = iter(infer_years([p for p in parsed if isinstance(p, tuple)], latest))
    days: list[date | RowError] = []
    for label, item in zip(labels, parsed, strict=True):
        if not isinstance(item, tuple):
            days.append(item)
            continue
        year = next(years)
        try:
            days.append(date(year, *item))
        except ValueError:
            days.append(RowError(field, f"{label!r} does not exist in {year}"))
    return days


def _studio_date(label: str, day_first: bool) -> date | tuple[int, int]:
    text = label.strip()
    result: date | tuple[int, int] | None
    if _SLASH_DATE_RE.match(text):
        parsed = _post_time(text, day_first=day_first)
        result = parsed.date() if parsed else None
    elif re.search(r"\d{4}", text):
        result = to_display_date(text)
    else:
        result = to_month_day(text)
    if result is None:
        raise CoercionError("required value is missing")
    return result


def _day_first(labels: list[str]) -> bool:
    # 14/09/2026 settles it; a file of only days 1-12 cannot, and the exports seen are day-first
    pairs = [(int(m.group(1)), int(m.group(2))) for m in map(_SLASH_DATE_RE.match, labels) if m]
    month_first = any(b > 12 for _, b in pairs) and not any(a > 12 for a, _ in pairs)
    return not month_first


def _post_time(value: Any, *, day_first: bool) -> datetime | None:
    # Studio does not say its zone; times are read as UTC
    if is_missing(value):
        return None
    text = str(value).strip()
    match = _SLASH_DATE_RE.match(text)
    if match:
        first, second, year, hour, minute, sec = (int(g) if g else 0 for g in match.groups())
        day, month = (first, second) if day_first else (second, first)
        try:
            return datetime(year, month, day, hour, minute, sec, tzinfo=UTC)
        except ValueError as exc:
            raise CoercionError(f"no such date: {text!r}") from exc
    try:
        return to_utc_timestamp(text)
    except CoercionError:
        shown = to_display_date(text)
        return datetime.combine(shown, time(), UTC) if shown else None


def _raw(row: CsvRow) -> str:
    return ",".join(row.raw)
