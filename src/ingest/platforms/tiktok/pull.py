"""TikTok's daily pull: each creator's user info and recent videos (Research or Display API)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial

from ingest.extract import Account, PullRun, single_page
from ingest.platforms.tiktok.api import DisplayClient, client_for


@dataclass(frozen=True)
class Options:
    """TikTok's own pull settings.

    Args:
        api: ``research`` or ``display``; from the token's prefix when None
            (``INGEST_TIKTOK_API``).
    """

    api: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Options:
        return cls(api=environ.get("INGEST_TIKTOK_API") or None)


def pull(run: PullRun, accounts: Sequence[Account]) -> None:
    """User info and videos of every tracked creator over the lookback window."""
    options = run.options
    client = client_for(
        options.token,
        api=options.platform_options_as(Options).api,
        base_url=run.base_url,
        policy=options.policy,
        sleep=options.sleep,
    )
    since = run.lookback_start()
    display = isinstance(client, DisplayClient)
    videos = "display_video_list" if display else "research_video_query"
    user_info = "display_user_info" if display else "research_user_info"
    with run.using(client):
        asked = [run.may_ask("user_info", user_info), run.may_ask("videos", videos)]
        if not all(asked):
            return
        for account in accounts:
            username = account.handle or account.account_id or ""
            with run.account(account) as state:
                if state is None:
                    continue
                window = state.data.setdefault(
                    "window", {"from": since.isoformat(), "to": run.day.isoformat()}
                )
                start, end = date.fromisoformat(window["from"]), date.fromisoformat(window["to"])
                run.stream(
                    state,
                    "user_info",
                    single_page(partial(client.fetch_user_info, username)),
                    account=username,
                )
                run.stream(
                    state,
                    "videos",
                    partial(client.fetch_videos, username, since=start, until=end),
                    account=username,
                )
