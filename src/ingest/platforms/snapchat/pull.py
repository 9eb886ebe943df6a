"""Snapchat's daily pull: each profile's public profile and its daily stats since the last pull."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, timedelta
from functools import partial

from ingest.errors import IngestError
from ingest.extract import Account, PullRun, single_page
from ingest.platforms.snapchat.api import MAX_WINDOW_DAYS, SnapchatClient

# a stats pull re-reads this many days before the last complete one (late revisions)
STATS_OVERLAP_DAYS = 2


def pull(run: PullRun, accounts: Sequence[Account]) -> None:
    """Profile and stats of every tracked profile id; stats end at the last whole UTC day."""
    options = run.options
    client = SnapchatClient(
        options.token, base_url=run.base_url, policy=options.policy, sleep=options.sleep
    )
    # stats end at the last whole UTC day: a window reaching into today would be incomplete
    yesterday = options.clock().astimezone(UTC).date() - timedelta(days=1)
    until = min(run.day, yesterday)
    with run.using(client):
        for account in accounts:
            if not account.account_id:
                run.fail(
                    account, IngestError("the Public Profile API needs the profile id (account_id)")
                )
                continue
            profile = account.account_id
            with run.account(account) as state:
                if state is None:
                    continue
                if "window" not in state.data:
                    earliest = until - timedelta(days=MAX_WINDOW_DAYS - 1)
                    start = run.lookback_start()
                    last = run.state.history(account).get("last_complete_day")
                    if last and last < run.day.isoformat():
                        # fetched through `last` already: only what is new, plus revisions
                        start = date.fromisoformat(last) - timedelta(days=STATS_OVERLAP_DAYS)
                    start = min(max(start, earliest), until)
                    state.data["window"] = {"from": start.isoformat(), "to": until.isoformat()}
                    state.save()
                window = state.data["window"]
                if run.may_ask("profile", "public_profiles"):
                    run.stream(
                        state,
                        "profile",
                        single_page(partial(client.fetch_profile, profile)),
                        account=profile,
                    )
                run.stream(
                    state,
                    "stats",
                    single_page(
                        partial(
                            client.fetch_stats,
                            profile,
                            since=date.fromisoformat(window["from"]),
                            until=date.fromisoformat(window["to"]),
                        )
                    ),
                    account=profile,
                )
