"""Render the simulated world as Instagram Graph API responses and the exports creators send.

Every week the pull asks ``business_discovery`` about each tracked creator (their public counts
and newest media). Two creators have connected their account (OAuth), so on the last night the
pull also saves their own IG User node, media list with insights, media and account insights.
At the end of the window a few creators send what Instagram lets them download: the "Download
your information" zip and Business Suite per-metric CSVs.
"""

from __future__ import annotations

import json
import random
import string
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ingest.demo.files import (
    DemoFile,
    chunks,
    dump_json,
    nightly_fetch,
    snapshot_day,
    stable_digits,
    stable_hex,
    zip_member,
)
from ingest.demo.world import Account, DemoPlatform, Post, World

PLATFORM = "instagram"
GRAPH = "https://graph.facebook.com/v21.0"
# the agency's own business account: business_discovery is asked on it
OWN_IG_USER_ID = "17841400008675309"
MEDIA_PAGE = 25  # the media edge's default page size
INSIGHTS_DELAY_DAYS = 2  # meta: insights can lag up to 48 h; until then `data` is empty
INSIGHTS_MAX_DAYS = 30  # account insights: at most 30 days between since and until
PACIFIC = ZoneInfo("America/Los_Angeles")
SHORTCODE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# captions people write: non-ascii text is where meta's export encoding goes wrong
CAPTION_EXTRAS = (
    "café au lait ☕",
    "Radosław's favourite",
    "Добрый день!",
    "crème brûlée 🍮",
    "São Paulo nights",
    "ça va? 🎉",
)
DYI_MAX_FOLLOWERS = 20_000
DYI_FOLLOWERS_PER_FILE = 5_000


def write(world: World, out: Path) -> list[DemoFile]:
    accounts = world.accounts(PLATFORM)
    files: list[DemoFile] = []
    for day in world.days:
        if not snapshot_day(day, world.end):
            continue
        folder = out / PLATFORM / day.isoformat()
        for account in accounts:
            path = folder / f"business_discovery_{account.handle}.json"
            dump_json(path, _business_discovery(account, day))
            files.append(DemoFile(path, PLATFORM, day, nightly_fetch(day)))
    # owners who see their own likes: hidden likes would make their own data disagree
    visible = [a for a in accounts if not a.likes_hidden]
    for account in visible[:2]:
        files.extend(_own_account(account, world, out))
    if visible:
        files.extend(_suite_csvs(visible[0], world, out))
    # the export lists every follower: the biggest creators small enough to keep it modest
    listed = [a for a in visible if a.followers_by_day[world.end] <= DYI_MAX_FOLLOWERS]
    listed.sort(key=lambda a: a.followers_by_day[world.end], reverse=True)
    for account in listed[:2]:
        files.append(_dyi_export(account, world, out))
    return files


# ---- public data of other creators: business_discovery


def _business_discovery(account: Account, day: date) -> dict[str, Any]:
    posts = _newest_first(account, day)
    node: dict[str, Any] = {
        "username": account.handle,
        "name": account.display_name,
        "id": account.account_id,
        "followers_count": account.followers_by_day[day],
        "follows_count": account.following,
        "media_count": _media_count(account, day),
    }
    page = posts[:MEDIA_PAGE]
    if page:
        node["media"] = {
            "data": [_media(account, post, day) for post in page],
            "paging": _paging(
                f"{GRAPH}/{OWN_IG_USER_ID}?fields=business_discovery.username({account.handle})"
                "%7Bmedia.after({after})%7D",
                page,
                more=len(posts) > len(page),
            ),
        }
    return {"business_discovery": node, "id": OWN_IG_USER_ID}


def _media(account: Account, post: Post, day: date, *, owner: bool = False) -> dict[str, Any]:
    counts = post.counts_on(day)
    kind, product = _kind(post)
    item: dict[str, Any] = {"id": post.post_id}
    text = caption(post)
    if text is not None:  # meta leaves `caption` out of posts without one
        item["caption"] = text
    item.update(media_type=kind, media_product_type=product, timestamp=_graph_time(post))
    if not account.likes_hidden:  # hidden like counts are simply absent
        item["like_count"] = counts["likes"]
    item["comments_count"] = counts["comments"]
    item["permalink"] = permalink(post)
    if owner:
        item["owner"] = {"id": account.account_id}
        item["username"] = account.handle
    return item


def _paging(template: str, page: list[Post], *, more: bool) -> dict[str, Any]:
    after = _cursor(page[-1].post_id)
    paging: dict[str, Any] = {"cursors": {"before": _cursor(page[0].post_id), "after": after}}
    if more:
        paging["next"] = template.replace("{after}", after)
    return paging


# ---- a connected creator's own data (OAuth)


