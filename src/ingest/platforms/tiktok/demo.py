"""Render the simulated world as TikTok Research/Display API responses and Studio exports.

Every night the pull runs one Research ``video/query`` over all tracked usernames (videos of
the last days; every week the last four weeks), paged 100 videos at a time; every week it asks
``user/info`` about each creator. One creator has authorised the Display API. At the end of the
window two creators send their TikTok Studio "Download data", one CSV per analytics tab (one
of them gets the Followers tab as a zip of its tables).
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ingest.demo.files import (
    FULL_REFRESH_DAYS,
    YOUNG_DAYS,
    DemoFile,
    chunks,
    dump_json,
    nightly_fetch,
    refresh_due,
    snapshot_day,
    stable_digits,
    stable_hex,
    zip_member,
)
from ingest.demo.world import Account, DemoPlatform, Post, World

PLATFORM = "tiktok"
RESEARCH_PAGE = 100  # video/query: max_count is at most 100
DISPLAY_PAGE = 20  # video/list: max_count is at most 20
REGIONS = ("US", "GB", "DE", "FR", "BR", "MX", "IT", "ES")
HASHTAGS = ("fyp", "foryou", "tutorial", "dayinmylife", "food", "travel", "gaming", "art")


def write(world: World, out: Path) -> list[DemoFile]:
    accounts = world.accounts(PLATFORM)
    files: list[DemoFile] = []
    for day in world.days:
        folder = out / PLATFORM / day.isoformat()
        files.extend(_video_query(accounts, world, day, folder))
        if not snapshot_day(day, world.end):
            continue
        for account in accounts:
            path = folder / f"user_info_{account.handle}.json"
            dump_json(path, _v2(_user_fields(account, day), f"user/{account.handle}/{day}"))
            files.append(DemoFile(path, PLATFORM, day, nightly_fetch(day), account.account_id))
    if accounts:
        files.extend(_display_api(accounts[0], world, out))
    for n, account in enumerate(accounts[-2:]):
        files.extend(_studio_export(account, world, out, as_zip=n == 0))
    return files


# ---- Research API


def _video_query(accounts: list[Account], world: World, day: date, folder: Path) -> list[DemoFile]:
    videos = [
        (account, post)
        for account in accounts
        for post in account.posts_until(day)
        if refresh_due(post.published_at.date(), day, world.end)
    ]
    span = FULL_REFRESH_DAYS if snapshot_day(day, world.end) else YOUNG_DAYS
    search_id = stable_digits(f"search/{day}/{span}", 19)
    pages = list(chunks(videos, RESEARCH_PAGE))
    files = []
    for n, page in enumerate(pages):
        data = {
            "videos": [_research_video(account, post, day) for account, post in page],
            "cursor": n * RESEARCH_PAGE + len(page),
            "has_more": n < len(pages) - 1,
            "search_id": search_id,
        }
        path = folder / f"video_query_{n:03d}.json"
        dump_json(path, _v2(data, f"query/{day}/{n}"))
        files.append(DemoFile(path, PLATFORM, day, nightly_fetch(day)))
    return files


def _research_video(account: Account, post: Post, day: date) -> dict[str, Any]:
    counts = post.counts_on(day)
    n = int(post.post_id[-3:])
    return {
        # a bare JSON number above 2^53: a float would lose its last digits
        "id": int(post.post_id),
        "create_time": int(post.published_at.timestamp()),
        "username": account.handle,
        "region_code": REGIONS[n % len(REGIONS)],
        "video_description": _description(post),
        "like_count": counts["likes"],
        "comment_count": counts["comments"],
        "share_count": counts["shares"],
        "view_count": counts["views"],
        "favourites_count": counts["saves"],  # the research api's british spelling
        "video_duration": _duration(post),
        "hashtag_names": [HASHTAGS[n % len(HASHTAGS)], HASHTAGS[(n // 8) % len(HASHTAGS)]],
    }


def _user_fields(account: Account, day: date) -> dict[str, Any]:
    posts = account.posts_until(day)
    return {
        "display_name": account.display_name,
        "bio_description": f"{account.display_name.lower()} | new videos most days",
        "avatar_url": f"https://p16-sign.tiktokcdn-us.com/avatar/{account.handle}.jpeg",
        "is_verified": account.followers_by_day[day] > 1_000_000,
        "follower_count": account.followers_by_day[day],
        "following_count": account.following,
        "likes_count": sum(p.counts_on(day)["likes"] for p in posts) + _earlier_likes(account),
        "video_count": len(posts) + int(stable_digits(account.handle, 2)),
    }


# ---- Display API (the creator's own authorisation)


def _display_api(account: Account, world: World, out: Path) -> list[DemoFile]:
    end = world.end
    folder = out / PLATFORM / end.isoformat() / "display"
    fetched = nightly_fetch(end)
    user = {
        "open_id": "-000" + stable_hex("open/" + account.handle, 32),
        "union_id": stable_hex("union/" + account.handle, 32),
        "avatar_url": f"https://p16-sign.tiktokcdn-us.com/avatar/{account.handle}.jpeg",
        "display_name": account.display_name,
        "username": account.handle,
        "bio_description": f"{account.display_name.lower()} | new videos most days",
        "profile_deep_link": f"https://vm.tiktok.com/{stable_hex(account.handle, 9).upper()}/",
        "is_verified": False,
        **{k: v for k, v in _user_fields(account, end).items() if k.endswith("_count")},
    }
    path = folder / f"user_info_{account.handle}.json"
    dump_json(path, _v2({"user": user}, f"display/user/{end}"))
    files = [DemoFile(path, PLATFORM, end, fetched)]
    recent = sorted(
        (p for p in account.posts_until(end) if (end - p.published_at.date()).days < 28),
        key=lambda p: p.published_at,
        reverse=True,
    )
    pages = list(chunks(recent, DISPLAY_PAGE))
    for n, page in enumerate(pages):
        videos = []
        for post in page:
            counts = post.counts_on(end)
            videos.append(
                {
                    "id": post.post_id,  # the display api sends ids as strings
                    "create_time": int(post.published_at.timestamp()),
                    "title": "",
                    "video_description": _description(post),
                    "duration": _duration(post),
                    "cover_image_url": "https://p16-sign.tiktokcdn-us.com/cover/"
                    f"{post.post_id}.jpeg",
                    "share_url": _link(account, post),
                    "like_count": counts["likes"],
                    "comment_count": counts["comments"],
                    "share_count": counts["shares"],
                    "view_count": counts["views"],
                }
            )
        data = {
            "videos": videos,
            # the cursor is a time in milliseconds: the oldest video on this page
            "cursor": int(page[-1].published_at.timestamp() * 1000),
            "has_more": n < len(pages) - 1,
        }
        path = folder / f"video_list_{n:03d}.json"
        dump_json(path, _v2(data, f"display/videos/{end}/{n}"))
        files.append(DemoFile(path, PLATFORM, end, fetched, account.account_id))
    return files


# ---- TikTok Studio "Download data"


def _studio_export(account: Account, world: World, out: Path, *, as_zip: bool) -> list[DemoFile]:
    """Studio's downloads, one per analytics tab: Overview, Viewers, Content and Followers.

    The Followers tab comes as a zip of its three tables when ``as_zip``. (A zip holding
    Overview.csv and FollowerHistory.csv together does not load cleanly today: both give rows
    for the same account-days, which staging quarantines as duplicates.)
    """
    end = world.end
    days = world.days
    # one day's follower count failed to compute in studio: it says "undefined". it falls on a
    # day no user/info snapshot covers, so no known figure is blanked by it
    unknown_day = next(d for d in reversed(days[:-1]) if not snapshot_day(d, end))
    # one day shows a moderation correction: more comments removed than added
    correction_day = days[len(days) // 2]
    fetched = nightly_fetch(end)
    folder = out / PLATFORM / "studio" / account.handle
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    tabs = {
        "Overview.csv": _overview(account, days, correction_day),
        "Viewers.csv": _viewers(account, days),
        "Content.csv": _content(account, world),
    }
    followers = {"FollowerHistory.csv": _follower_history(account, days, unknown_day)}
    if as_zip:
        followers["FollowerGender.csv"] = _table(
            ["Gender", "Distribution"], [["Female", "0.54"], ["Male", "0.43"], ["Other", "0.03"]]
        )
        followers["FollowerTopTerritories.csv"] = _table(
            ["Top territories", "Distribution"],
            [["US", "0.41"], ["GB", "0.12"], ["XK", "0.02"], ["Others", "0.45"]],
        )
        path = folder / f"Followers_{world.start.isoformat()}_{end.isoformat()}.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, text in followers.items():
                archive.writestr(zip_member(member, end), text)
        files.append(DemoFile(path, PLATFORM, end, fetched, account.account_id))
    else:
        tabs.update(followers)
    for member, text in tabs.items():
        path = folder / member
        path.write_text(text, encoding="utf-8")
        files.append(DemoFile(path, PLATFORM, end, fetched, account.account_id))
    return files


def _overview(account: Account, days: list[date], correction_day: date) -> str:
    rows = []
    for day in days:
        flows = account.daily_counts(day)
        comments = flows["comments"]
        if day == correction_day:
            comments = -1 - comments // 10
        rows.append(
            [
                _month_day(day),
                f"{flows['views']:,}",
                f"{flows['views'] // 33:,}",
                f"{flows['likes']:,}",
                str(comments),
                f"{flows['shares']:,}",
            ]
        )
    header = "Date,Video Views,Profile Views,Likes,Comments,Shares\n"
    # studio quotes every cell below the header, numbers included
    return header + _table([], rows, quote_all=True)


def _follower_history(account: Account, days: list[date], unknown_day: date) -> str:
    rows = []
    for day in days:
        followers = account.followers_by_day[day]
        previous = account.followers_by_day.get(day - timedelta(days=1), followers)
        shown = "undefined" if day == unknown_day else str(followers)
        rows.append([_month_day(day), shown, str(followers - previous)])
    return _table(["Date", "Followers", "Difference in followers from previous day"], rows)


def _viewers(account: Account, days: list[date]) -> str:
    rows = []
    for day in days:
        viewers = account.daily_counts(day)["views"] * 2 // 3
        new = viewers * 3 // 4
        rows.append([_month_day(day), str(viewers), str(new), str(viewers - new)])
    return _table(["Date", "Total Viewers", "New Viewers", "Returning Viewers"], rows)


def _content(account: Account, world: World) -> str:
    end = world.end
    rows = []
    for post in account.posts_until(end):
        if post.published_at.date() < world.start:
            continue
        counts = post.counts_on(end)
        rows.append(
            [
                _description(post),
                post.published_at.strftime("%Y-%m-%d %H:%M:%S"),
                _link(account, post),
                f"{counts['views']:,}",
                str(counts["likes"]),
                str(counts["comments"]),
                str(counts["shares"]),
                f"{min(_duration(post), 5 + int(post.post_id[-2:]) % 20) * 0.9:.1f}s",
                str(int(counts["views"] * 0.74)),
            ]
        )
    header = [
        "Video title",
        "Post time",
        "Video link",
        "Total views",
        "Total likes",
        "Total comments",
        "Total shares",
        "Average watch time",
        "Reach",
    ]
    return _table(header, rows)


# ---- shared


def _v2(data: dict[str, Any], seed: str) -> dict[str, Any]:
    # every v2 response carries an error object, "ok" on success
    log_id = stable_digits(seed, 14) + stable_hex(seed, 12).upper()
    return {"data": data, "error": {"code": "ok", "message": "", "log_id": log_id}}


def _description(post: Post) -> str:
    n = int(post.post_id[-3:])
    return f"{post.title.lower()} #{HASHTAGS[n % len(HASHTAGS)]}"


def _duration(post: Post) -> int:
    # short-form: the simulated duration folded into 8-180 seconds
    return 8 + post.duration_seconds % 173


def _link(account: Account, post: Post) -> str:
    return f"https://www.tiktok.com/@{account.handle}/video/{post.post_id}"


def _earlier_likes(account: Account) -> int:
    return int(stable_digits("likes/" + account.handle, 6)) * max(1, len(account.posts) // 10)


def _month_day(day: date) -> str:
    # studio writes dates without a year ("December 31", "January 1")
    return f"{day:%B} {day.day}"


def _table(header: list[str], rows: list[list[str]], *, quote_all: bool = False) -> str:
    buffer = io.StringIO()
    if quote_all:
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    else:
        writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _username(rng: random.Random, handle: str) -> str:
    # the APIs name a creator by username only: that is its account id (nothing is drawn)
    return handle


def _video_id(rng: random.Random) -> str:
    return str(rng.randrange(7_000_000_000_000_000_000, 7_400_000_000_000_000_000))


DEMO = DemoPlatform(write=write, order=30, presence=0.5, account_id=_username, post_id=_video_id)
