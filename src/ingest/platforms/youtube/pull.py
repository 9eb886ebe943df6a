"""YouTube's daily pull: channels, their uploads playlists and video statistics, within a budget."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ingest.errors import IngestError
from ingest.extract import PLATFORM_STOPS, Account, AccountState, PullRun, single_page
from ingest.http import Page
from ingest.platforms.youtube import CHANNEL_ID, PLATFORM, api
from ingest.pull_state import STATE_DIR, QuotaUse
from ingest.settings import read_platform

# the day's spent units, beside the pull state (``<landing>/_state/youtube/``)
QUOTA_FILE = "_quota.json"


class Options(BaseModel):
    """YouTube's own pull settings, each read from the variable its field names.

    Args:
        quota_units: the Data API daily unit budget.
    """

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True)

    quota_units: int = Field(
        api.DAILY_UNITS,
        ge=1,
        validation_alias="INGEST_YOUTUBE_QUOTA_UNITS",
        description="the Data API units a day's pulls may spend (the project's daily quota)",
    )


def quota_use(landing: Path, now: datetime) -> QuotaUse | None:
    """The Data API units the pulls spent on the current quota day (``ingest status``)."""
    path = landing / STATE_DIR / PLATFORM.name / QUOTA_FILE
    if not path.is_file():
        return None
    options = read_platform(PLATFORM).options()
    units = options.quota_units if isinstance(options, Options) else api.DAILY_UNITS
    day, used, exhausted = api.QuotaBudget(path, units, lambda: now).usage()
    return QuotaUse(PLATFORM.name, day, used, units, "units", exhausted, api.next_reset(now))


def pull(run: PullRun, accounts: Sequence[Account]) -> None:
    """Channels of the tracked ids and handles, then their recent uploads and videos."""
    options = run.options
    # every Data API endpoint reports current state; a past day has nothing to ask
    asked = [
        run.may_ask(stream, format)
        for stream, format in (
            ("channels", "channels_list"),
            ("uploads", "playlist_items"),
            ("videos", "videos_list"),
        )
    ]
    if not all(asked):
        return
    units = options.platform_options_as(Options).quota_units
    budget = api.QuotaBudget(run.state.root / QUOTA_FILE, units, options.clock)
    client = api.YouTubeClient(
        options.token,
        base_url=run.base_url,
        budget=budget,
        page_size=options.page_size or api.PAGE_SIZE,
        policy=options.policy,
        sleep=options.sleep,
    )
    since = run.lookback_since()
    with run.using(client):
        _channels(run, client, accounts)
        for account in accounts:
            with run.account(account) as state:
                if state is None:
                    continue
                state.data.setdefault(
                    "window", {"from": since.date().isoformat(), "to": run.day.isoformat()}
                )
                if account.account_id:
                    client.channel_id(account.account_id)
                if account.handle and not account.account_id:
                    _handle(run, client, state, account)
                if state.data.get("missing"):
                    run.warn(f"{account.key}: no such channel; nothing to pull")
                    continue
                channel = state.data.get("channel_id") or account.account_id
                playlist = state.data.get("uploads")
                if playlist:

                    def collect(page: Page, st: AccountState = state) -> None:
                        known = st.data.setdefault("video_ids", [])
                        known.extend(v for v in api.video_ids(page.doc) if v not in known)

                    run.stream(
                        state,
                        "uploads",
                        partial(client.fetch_uploads, playlist, since=since),
                        account=channel,
                        on_page=collect,
                    )
                ids = list(state.data.get("video_ids", []))
                if ids:
                    run.stream(
                        state,
                        "videos",
                        partial(client.fetch_videos, ids),
                        account=channel,
                    )


def _channels(run: PullRun, client: api.YouTubeClient, accounts: Sequence[Account]) -> None:
    """channels.list for every tracked id not done yet, 50 a call; records uploads playlists.

    An id that is no channel id is left out of the batches; its account fails on its own.
    """
    by_id = {
        a.account_id: a
        for a in accounts
        if a.account_id is not None
        and CHANNEL_ID.fullmatch(a.account_id)
        and not run.state.account(a).complete
        and not run.state.account(a).stream("channel")["done"]
    }
    if not by_id:
        return
    try:
        for number, page in enumerate(client.fetch_channels(list(by_id)), start=1):
            run.land(page, account=None, stream="channels", number=number)
            found = {item["id"]: item for item in api.channel_items(page.doc)}
            asked = str((page.request.get("params") or {}).get("id", "")).split(",")
            for channel_id in asked:
                if channel_id not in by_id:
                    continue
                state = run.state.account(by_id[channel_id])
                item = found.get(channel_id)
                state.data["uploads"] = api.uploads_playlist(item) if item else None
                state.data["missing"] = item is None
                state.stream("channel").update(pages=1, done=True)
                state.save()
    except PLATFORM_STOPS as exc:
        run.stop(None, exc)
    except IngestError as exc:
        run.fail(None, exc)


def _handle(run: PullRun, client: api.YouTubeClient, state: AccountState, account: Account) -> None:
    def resolve(page: Page) -> None:
        items = api.channel_items(page.doc)
        state.data["missing"] = not items
        if items:
            state.data["channel_id"] = items[0]["id"]
            state.data["uploads"] = api.uploads_playlist(items[0])

    run.stream(
        state,
        "channel",
        single_page(partial(client.fetch_channel_by_handle, account.handle or "")),
        account=None,
        on_page=resolve,
    )