def _own_account(account: Account, world: World, out: Path) -> list[DemoFile]:
    end = world.end
    folder = out / PLATFORM / end.isoformat() / account.handle
    fetched = nightly_fetch(end)
    files: list[DemoFile] = []

    user = {
        "id": account.account_id,
        "username": account.handle,
        "name": account.display_name,
        "biography": f"{account.display_name} | new posts every week",
        "followers_count": account.followers_by_day[end],
        "follows_count": account.following,
        "media_count": _media_count(account, end),
        # the cdn query string changes on every call
        "profile_picture_url": "https://scontent.cdninstagram.com/v/t51/"
        f"{account.account_id}.jpg?ccb=7-5&oh={stable_hex(account.handle + str(end), 16)}",
    }
    path = folder / "user.json"
    dump_json(path, user)
    files.append(DemoFile(path, PLATFORM, end, fetched))

    recent = [p for p in _newest_first(account, end) if (end - p.published_at.date()).days < 28]
    pages = list(chunks(recent, MEDIA_PAGE))
    for n, page in enumerate(pages):
        items = []
        for post in page:
            item = _media(account, post, end, owner=True)
            item["insights"] = {"data": _media_insights(post, end, full=False)}
            items.append(item)
        template = (
            f"{GRAPH}/{account.account_id}/media?fields=id%2Ccaption%2Cmedia_type"
            f"%2Cmedia_product_type%2Ctimestamp%2Clike_count%2Ccomments_count%2Cpermalink"
            f"%2Cowner%2Cusername%2Cinsights.metric(views%2Creach%2Csaved%2Cshares)"
            f"&limit={MEDIA_PAGE}&after={{after}}"
        )
        path = folder / f"media_{n:03d}.json"
        paging = _paging(template, list(page), more=n < len(pages) - 1)
        dump_json(path, {"data": items, "paging": paging})
        files.append(DemoFile(path, PLATFORM, end, fetched))

    # media insights of the newest post old enough to have them (a post too new answers
    # `{"data": []}`, which no sniffer can tell apart: the media list above shows that case)
    settled = [p for p in recent if (end - p.published_at.date()).days >= INSIGHTS_DELAY_DAYS]
    for post in settled[:1]:
        path = folder / f"insights_{post.post_id}.json"
        dump_json(path, {"data": _media_insights(post, end, full=True)})
        files.append(DemoFile(path, PLATFORM, end, fetched, account=account.account_id))

    # account insights over the window, in requests of at most 30 days
    days = world.days
    for n, span in enumerate(chunks(days, INSIGHTS_MAX_DAYS)):
        path = folder / f"user_insights_{n:03d}.json"
        dump_json(path, _user_insights_series(account, list(span)))
        files.append(DemoFile(path, PLATFORM, end, fetched))
    path = folder / "user_insights_total.json"
    dump_json(path, _user_insights_total(account, end))
    files.append(DemoFile(path, PLATFORM, end, fetched))
    return files


def _media_insights(post: Post, day: date, *, full: bool) -> list[dict[str, Any]]:
    if (day - post.published_at.date()).days < INSIGHTS_DELAY_DAYS:
        return []  # not available yet: an empty list, not zeros
    counts = post.counts_on(day)
    metrics = {
        "views": ("Views", counts["views"]),
        "reach": ("Accounts reached", int(counts["views"] * 0.71)),
        "saved": ("Saves", counts["saves"]),
        "shares": ("Shares", counts["shares"]),
    }
    if full:
        interactions = sum(counts[k] for k in ("likes", "comments", "shares", "saves"))
        metrics.update(
            likes=("Likes", counts["likes"]),
            comments=("Comments", counts["comments"]),
            total_interactions=("Interactions", interactions),
        )
    entries = []
    for name, (title, value) in metrics.items():
        entry: dict[str, Any] = {"name": name, "period": "lifetime", "values": [{"value": value}]}
        if full:
            entry.update(title=title, description=f"The number of {title.lower()}.")
        entry["id"] = f"{post.post_id}/insights/{name}/lifetime"
        entries.append(entry)
    return entries


def _user_insights_series(account: Account, days: list[date]) -> dict[str, Any]:
    def series(name: str, title: str, value_of: Callable[[date], int]) -> dict[str, Any]:
        return {
            "name": name,
            "period": "day",
            "values": [{"value": value_of(d), "end_time": _pacific_day_end(d)} for d in days],
            "title": title,
            "description": f"{title}, per day.",
            "id": f"{account.account_id}/insights/{name}/day",
        }

    since = int(datetime.combine(days[0], time(), PACIFIC).timestamp())
    until = int(datetime.combine(days[-1] + timedelta(days=1), time(), PACIFIC).timestamp())
    base = f"{GRAPH}/{account.account_id}/insights?metric=views%2Creach%2Cfollower_count&period=day"
    return {
        "data": [
            series("views", "Views", lambda d: account.daily_counts(d)["views"]),
            series("reach", "Reach", lambda d: int(account.daily_counts(d)["views"] * 0.64)),
            # meta's follower_count is the day's new followers, not the total
            series("follower_count", "Follower count", lambda d: account.follow_flows(d)[0]),
        ],
        "paging": {
            "previous": f"{base}&since={2 * since - until}&until={since}",
            "next": f"{base}&since={until}&until={2 * until - since}",
        },
    }


