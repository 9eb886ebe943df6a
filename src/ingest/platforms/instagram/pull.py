"""Instagram's daily pull: each tracked creator's counts and recent media via business_discovery."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from pydantic import BaseModel, ConfigDict, Field

from ingest.errors import IngestError
from ingest.extract import Account, PullRun
from ingest.platforms.instagram.api import PAGE_SIZE, InstagramClient


class Options(BaseModel):
    """Instagram's own pull settings, each read from the variable its field names.

    Args:
        user_id: the IG user business_discovery is asked on; asked of ``/me`` when None.
    """

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True)

    user_id: str | None = Field(
        None,
        pattern=r"^[0-9]+$",
        validation_alias="INGEST_INSTAGRAM_USER_ID",
        description="the id of the Instagram professional account business_discovery is asked on",
        json_schema_extra={"default_text": "asked of `/me` with the token"},
    )


def pull(run: PullRun, accounts: Sequence[Account]) -> None:
    """business_discovery pages of every tracked creator, by username, back to the lookback."""
    options = run.options
    client = InstagramClient(
        options.token,
        base_url=run.base_url,
        ig_user_id=options.platform_options_as(Options).user_id,
        page_size=options.page_size or PAGE_SIZE,
        policy=options.policy,
        sleep=options.sleep,
    )
    with run.using(client):
        if not run.may_ask("business_discovery", "business_discovery"):
            return
        since = run.lookback_since()
        for account in accounts:
            if not account.handle:
                run.fail(
                    account, IngestError("business_discovery needs the account's username (handle)")
                )
                continue
            username = account.handle
            with run.account(account) as state:
                if state is None:
                    continue
                state.data.setdefault(
                    "window", {"from": since.date().isoformat(), "to": run.day.isoformat()}
                )
                run.stream(
                    state,
                    "business_discovery",
                    partial(client.fetch_business_discovery, username, since=since),
                    account=username,
                )
