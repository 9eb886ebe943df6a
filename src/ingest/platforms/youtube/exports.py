"""Parsers for YouTube: Data API v3 list responses and the YouTube Studio export zip."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from functools import partial
from pathlib import Path
from typing import Any

from ingest.archives import open_zip
from ingest.coerce import (
    clock_seconds,
    iso_duration_seconds,
    to_count,
    to_date,
    to_display_date,
    to_utc_timestamp,
)
from ingest.csvfiles import read_csv
from ingest.errors import ParseError
from ingest.parsing import (
    Item,
    Note,
    ParseContext,
    Record,
    RowError,
    Sample,
    convert,
    dig,
    guarded,
    has,
    load_json,
    require,
    source_base_name,
)
from ingest.platforms.youtube import settings as s

# ---- detection


def sniff_channels_list(sample: Sample) -> bool:
    return f'"kind":"{s.CHANNEL_LIST_KIND}"' in sample.json_head()


def sniff_videos_list(sample: Sample) -> bool:
    return f'"kind":"{s.VIDEO_LIST_KIND}"' in sample.json_head()


def sniff_playlist_items(sample: Sample) -> bool:
    return f'"kind":"{s.PLAYLIST_ITEM_LIST_KIND}"' in sample.json_head()


def sniff_analytics_report(sample: Sample) -> bool:
    return f'"kind":"{s.ANALYTICS_KIND}"' in sample.json_head()


def sniff_studio_zip(sample: Sample) -> bool:
    return any(m.rsplit("/", 1)[-1] == s.STUDIO_TABLE for m in sample.members)


# ---- Data API v3


def parse_channels_list(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """``channels.list`` (part=snippet,statistics): one account and one account-day per channel."""
    for index, item in list_items(path, ctx, s.CHANNEL_LIST_KIND):
        yield from guarded(index, item, partial(_channel, item, ctx))


def _channel(item: Any, ctx: ParseContext) -> list[Item]:
    account_id = require(dig(item, "id"), "id")
    hidden = dig(item, "statistics.hiddenSubscriberCount") is True
    followers = convert(
        dig(item, "statistics.subscriberCount"), to_count, "statistics.subscriberCount"
    )
    if hidden:
        # the API still sends a number for hidden counts; it must not pass for a real 0
        followers = None
    rows: list[Item] = [
        Record(
            "accounts",
            0,
            {
                "platform": s.PLATFORM,
                "account_id": account_id,
                "handle": dig(item, "snippet.customUrl"),
                "display_name": dig(item, "snippet.title"),
                "created_at": convert(
                    dig(item, "snippet.publishedAt"), to_utc_timestamp, "snippet.publishedAt"
                ),
            },
        )
    ]
    if has(item, "statistics"):
        rows.append(
            Record(
                "account_daily",
                0,
                {
                    "platform": s.PLATFORM,
                    "account_id": account_id,
                    "day": ctx.day,
                    "followers": followers,
                    "followers_hidden": hidden,
                    "followers_rounded": followers is not None
                    and followers >= s.SUBSCRIBER_ROUNDING_FROM,
                    "posts_count": convert(
                        dig(item, "statistics.videoCount"), to_count, "statistics.videoCount"
                    ),
                    "total_views": convert(
                        dig(item, "statistics.viewCount"), to_count, "statistics.viewCount"
                    ),
                    "day_timezone": "UTC",
                },
            )
        )
    return rows


def parse_videos_list(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """``videos.list`` (part=snippet,statistics,contentDetails): a post and its counts that day."""
    for index, item in list_items(path, ctx, s.VIDEO_LIST_KIND):
        yield from guarded(index, item, partial(video_rows, item, ctx))


def video_rows(item: Any, ctx: ParseContext) -> list[Item]:
    """The post of one ``videos.list`` item, and its counts that day when it has statistics."""
    post_id = require(dig(item, "id"), "id")
    account_id = require(dig(item, "snippet.channelId"), "snippet.channelId")
    published_at = convert(
        dig(item, "snippet.publishedAt"), to_utc_timestamp, "snippet.publishedAt"
    )
    post = {
        "platform": s.PLATFORM,
        "post_id": post_id,
        "account_id": account_id,
        "published_at": published_at,
        "caption": dig(item, "snippet.title"),
        "media_type": "video",
        "permalink": f"{s.WATCH_URL}{post_id}",
        "duration_seconds": convert(
            dig(item, "contentDetails.duration"), iso_duration_seconds, "contentDetails.duration"
        ),
    }
    rows: list[Item] = [Record("posts", 0, post)]
    if has(item, "statistics"):
        # likeCount is absent when the creator hides likes, commentCount when comments are off
        rows.append(
            Record(
                "post_daily",
                0,
                {
                    "platform": s.PLATFORM,
                    "post_id": post_id,
                    "account_id": account_id,
                    "day": ctx.day,
                    "published_at": published_at,
                    "views": convert(
                        dig(item, "statistics.viewCount"), to_count, "statistics.viewCount"
                    ),
                    "likes": convert(
                        dig(item, "statistics.likeCount"), to_count, "statistics.likeCount"
                    ),
                    "comments": convert(
                        dig(item, "statistics.commentCount"), to_count, "statistics.commentCount"
                    ),
                    "likes_hidden": not has(item, "statistics.likeCount"),
                },
            )
        )
    return rows


def parse_playlist_items(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """``playlistItems.list`` of an uploads playlist: the channel's posts (no counts)."""
    for index, item in list_items(path, ctx, s.PLAYLIST_ITEM_LIST_KIND):
        yield from guarded(index, item, partial(_playlist_item, item))


