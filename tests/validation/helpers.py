"""Helpers for the audit tests: YouTube API documents on disk, warehouse snapshots."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from ingest.config import Settings

DAY = date(2026, 9, 1)
# every table a blocked batch must leave untouched
GUARDED_TABLES = (
    "core.accounts",
    "core.account_daily",
    "core.account_daily_history",
    "core.posts",
    "core.post_daily",
    "core.post_daily_history",
    "marts.creator_engagement_daily",
    "marts.creator_tier_daily",
    "marts.creator_tier_history",
)


def channel(
    channel_id: str,
    subscribers: str | None = "1500",
    *,
    hidden: bool = False,
    views: str = "100000",
    videos: str = "12",
) -> dict[str, Any]:
    """One ``channels.list`` item; ``subscribers=None`` leaves the count out."""
    stats: dict[str, Any] = {
        "viewCount": views,
        "hiddenSubscriberCount": hidden,
        "videoCount": videos,
    }
    if subscribers is not None:
        stats["subscriberCount"] = subscribers
    return {
        "kind": "youtube#channel",
        "id": channel_id,
        "snippet": {
            "title": f"Channel {channel_id}",
            "customUrl": f"@{channel_id.lower()}",
            "publishedAt": "2019-03-04T05:06:07Z",
        },
        "statistics": stats,
    }


def video(
    video_id: str,
    channel_id: str,
    *,
    views: str = "1000",
    likes: str | None = "50",
    comments: str = "5",
    published: str = "2026-08-20T10:00:00Z",
) -> dict[str, Any]:
    """One ``videos.list`` item; ``likes=None`` is a hidden like count."""
    stats: dict[str, Any] = {"viewCount": views, "commentCount": comments}
    if likes is not None:
        stats["likeCount"] = likes
    return {
        "kind": "youtube#video",
        "id": video_id,
        "snippet": {
            "channelId": channel_id,
            "title": f"Video {video_id}",
            "publishedAt": published,
        },
        "contentDetails": {"duration": "PT4M13S"},
        "statistics": stats,
    }


def write_channels(path: Path, items: list[dict[str, Any]]) -> Path:
    doc = {"kind": "youtube#channelListResponse", "etag": "test", "items": items}
    path.write_text(json.dumps(doc))
    return path


def write_videos(path: Path, items: list[dict[str, Any]]) -> Path:
    doc = {"kind": "youtube#videoListResponse", "etag": "test", "items": items}
    path.write_text(json.dumps(doc))
    return path


def snapshot(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    """Full contents of core and marts, sorted."""
    conn = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return {
            t: conn.execute(f"select * from {t} order by all").fetchall() for t in GUARDED_TABLES
        }
    finally:
        conn.close()


def query(settings: Settings, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
    conn = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return conn.execute(sql, params or {}).fetchall()
    finally:
        conn.close()


def set_staged(batch: Any, entity: str, column: str, row: int, value: Any) -> None:
    """Overwrite one staged value: a finding the row rules would not let through."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = batch.entities[entity].path
    table = pq.read_table(path)
    values = table.column(column).to_pylist()
    values[row] = value
    at = table.schema.get_field_index(column)
    pq.write_table(
        table.set_column(at, column, pa.array(values, table.schema.field(column).type)), path
    )
