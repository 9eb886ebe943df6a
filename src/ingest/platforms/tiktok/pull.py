"""TikTok's daily pull: each creator's user info and recent videos (Research or Display API)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import partial
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ingest.extract import Account, PullRun, single_page
from ingest.platforms.tiktok.api import DisplayClient, client_for


class Options(BaseModel):
    """TikTok's own pull settings, each read from the variable its field names.

    Args:
        api: ``research`` or ``display``; from the token's prefix when None.
    """

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True)

    api: Literal["research", "display"] | None = Field(
        None,
        validation_alias="INGEST_TIKTOK_API",
        description="which TikTok API the token is for",
        json_schema_extra={"default_text": "from the token: `act.` Display, others Research"},
    )


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
