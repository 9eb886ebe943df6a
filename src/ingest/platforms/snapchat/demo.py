"""Render the simulated world as Snapchat Public Profile API responses and Insights templates.

Every night the pull fetches the tracked public profiles (subscriber counts come as strings
or numbers); every week it fetches the daily stats of the creators who opted in to sharing
them, in either of the two response shapes clients report, and on the last night their
lifetime stats. Snapchat has no creator export, so two creators copy their Insights screens
into the documented CSV template.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ingest.demo.files import (
    SNAPSHOT_EVERY,
    DemoFile,
    chunks,
    dump_json,
    nightly_fetch,
    snapshot_day,
    stable_hex,
)
from ingest.demo.world import Account, DemoPlatform, World

PLATFORM = "snapchat"
BATCH = 50
SPOTLIGHT_SHARE = 0.6  # of a profile's daily views, the part that comes from Spotlight
TEMPLATE_DAYS = 14
TEMPLATE_HEADER = [
    "date",
    "account",
    "followers",
    "followers_gained",
    "followers_lost",
    "snap_views",
    "spotlight_views",
    "viewers",
    "shares",
    "favorites",
    "replies",
    "screenshots",
]


def write(world: World, out: Path) -> list[DemoFile]:
    accounts = world.accounts(PLATFORM)
    shown = [a for a in accounts if not a.followers_hidden]
    # creators with share_authorized_data_with_api_partners: their stats are readable
    opted_in = shown[1::4] if len(shown) > 8 else shown[1:3]
    # one tracked profile was deleted mid-window: its sub-request fails (quarantined, once)
    broken_day = world.days[len(world.days) // 2]
    files: list[DemoFile] = []
    for day in world.days:
        folder = out / PLATFORM / day.isoformat()
        for n, batch in enumerate(chunks(accounts, BATCH)):
            entries = [_profile_entry(a, day, a in opted_in) for a in batch]
            if day == broken_day and n == 0:
                entries.insert(
                    len(entries) // 2,
                    {
                        "sub_request_status": "ERROR",
                        "sub_request_error_reason": "Public profile not found",
                    },
                )
            path = folder / f"public_profiles_{n:03d}.json"
            dump_json(path, _envelope(f"profiles/{day}/{n}", public_profiles=entries))
            files.append(DemoFile(path, PLATFORM, day, nightly_fetch(day)))
        if not snapshot_day(day, world.end):
            continue
        week = [d for d in world.days if timedelta() <= day - d < timedelta(SNAPSHOT_EVERY)]
        for index, account in enumerate(opted_in):
            path = folder / f"stats_{account.handle}.json"
            if index % 2:
                dump_json(path, _stats_assets(account, week))
                files.append(DemoFile(path, PLATFORM, day, nightly_fetch(day), account.account_id))
            else:
                dump_json(path, _stats_timeseries(account, week))
                files.append(DemoFile(path, PLATFORM, day, nightly_fetch(day)))
    if opted_in:
        path = out / PLATFORM / world.end.isoformat() / "stats_lifetime.json"
        dump_json(path, _stats_lifetime(opted_in, world.end))
        files.append(DemoFile(path, PLATFORM, world.end, nightly_fetch(world.end)))
    by_hand = [a for a in shown if a not in opted_in][:2]
    for account in by_hand:
        files.append(_template(account, world, out))
    return files


def _profile_entry(account: Account, day: date, opted_in: bool) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "id": account.account_id,
        "display_name": account.display_name,
        "snap_user_name": account.handle,
        "profile_type": "PUBLIC_PROFILE",
        "profile_tier": "TIER_PUBLIC_OFFICIAL"
        if account.followers_by_day[day] >= 1_000_000
        else "TIER_PUBLIC",
        "internal_profile_category": "PERSON",
        "category": "CATEGORY_V3_PEOPLE",
        "share_authorized_data_with_api_partners": opted_in,
    }
    if int(account.account_id[-1], 16) % 2:
        profile["created_at"] = account.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if not account.followers_hidden:  # optional: some profiles do not expose it
        followers = account.followers_by_day[day]
        # the same field arrives as a string on some responses and a number on others
        numeric = (day.toordinal() + int(account.account_id[:2], 16)) % 3 == 0
        profile["subscriber_count"] = followers if numeric else str(followers)
    return {"sub_request_status": "SUCCESS", "public_profile": profile}


def _stats_timeseries(account: Account, days: list[date]) -> dict[str, Any]:
    timeseries = []
    for day in days:
        flows = account.daily_counts(day)
        gained, _ = account.follow_flows(day)
        stats = {
            "SUBSCRIBERS": account.followers_by_day[day],
            "SUBSCRIBERS_GAINED": gained,
            "VIEWS": flows["views"],
            "SHARES": flows["shares"],
            "VIEWERS": flows["views"] * 7 // 10,
        }
        timeseries.append(
            {**_span(day), "stats": {name: str(value) for name, value in stats.items()}}
        )
    stat = {
        "id": account.account_id,
        "type": "PROFILE",
        "granularity": "DAY",
        "start_time": _span(days[0])["start_time"],
        "end_time": _span(days[-1])["end_time"],
        "timeseries": timeseries,
    }
    item = {"sub_request_status": "SUCCESS", "timeseries_stat": stat}
    return _envelope(f"stats/{account.account_id}/{days[-1]}", timeseries_stats=[item])


def _stats_assets(account: Account, days: list[date]) -> dict[str, Any]:
    """The other reported shape: per metric ``field`` objects with breakdown slices, no id."""
    timeseries = []
    for day in days:
        flows = account.daily_counts(day)
        gained, _ = account.follow_flows(day)
        metrics = {
            "SUBSCRIBERS": account.followers_by_day[day],
            "SUBSCRIBERS_GAINED": gained,
            "VIEWS": flows["views"],
            "SPOTLIGHT_VIEWS": int(flows["views"] * SPOTLIGHT_SHARE),
            "SHARES": flows["shares"],
        }
        fields = []
        for name, value in metrics.items():
            # demographic slices come first; only DEFAULT is the profile's own figure
            stats = [
                {"dimension_breakdown": "GENDER", "value": str(value * 11 // 20)},
                {"dimension_breakdown": "DEFAULT", "value": str(value)},
            ]
            fields.append({"field": {"field_name": name}, "stats": stats})
        timeseries.append({**_span(day), "fields": fields})
    return _envelope(f"assets/{account.account_id}/{days[-1]}", assets=[{"timeseries": timeseries}])


def _stats_lifetime(accounts: list[Account], day: date) -> dict[str, Any]:
    items = []
    for account in accounts:
        views = sum(p.counts_on(day)["views"] for p in account.posts_until(day))
        stats = {
            "SUBSCRIBERS": str(account.followers_by_day[day]),
            "VIEWS": str(views),
            "SPOTLIGHT_VIEWS": str(int(views * SPOTLIGHT_SHARE)),
        }
        stat = {"id": account.account_id, "granularity": "LIFETIME", "stats": stats}
        items.append({"sub_request_status": "SUCCESS", "lifetime_stat": stat})
    return _envelope(f"lifetime/{day}", lifetime_stats=items)


def _template(account: Account, world: World, out: Path) -> DemoFile:
    end = world.end
    rows = []
    for day in world.days[-TEMPLATE_DAYS:]:
        flows = account.daily_counts(day)
        gained, lost = account.follow_flows(day)
        spotlight = int(flows["views"] * SPOTLIGHT_SHARE)
        # favorites show only on some days in the app: left blank, not 0
        favorites = "" if day.day % 5 == 0 else str(flows["likes"])
        rows.append(
            [
                day.isoformat(),
                account.account_id,
                f"{account.followers_by_day[day]:,}",  # copied as the app shows it
                str(gained),
                str(lost),
                str(flows["views"] - spotlight),
                str(spotlight),
                str(flows["views"] * 7 // 10),
                str(flows["shares"]),
                favorites,
                str(flows["comments"]),
                str(flows["saves"] // 3),
            ]
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TEMPLATE_HEADER)
    writer.writerows(rows)
    path = out / PLATFORM / "insights" / f"{account.handle}_insights.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return DemoFile(path, PLATFORM, end, nightly_fetch(end))


def _span(day: date) -> dict[str, str]:
    def stamp(moment: date) -> str:
        return datetime.combine(moment, time()).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    return {"start_time": stamp(day), "end_time": stamp(day + timedelta(days=1))}


def _envelope(seed: str, **lists: list[dict[str, Any]]) -> dict[str, Any]:
    digits = stable_hex(seed, 32)
    request_id = "-".join((digits[:8], digits[8:12], digits[12:16], digits[16:20], digits[20:]))
    return {"request_status": "SUCCESS", "request_id": request_id, **lists}


def _profile_id(rng: random.Random, handle: str) -> str:
    hexdigits = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    return "-".join(
        (hexdigits[:8], hexdigits[8:12], hexdigits[12:16], hexdigits[16:20], hexdigits[20:])
    )


# story and spotlight ids are drawn like the world's default post ids (32 hex digits)
DEMO = DemoPlatform(write=write, order=40, presence=0.4, account_id=_profile_id)
