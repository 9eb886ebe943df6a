"""Snapchat Public Profile API client: profiles and their daily stats (90-day window)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ingest.client import ApiClient, InvalidAccountError, check
from ingest.http import (
    Page,
    Reply,
    ResponseError,
    RetryPolicy,
    Verdict,
    default_classify,
    retry_after,
)
from ingest.platforms.snapchat import PLATFORM
from ingest.pull_state import Account
from ingest.redaction import install_log_redaction
from ingest.tokens import Refreshed, TokenAccess, TokenInfo, oauth_classify, refreshed_from

log = logging.getLogger(__name__)
install_log_redaction(__name__)

# stats windows must lie within the past 90 days
MAX_WINDOW_DAYS = 90
# profile ids (UUIDs); the value goes into the request path and our file names
PROFILE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
PROFILE_ID_SHAPE = "letters, digits, '-' and '_', at most 64"


def check_account(account: Account) -> None:
    """Refuse a tracked profile the pull cannot ask for: the Public Profile API needs its id."""
    if not account.account_id:
        raise InvalidAccountError(
            f"Snapchat account {account.key!r} has no profile id (account_id):"
            " the Public Profile API asks by id",
            field="account_id",
        )
    check(
        PLATFORM, "profile id", account.account_id, PROFILE_ID, PROFILE_ID_SHAPE, field="account_id"
    )


STAT_FIELDS = ("SUBSCRIBERS", "VIEWS", "SHARES")


def classify(reply: Reply) -> Verdict:
    """Snap's Marketing API envelope: HTTP 429 throttles, 401 is the token, 5xx is worth a retry."""
    doc = reply.doc if isinstance(reply.doc, dict) else {}
    status = doc.get("request_status")
    message = doc.get("debug_message") or doc.get("display_message") or ""
    shown = f"HTTP {reply.status} {status or ''} {message}".strip()
    if 200 <= reply.status < 300:
        if status not in (None, "SUCCESS", "success"):
            return Verdict("fail", shown, str(status))
        return default_classify(reply)
    if reply.status == 429:
        return Verdict("throttled", shown, "429", retry_after(reply))
    if reply.status == 401:
        return Verdict("auth", shown, "401")
    if reply.status >= 500:
        return Verdict("retry", shown, str(reply.status), retry_after(reply))
    return Verdict("fail", shown, str(status or reply.status))


def _instant(day: date) -> str:
    return datetime.combine(day, clock_time(), UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class SnapchatClient(ApiClient):
    """Live Public Profile API client.

    Args:
        token: an OAuth access token (sent as ``Authorization: Bearer``).
        base_url: replaces the Business API host.
        fields: the stats metrics to ask for.
        policy: retries and timeouts.
        sleep: how to wait between tries.
    """

    def __init__(
        self,
        token: str | None,
        *,
        base_url: str | None = None,
        fields: tuple[str, ...] = STAT_FIELDS,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            PLATFORM, token, base_url=base_url, classify=classify, policy=policy, sleep=sleep
        )
        self.fields = fields

    def _get(self, path: str, params: dict[str, str] | None = None) -> Reply:
        return self.http.request("GET", path, params=params, headers=self.bearer())

    def fetch_profile(self, profile_id: str) -> Iterator[Page]:
        self.checked("profile id", profile_id, PROFILE_ID, PROFILE_ID_SHAPE)
        reply = self._get(f"public/v1/public_profiles/{quote(profile_id, safe='')}")
        yield Page.of(reply, "public_profiles", None)

    def fetch_stats(self, profile_id: str, *, since: date, until: date) -> Iterator[Page]:
        """One stats page (``granularity=DAY``); ``endTime`` is the midnight after ``until``.

        Raises:
            ResponseError: the window is empty or longer than Snap's 90 days.
        """
        self.checked("profile id", profile_id, PROFILE_ID, PROFILE_ID_SHAPE)
        days = (until - since).days + 1
        if days < 1 or days > MAX_WINDOW_DAYS:
            raise ResponseError(
                "snapchat",
                f"a stats window must cover 1 to {MAX_WINDOW_DAYS} days, not {days}"
                f" ({since}..{until})",
            )
        params = {
            "assetType": "PROFILE",
            "granularity": "DAY",
            "fields": ",".join(self.fields),
            "startTime": _instant(since),
            "endTime": _instant(until + timedelta(days=1)),
        }
        reply = self._get(f"v1/public_profiles/{quote(profile_id, safe='')}/stats", params)
        yield Page.of(reply, "profile_stats", None)


# ---- token lifecycle

REFRESH_TOKEN_ENV = "INGEST_SNAPCHAT_REFRESH_TOKEN"
OAUTH_HOST = "https://accounts.snapchat.com"
OAUTH_PATH = "login/oauth2/access_token"


class Credentials(BaseModel):
    """What refreshing a Snapchat token takes, each read from the variable its field names."""

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True)

    refresh_token: SecretStr | None = Field(
        None,
        validation_alias=REFRESH_TOKEN_ENV,
        description="the refresh token of the OAuth app's authorisation: with the client id and"
        " secret, a new access token is fetched at every pull",
        json_schema_extra={"default_text": "none (no refresh)"},
    )
    client_id: str | None = Field(
        None,
        validation_alias="INGEST_SNAPCHAT_CLIENT_ID",
        description="the OAuth app's client id, for refreshing the token",
        json_schema_extra={"default_text": "none (no refresh)"},
    )
    client_secret: SecretStr | None = Field(
        None,
        validation_alias="INGEST_SNAPCHAT_CLIENT_SECRET",
        description="the OAuth app's client secret, for refreshing the token",
        json_schema_extra={"default_text": "none (no refresh)"},
    )


class SnapchatTokens:
    """Snapchat's token facts: 30-minute access tokens, refreshed with the OAuth app.

    Snap's OAuth (``accounts.snapchat.com``) refreshes an access token with the refresh
    token and the app's client id and secret (``grant_type=refresh_token``); the response
    gives ``expires_in`` (1800 s) and a refresh token, kept when it differs from the one sent.
    There is no endpoint that tells a token's expiry, so a configured refresh gets a fresh
    token at the start of every pull. A base URL given for tests replaces the OAuth host too.
    """

    credentials: type[BaseModel] | None = Credentials
    refresh_env: str | None = REFRESH_TOKEN_ENV

    def _client(self, access: TokenAccess) -> tuple[str, str] | None:
        given = access.credentials_as(Credentials)
        secret = given.client_secret.get_secret_value() if given.client_secret else ""
        return (given.client_id, secret) if given.client_id and secret else None

    def can_refresh(self, access: TokenAccess) -> bool:
        return bool(access.refresh_token and self._client(access))

    def inspect(self, access: TokenAccess) -> TokenInfo | None:
        return None

    def refresh(self, access: TokenAccess) -> Refreshed:
        client_id, client_secret = self._client(access) or ("", "")
        form = {
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": access.refresh_token or "",
        }
        client = ApiClient(
            PLATFORM,
            access.refresh_token,
            base_url=access.base_url or OAUTH_HOST,
            classify=oauth_classify,
            policy=access.policy,
            sleep=access.sleep,
        )
        with client:
            reply = client.http.request(
                "POST",
                OAUTH_PATH,
                form=form,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        return refreshed_from(reply, "snapchat", access.now)


TOKENS = SnapchatTokens()
