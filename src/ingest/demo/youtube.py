"""Render the simulated world as YouTube Data API responses and Studio export zips."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ingest.demo.files import DemoFile, chunks, nightly_fetch
from ingest.demo.world import Account, Post, World

PLATFORM = "youtube"
BATCH = 50  # the API's maximum ids per channels.list / videos.list call
RECENT_DAYS = 45  # videos a nightly pull refreshes


def three_significant(count: int) -> int:
    """Public subscriber counts are cut to 3 significant figures from 1,000 on."""
    if count < 1000:
        return count
    step = 10 ** (len(str(count)) - 3)
    return int(count // step * step)


def write(world: World, out: Path) -> list[DemoFile]:
    accounts = world.accounts(PLATFORM)
    files: list[DemoFile] = []
    for day in world.days:
        folder = out / PLATFORM / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        for n, channels in enumerate(chunks(accounts, BATCH)):
            path = folder / f"channels_{n:03d}.json"
            _dump(path, _channel_list([_channel(a, day) for a in channels]))
            files.append(DemoFile(path, PLATFORM, day, nightly_fetch(day)))
        videos: list[tuple[Account, Post]] = [
            (account, post)
            for account in accounts
            for post in account.posts_until(day)
            if (day - post.published_at.date()).days < RECENT_DAYS
        ]
        for n, pairs in enumerate(chunks(videos, BATCH)):
            path = folder / f"videos_{n:03d}.json"
            items = [_video(owner, post, day) for owner, post in pairs]
            _dump(path, {"kind": "youtube#videoListResponse", "etag": "demo", "items": items})
            files.append(DemoFile(path, PLATFORM, day, nightly_fetch(day)))
    # a quarter of the channels also send their Studio export for the window
    for account in accounts[::4]:
        files.append(_studio_export(account, world, out))
    return files


def _channel_list(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "kind": "youtube#channelListResponse",
        "etag": "demo",
        "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
        "items": items,
    }


def _channel(account: Account, day: date) -> dict[str, Any]:
    followers = account.followers_by_day[day]
    return {
        "kind": "youtube#channel",
        "id": account.account_id,
        "snippet": {
            "title": account.display_name,
            "customUrl": "@" + account.handle,
            "publishedAt": account.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "contentDetails": {"relatedPlaylists": {"uploads": "UU" + account.account_id[2:]}},
        "statistics": {
            "viewCount": str(sum(p.views_on(day) for p in account.posts_until(day))),
            # hidden counts still arrive as a number; the parser must not trust it
            "subscriberCount": "0"
            if account.followers_hidden
            else str(three_significant(followers)),
            "hiddenSubscriberCount": account.followers_hidden,
            "videoCount": str(len(account.posts_until(day))),
        },
    }


def _video(account: Account, post: Post, day: date) -> dict[str, Any]:
    counts = post.counts_on(day)
    statistics = {"viewCount": str(counts["views"]), "favoriteCount": "0"}
    if not account.likes_hidden:
        statistics["likeCount"] = str(counts["likes"])
    if not account.comments_disabled:
        statistics["commentCount"] = str(counts["comments"])
    minutes, seconds = divmod(post.duration_seconds, 60)
    return {
        "kind": "youtube#video",
        "id": post.post_id,
        "snippet": {
            "publishedAt": post.published_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "channelId": account.account_id,
            "title": post.title,
        },
        "contentDetails": {"duration": f"PT{minutes}M{seconds}S", "definition": "hd"},
        "statistics": statistics,
    }


def _studio_export(account: Account, world: World, out: Path) -> DemoFile:
    end = world.end
    name = f"Content {world.start.isoformat()}_{end.isoformat()} {account.display_name}.zip"
    path = out / PLATFORM / "studio" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    posts = account.posts_until(end)
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(
        [
            "Content",
            "Video title",
            "Video publish time",
            "Duration",
            "Views",
            "Likes",
            "Comments added",
            "Shares",
            "Watch time (hours)",
        ]
    )
    totals = [p.counts_on(end) for p in posts]
    writer.writerow(
        [
            "Total",
            "",
            "",
            "",
            sum(t["views"] for t in totals),
            sum(t["likes"] for t in totals),
            sum(t["comments"] for t in totals),
            sum(t["shares"] for t in totals),
            "",
        ]
    )
    for post, counts in zip(posts, totals, strict=True):
        writer.writerow(
            [
                post.post_id,
                post.title,
                post.published_at.strftime("%b %-d, %Y"),
                post.duration_seconds,
                counts["views"],
                counts["likes"],
                counts["comments"],
                counts["shares"],
                round(counts["views"] * post.duration_seconds / 7200, 4),
            ]
        )
    # one row as people find them in real exports: a garbled number, quarantined on load
    writer.writerow(["xxxxxxxxxxx", "broken row", "Sep 1, 2026", "61", "12,3a", "1", "0", "0", ""])
    daily = io.StringIO()
    csv.writer(daily).writerow(["Date", "Views"])
    for offset in range((end - world.start).days + 1):
        day = world.start + timedelta(days=offset)
        before = sum(p.views_on(day - timedelta(days=1)) for p in posts)
        csv.writer(daily).writerow([day.isoformat(), sum(p.views_on(day) for p in posts) - before])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        # Studio writes UTF-8 with a BOM
        archive.writestr("Table data.csv", "\ufeff" + table.getvalue())
        archive.writestr("Totals.csv", "\ufeff" + daily.getvalue())
    return DemoFile(path, PLATFORM, end, nightly_fetch(end), account=account.account_id)


def _dump(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
