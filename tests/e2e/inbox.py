"""YouTube Data API responses written into an inbox, the way an export drop would arrive."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

CHANNELS = ("UCalpha0000000000000001", "UCbravo0000000000000002")
VIDEOS_PER_CHANNEL = 3


def channels_list(day: date) -> dict:
    # followers grow by day so each day's snapshot differs from the last
    grow = day.toordinal() % 1000
    return {
        "kind": "youtube#channelListResponse",
        "items": [
            {
                "kind": "youtube#channel",
                "id": channel,
                "snippet": {
                    "title": f"Creator {n}",
                    "customUrl": f"@creator{n}",
                    "publishedAt": "2019-03-01T12:00:00Z",
                },
                "statistics": {
                    "subscriberCount": str(20_000 * (n + 1) + grow),
                    "videoCount": str(VIDEOS_PER_CHANNEL),
                    "viewCount": str(900_000 + grow),
                    "hiddenSubscriberCount": False,
                },
            }
            for n, channel in enumerate(CHANNELS)
        ],
    }


def videos_list(day: date) -> dict:
    grow = day.toordinal() % 1000
    items = []
    for n, channel in enumerate(CHANNELS):
        for v in range(VIDEOS_PER_CHANNEL):
            published = day - timedelta(days=2 + v)
            items.append(
                {
                    "kind": "youtube#video",
                    "id": f"vid{n}x{v}",
                    "snippet": {
                        "channelId": channel,
                        "publishedAt": f"{published.isoformat()}T15:00:00Z",
                        "title": f"Video {v} of creator {n}",
                    },
                    "contentDetails": {"duration": "PT4M30S"},
                    "statistics": {
                        "viewCount": str(1_000 * (v + 1) + grow),
                        "likeCount": str(100 + v),
                        "commentCount": str(10 + v),
                    },
                }
            )
    return {"kind": "youtube#videoListResponse", "items": items}


def write_youtube_inbox(inbox: Path, days: list[date], *, content_of: date | None = None) -> None:
    """``<inbox>/youtube/<day>/channels.json`` and ``videos.json`` for each day.

    With ``content_of`` every day gets the very same bytes, those of that day's responses.
    """
    for day in days:
        folder = inbox / "youtube" / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        content = content_of or day
        (folder / "channels.json").write_text(json.dumps(channels_list(content), indent=2))
        (folder / "videos.json").write_text(json.dumps(videos_list(content), indent=2))


def expected_rows(days: list[date]) -> dict[str, int]:
    """Rows core tables hold after loading ``days`` (keys are per day for the daily facts)."""
    return {
        "core.accounts": len(CHANNELS),
        "core.account_daily": len(CHANNELS) * len(days),
        "core.posts": len(CHANNELS) * VIDEOS_PER_CHANNEL,
        "core.post_daily": len(CHANNELS) * VIDEOS_PER_CHANNEL * len(days),
    }
