"""Render the simulated world as YouTube Data API responses, Analytics reports and Studio zips.

Every night the pull fetches all channels (50 ids per ``channels.list``) and refreshes recent
videos (50 per ``videos.list``): young ones nightly, the last four weeks with the weekly
snapshot. A few channels are connected (OAuth) and send their Studio export: for those the last
night also saves the uploads playlist and an Analytics ``reports`` table of daily flows.
"""

from __future__ import annotations

import csv
import io
import json
import random
import string
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ingest.demo.files import DemoFile, chunks, nightly_fetch, refresh_due, zip_member
from ingest.demo.world import Account, DemoPlatform, Post, World

PLATFORM = "youtube"
BATCH = 50  # the API's maximum ids per channels.list / videos.list / playlistItems.list call


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
            if refresh_due(post.published_at.date(), day, world.end)
        ]
        for n, pairs in enumerate(chunks(videos, BATCH)):
            path = folder / f"videos_{n:03d}.json"
            items = [_video(owner, post, day) for owner, post in pairs]
            _dump(path, {"kind": "youtube#videoListResponse", "etag": "demo", "items": items})
            files.append(DemoFile(path, PLATFORM, day, nightly_fetch(day)))
    # a few connected channels send their Studio export for the window
    for account in accounts[::6]:
        files.append(_studio_export(account, world, out))
        files.extend(_uploads_playlist(account, world, out))
        files.append(_analytics_report(account, world, out))
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
    # studio names the file after the channel; the handle keeps namesakes apart
    window = f"{world.start.isoformat()}_{end.isoformat()}"
    name = f"Content {window} {account.display_name} ({account.handle}).zip"
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
        archive.writestr(zip_member("Table data.csv", end), "\ufeff" + table.getvalue())
        archive.writestr(zip_member("Totals.csv", end), "\ufeff" + daily.getvalue())
    return DemoFile(path, PLATFORM, end, nightly_fetch(end), account=account.account_id)


def _uploads_playlist(account: Account, world: World, out: Path) -> list[DemoFile]:
    """``playlistItems.list`` of the channel's uploads playlist, newest first, 50 a page."""
    end = world.end
    playlist = "UU" + account.account_id[2:]
    posts = sorted(account.posts_until(end), key=lambda p: p.published_at, reverse=True)
    pages = list(chunks(posts, BATCH))
    files = []
    for n, page in enumerate(pages):
        items = []
        for position, post in enumerate(page, start=n * BATCH):
            published = post.published_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            items.append(
                {
                    "kind": "youtube#playlistItem",
                    "etag": "demo",
                    "id": f"{playlist}.{post.post_id}",
                    "snippet": {
                        "publishedAt": published,
                        "channelId": account.account_id,
                        "title": post.title,
                        "playlistId": playlist,
                        "position": position,
                        "resourceId": {"kind": "youtube#video", "videoId": post.post_id},
                        "videoOwnerChannelId": account.account_id,
                    },
                    "contentDetails": {"videoId": post.post_id, "videoPublishedAt": published},
                }
            )
        document: dict[str, Any] = {"kind": "youtube#playlistItemListResponse", "etag": "demo"}
        if n < len(pages) - 1:
            document["nextPageToken"] = f"EAAaBlBUOkNE{n + 1:04d}"
        document["pageInfo"] = {"totalResults": len(posts), "resultsPerPage": BATCH}
        document["items"] = items
        path = out / PLATFORM / end.isoformat() / f"uploads_{account.handle}_{n:03d}.json"
        _dump(path, document)
        files.append(DemoFile(path, PLATFORM, end, nightly_fetch(end)))
    return files


def _analytics_report(account: Account, world: World, out: Path) -> DemoFile:
    """Analytics ``reports`` (dimensions=day): the channel's daily flows over the window.

    The report does not name its channel (ids=channel==MINE): the pull records the account.
    """
    metrics = [
        "views",
        "estimatedMinutesWatched",
        "likes",
        "comments",
        "shares",
        "subscribersGained",
        "subscribersLost",
    ]
    headers = [{"name": "day", "columnType": "DIMENSION", "dataType": "STRING"}]
    headers += [{"name": m, "columnType": "METRIC", "dataType": "INTEGER"} for m in metrics]
    rows = []
    for day in world.days:
        flows = account.daily_counts(day)
        gained, lost = account.follow_flows(day)
        minutes = flows["views"] * 3 // 2
        values = [flows["views"], minutes, flows["likes"], flows["comments"], flows["shares"]]
        rows.append([day.isoformat(), *values, gained, lost])
    document = {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers, "rows": rows}
    path = out / PLATFORM / world.end.isoformat() / f"analytics_{account.handle}.json"
    _dump(path, document)
    return DemoFile(path, PLATFORM, world.end, nightly_fetch(world.end), account.account_id)


def _dump(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")


def _channel_id(rng: random.Random, handle: str) -> str:
    return "UC" + "".join(
        rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(22)
    )


def _video_id(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(11))


# long-form video comes less often than the other platforms' posts
DEMO = DemoPlatform(
    write=write,
    order=10,
    presence=0.7,
    cadence=(0.07, 0.45),
    account_id=_channel_id,
    post_id=_video_id,
)