def _user_insights_total(account: Account, day: date) -> dict[str, Any]:
    flows = account.daily_counts(day)
    gained, lost = account.follow_flows(day)

    def total(name: str, title: str, value: int) -> dict[str, Any]:
        return {
            "name": name,
            "period": "day",
            "title": title,
            "total_value": {"value": value},
            "id": f"{account.account_id}/insights/{name}/day",
        }

    follows = {
        "name": "follows_and_unfollows",
        "period": "day",
        "title": "Follows and unfollows",
        "total_value": {
            "breakdowns": [
                {
                    "dimension_keys": ["follow_type"],
                    "results": [
                        {"dimension_values": ["FOLLOWER"], "value": gained},
                        {"dimension_values": ["NON_FOLLOWER"], "value": lost},
                    ],
                }
            ]
        },
        "id": f"{account.account_id}/insights/follows_and_unfollows/day",
    }
    return {
        "data": [
            total("likes", "Likes", flows["likes"]),
            total("comments", "Comments", flows["comments"]),
            total("shares", "Shares", flows["shares"]),
            follows,
        ]
    }


# ---- exports: Business Suite per-metric CSVs


def _suite_csvs(account: Account, world: World, out: Path) -> list[DemoFile]:
    folder = out / PLATFORM / "suite" / account.handle
    folder.mkdir(parents=True, exist_ok=True)
    metrics: dict[str, Callable[[date], int]] = {
        "Views": lambda d: account.daily_counts(d)["views"],
        "Follows": lambda d: account.follow_flows(d)[0],
        # recognised but without a canonical column: loads nothing, says so once
        "Reach": lambda d: int(account.daily_counts(d)["views"] * 0.64),
    }
    files = []
    for title, value_of in metrics.items():
        lines = ["sep=,", f'"{title}"', '"Date","Primary"']
        lines += [f'"{d.isoformat()}T00:00:00","{value_of(d)}"' for d in world.days]
        path = folder / f"{title}_{world.start.isoformat()}_{world.end.isoformat()}.csv"
        # Business Suite writes UTF-16LE with a BOM and CRLF line ends
        path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-16-le"))
        files.append(
            DemoFile(path, PLATFORM, world.end, nightly_fetch(world.end), account.account_id)
        )
    return files


# ---- exports: "Download your information"


def _dyi_export(account: Account, world: World, out: Path) -> DemoFile:
    end = world.end
    name = f"instagram-{account.handle}-{end.isoformat()}-{stable_hex(account.handle, 8)}.zip"
    path = out / PLATFORM / "dyi" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    posts = [p for p in account.posts_until(end) if p.published_at.date() >= world.start]
    feed = [p for p in posts if _kind(p)[1] == "FEED"]
    reels = [p for p in posts if _kind(p)[1] == "REELS"]
    members: dict[str, Any] = {
        "personal_information/personal_information/personal_information.json": {
            "profile_user": [
                {
                    "string_map_data": {
                        "Username": {"value": account.handle},
                        "Name": {"value": f"{account.display_name} ✨"},
                    }
                }
            ]
        },
        "logged_information/past_instagram_insights/posts.json": {
            "organic_insights_posts": [_dyi_post(p, end, "Creation timestamp") for p in feed]
        },
        # newer exports capitalise the label differently
        "logged_information/past_instagram_insights/reels.json": {
            "organic_insights_reels": [_dyi_post(p, end, "Creation Timestamp") for p in reels]
        },
        "connections/followers_and_following/following.json": {
            "relationships_following": [
                {
                    "title": f"friend{n}.{account.handle[:6]}",
                    "string_list_data": [
                        {
                            "href": f"https://www.instagram.com/_u/friend{n}.{account.handle[:6]}",
                            "timestamp": _stamp(account.created_at) + n * 3607,
                        }
                    ],
                }
                for n in range(account.following)
            ]
        },
    }
    everyone = [_dyi_follower(account, n) for n in range(account.followers_by_day[end])]
    for n, part in enumerate(chunks(everyone, DYI_FOLLOWERS_PER_FILE), start=1):
        members[f"connections/followers_and_following/followers_{n}.json"] = list(part)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, document in members.items():
            # meta writes each utf-8 byte of non-ascii text as its own \u00XX escape
            text = json.dumps(_meta_encoding(document), indent=2, ensure_ascii=True)
            archive.writestr(zip_member(member, end), text)
    return DemoFile(path, PLATFORM, end, nightly_fetch(end), account=account.account_id)