def _playlist_item(item: Any) -> list[Item]:
    post_id = require(
        dig(item, "contentDetails.videoId") or dig(item, "snippet.resourceId.videoId"),
        "contentDetails.videoId",
    )
    account_id = require(
        dig(item, "snippet.videoOwnerChannelId") or dig(item, "snippet.channelId"),
        "snippet.channelId",
    )
    published = dig(item, "contentDetails.videoPublishedAt")
    return [
        Record(
            "posts",
            0,
            {
                "platform": s.PLATFORM,
                "post_id": post_id,
                "account_id": account_id,
                "published_at": convert(
                    published, to_utc_timestamp, "contentDetails.videoPublishedAt"
                ),
                "caption": dig(item, "snippet.title"),
                "media_type": "video",
                "permalink": f"{s.WATCH_URL}{post_id}",
            },
        )
    ]


def list_items(path: Path, ctx: ParseContext, kind: str) -> Iterator[tuple[int, Any]]:
    """The items of a Data API list response of ``kind``, numbered from 1."""
    doc = load_json(path, ctx.source)
    if not isinstance(doc, dict) or doc.get("kind") != kind:
        raise ParseError(ctx.source, f"not a YouTube {kind} document", field="kind")
    items = doc.get("items", [])  # absent when nothing matched the ids asked for
    if not isinstance(items, list):
        raise ParseError(ctx.source, "expected a list", field="items")
    yield from enumerate(items, start=1)


# ---- YouTube Studio export

_WINDOW_RE = re.compile(r"(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})")

_TOTALS_FLOWS: dict[str, str] = {
    "daily_views": "Views",
    "daily_likes": "Likes",
    "daily_comments": "Comments added",
    "daily_shares": "Shares",
    "followers_gained": "Subscribers gained",
    "followers_lost": "Subscribers lost",
}