def _dyi_post(post: Post, day: date, created_label: str) -> dict[str, Any]:
    counts = post.counts_on(day)
    kind, product = _kind(post)
    folder = "reels" if product == "REELS" else "posts"
    month = post.published_at.strftime("%Y%m")
    ext = "mp4" if kind == "VIDEO" else "jpg"
    digits = stable_digits(post.post_id, 27)
    uri = f"media/{folder}/{month}/{digits[:9]}_{digits[9:25]}_n_{post.post_id}.{ext}"
    labels: dict[str, Any] = {created_label: {"timestamp": _stamp(post.published_at)}}
    figures = {
        "Impressions": int(counts["views"] * 1.3),
        "Accounts reached": int(counts["views"] * 0.71),
        "Likes": counts["likes"],
        "Comments": counts["comments"],
        "Shares": counts["shares"],
        "Saves": counts["saves"],
        "Follows": counts["saves"] // 7,
        "Profile visits": counts["likes"] // 5,
    }
    if product == "REELS":
        figures["Views"] = counts["views"]
        del figures["Impressions"]
    for label, value in figures.items():
        # counts come as display strings with thousands separators
        labels[label] = {"value": f"{value:,}"}
    if (day - post.published_at.date()).days > 21:
        labels["Shares"] = {"value": "--"}  # older posts: not available
    created = _stamp(post.published_at)
    media = {"uri": uri, "creation_timestamp": created, "title": caption(post) or ""}
    return {"media_map_data": {"Media Thumbnail": media}, "string_map_data": labels}


def _dyi_follower(account: Account, n: int) -> dict[str, Any]:
    handle = f"fan{n}.{account.handle[:8]}" if n % 97 else f"radosław.{n}"
    return {
        "title": "",
        "media_list_data": [],
        "string_list_data": [
            {
                "href": f"https://www.instagram.com/{handle}",
                "value": handle,
                "timestamp": _stamp(account.created_at) + n * 613,
            }
        ],
    }


def _meta_encoding(node: Any) -> Any:
    if isinstance(node, str):
        return node.encode("utf-8").decode("latin-1")
    if isinstance(node, list):
        return [_meta_encoding(v) for v in node]
    if isinstance(node, dict):
        return {_meta_encoding(k): _meta_encoding(v) for k, v in node.items()}
    return node


# ---- shared


def caption(post: Post) -> str | None:
    """The caption the creator wrote: some have none, some are not ascii."""
    n = int(post.post_id[-4:])
    if n % 13 == 0:
        return None
    if n % 3 == 0:
        return f"{post.title} {CAPTION_EXTRAS[n % len(CAPTION_EXTRAS)]}"
    return post.title


def permalink(post: Post) -> str:
    kind = "reel" if _kind(post)[1] == "REELS" else "p"
    return f"https://www.instagram.com/{kind}/{_shortcode(post.post_id)}/"


def _kind(post: Post) -> tuple[str, str]:
    n = int(post.post_id[-2:]) % 10
    if n < 4:
        return "VIDEO", "REELS"
    if n < 6:
        return "CAROUSEL_ALBUM", "FEED"
    return "IMAGE", "FEED"


def _shortcode(post_id: str) -> str:
    number = int(post_id)
    chars = []
    while number:
        number, digit = divmod(number, len(SHORTCODE_CHARS))
        chars.append(SHORTCODE_CHARS[digit])
    return "C" + "".join(reversed(chars)).rjust(10, "A")


def _cursor(post_id: str) -> str:
    return stable_hex("cursor" + post_id, 24).upper()


def _newest_first(account: Account, day: date) -> list[Post]:
    return sorted(account.posts_until(day), key=lambda p: p.published_at, reverse=True)


def _media_count(account: Account, day: date) -> int:
    # the simulation starts a month before the window; older posts exist too
    earlier = int(stable_digits(account.account_id, 3))
    return earlier + len(account.posts_until(day))


def _graph_time(post: Post) -> str:
    # graph api: ISO-8601 with an offset written without a colon
    return post.published_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _pacific_day_end(day: date) -> str:
    # a day's value is stamped with the end of that day in Los Angeles, written in UTC
    end = datetime.combine(day + timedelta(days=1), time(), PACIFIC).astimezone(UTC)
    return end.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _stamp(moment: datetime) -> int:
    return int(moment.timestamp())


def _ig_user_id(rng: random.Random, handle: str) -> str:
    return "1784" + "".join(rng.choice(string.digits) for _ in range(13))


def _media_id(rng: random.Random) -> str:
    return "1790" + "".join(rng.choice(string.digits) for _ in range(13))


DEMO = DemoPlatform(write=write, order=20, presence=0.5, account_id=_ig_user_id, post_id=_media_id)