def parse_studio_zip(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """YouTube Studio "Advanced mode" export (Content dimension).

    ``Table data.csv`` gives each video's totals for the export window; they are recorded as
    that video's counts on the window's last day (from the zip's name, else the load's day).
    ``Totals.csv`` gives the channel's daily flows, dated in Pacific time as Studio reports them.
    The zip does not name its channel: the account comes from the user.
    """
    if not ctx.account:
        raise ParseError(
            ctx.source, "a YouTube Studio export does not name its channel: pass --account"
        )
    day = studio_day(ctx)
    with open_zip(path, ctx.source) as archive:
        names = {n.rsplit("/", 1)[-1]: n for n in archive.names()}
        if s.STUDIO_TABLE not in names:
            raise ParseError(ctx.source, f"the archive has no {s.STUDIO_TABLE!r}")
        with archive.open(names[s.STUDIO_TABLE]) as table:
            yield from _studio_table(table, f"{ctx.source}!{s.STUDIO_TABLE}", ctx, day)
        if s.STUDIO_TOTALS in names:
            with archive.open(names[s.STUDIO_TOTALS]) as totals:
                yield from studio_totals(totals, f"{ctx.source}!{s.STUDIO_TOTALS}", ctx)


def studio_day(ctx: ParseContext) -> date:
    """The day a Studio export's totals describe: its window's last day, else the load's day.

    The window is read from the file's base name only: a folder's name is not the export's,
    and a replay from landing knows the base name alone.
    """
    window = _WINDOW_RE.search(source_base_name(ctx.source))
    if window is None:
        return ctx.day
    try:
        start, end = (date.fromisoformat(window.group(n)) for n in (1, 2))
    except ValueError as exc:
        raise ParseError(
            ctx.source, f"the export window {window.group(0)} in its name is not real: {exc}"
        ) from exc
    if end < start:
        raise ParseError(
            ctx.source, f"the export window {window.group(0)} in its name ends before it starts"
        )
    return end


def studio_unknown_columns(header: list[str]) -> list[str]:
    return [h for h in header if h and h not in s.STUDIO_KNOWN_COLUMNS]


def _studio_table(stream: Any, source: str, ctx: ParseContext, day: date) -> Iterator[Item]:
    header, rows = read_csv(stream, source, required=("Content", "Views"))
    unknown = studio_unknown_columns(header)
    if unknown:
        yield Note(f"{source}: columns not used: {', '.join(unknown)}")
    for row in rows:
        content = row.values["Content"].strip()
        if content == "Total":  # the first data row sums the table
            continue
        yield from studio_row(row.line, row.values, row.raw, header, ctx.account, day)


def studio_row(
    line: int,
    values: dict[str, str],
    raw: list[str],
    header: list[str],
    account: str | None,
    day: date,
) -> list[Item]:
    """The post and post-day of one ``Table data.csv`` row (not the ``Total`` row)."""
    content = values["Content"].strip()
    metrics = {col: name for col, name in s.STUDIO_POST_METRICS.items() if name in header}

    def build() -> list[Item]:
        post_id = require(content, "Content")
        published = convert(values.get("Video publish time"), to_display_date, "Video publish time")
        published_at = datetime.combine(published, time(), UTC) if published else None
        post: dict[str, Any] = {
            "platform": s.PLATFORM,
            "post_id": post_id,
            "account_id": account,
            "caption": values.get("Video title") or None,
            "media_type": "video",
            "permalink": f"{s.WATCH_URL}{post_id}",
        }
        if published_at is not None:
            post["published_at"] = published_at
        if "Duration" in values:
            post["duration_seconds"] = convert(values["Duration"], clock_seconds, "Duration")
        daily: dict[str, Any] = {
            "platform": s.PLATFORM,
            "post_id": post_id,
            "account_id": account,
            "day": day,
        }
        for column, name in metrics.items():
            daily[column] = convert(values.get(name), to_count, name)
        return [Record("posts", 0, post), Record("post_daily", 0, daily)]

    return guarded(line, ",".join(raw), build)


def studio_totals(stream: Any, source: str, ctx: ParseContext) -> Iterator[Item]:
    """The daily channel flows of a Studio export's ``Totals.csv``."""
    header, rows = read_csv(stream, source, required=("Date",))
    flows = {col: name for col, name in _TOTALS_FLOWS.items() if name in header}
    if not flows:
        return
    for row in rows:

        def build(values: dict[str, str] = row.values) -> list[Item]:
            day = require(convert(values["Date"], to_display_date, "Date"), "Date")
            daily: dict[str, Any] = {
                "platform": s.PLATFORM,
                "account_id": ctx.account,
                "day": day,
                "day_timezone": s.STUDIO_DAY_TIMEZONE,
            }
            for column, name in flows.items():
                daily[column] = convert(
                    values.get(name), lambda v: to_count(v, allow_negative=True), name
                )
            return [Record("account_daily", 0, daily)]

        yield from guarded(row.line, ",".join(row.raw), build)


# ---- YouTube Analytics API


def parse_analytics_report(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """Analytics API ``reports`` with ``dimensions=day``: the channel's daily flows.

    Columns are found by their ``columnHeaders`` names, never by position; ``rows`` is absent
    when the report is empty. Days are Pacific-time dates and stay as they are, with
    ``day_timezone`` saying so. The channel comes from a ``channel`` column, else from the
    user. A report filtered to one video (``filters=video==...``) does not say so: load only
    unfiltered channel reports. Per-video reports are refused: their rows are daily flows,
    which ``post_daily`` (counts as of a day) has no columns for. Lines are row positions.
    """
    doc = load_json(path, ctx.source)
    if not isinstance(doc, dict) or doc.get("kind") != s.ANALYTICS_KIND:
        raise ParseError(ctx.source, f"not a YouTube {s.ANALYTICS_KIND} document", field="kind")
    headers = doc.get("columnHeaders")
    if not isinstance(headers, list) or not all(
        isinstance(h, dict) and isinstance(h.get("name"), str) for h in headers
    ):
        raise ParseError(ctx.source, "expected a list of named columns", field="columnHeaders")
    names = [h["name"] for h in headers]
    dimensions = {h["name"] for h in headers if h.get("columnType") == "DIMENSION"}
    if "video" in dimensions:
        raise ParseError(
            ctx.source,
            "per-video Analytics reports hold daily flows, which post_daily cannot store",
            field="video",
        )
    if "day" not in names:
        raise ParseError(ctx.source, "required column 'day' is missing", field="day")
    # any other dimension splits a day into parts that would overwrite each other
    extra = sorted(dimensions - {"day", "channel"})
    if extra:
        raise ParseError(ctx.source, f"dimension {extra[0]!r} is not supported", field=extra[0])
    if "channel" not in names and not ctx.account:
        raise ParseError(
            ctx.source, "an Analytics report does not name its channel: pass --account"
        )
    metrics = {col: name for col, name in s.ANALYTICS_METRICS.items() if name in names}
    used = {"day", "channel", *metrics.values()}
    unknown = [n for n in names if n not in used]
    if unknown:
        yield Note(f"{ctx.source}: columns not used: {', '.join(unknown)}")
    rows = doc.get("rows", [])
    if not isinstance(rows, list):
        raise ParseError(ctx.source, "expected a list", field="rows")
    for index, row in enumerate(rows, start=1):
        yield from guarded(index, row, partial(_analytics_row, row, names, metrics, ctx))


def _analytics_row(
    row: Any, names: list[str], metrics: dict[str, str], ctx: ParseContext
) -> list[Item]:
    if not isinstance(row, list) or len(row) != len(names):
        raise RowError(None, f"expected a list of {len(names)} values")
    values = dict(zip(names, row, strict=True))
    daily: dict[str, Any] = {
        "platform": s.PLATFORM,
        "account_id": require(values.get("channel") or ctx.account, "channel"),
        "day": require(convert(values["day"], to_date, "day"), "day"),
        "day_timezone": s.ANALYTICS_DAY_TIMEZONE,
    }
    for column, name in metrics.items():
        daily[column] = convert(values[name], partial(to_count, allow_negative=True), name)
    return [Record("account_daily", 0, daily)]
