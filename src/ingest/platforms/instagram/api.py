"""Instagram Graph API client: tracked creators' public counts and media via business_discovery."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ingest.client import ApiClient, InvalidAccountError, check
from ingest.http import (
    Page,
    PaginationError,
    Reply,
    ResponseError,
    Resume,
    RetryPolicy,
    Verdict,
    default_classify,
    retry_after,
)
from ingest.platforms.instagram import PLATFORM
from ingest.pull_state import Account
from ingest.redaction import install_log_redaction, register_secret
from ingest.tokens import SOURCE_DEBUG, Refreshed, TokenAccess, TokenInfo, stamp

log = logging.getLogger(__name__)
install_log_redaction(__name__)

API_VERSION = "v21.0"

# error.code values that mean "slow down", whatever the HTTP status says (often 400 or 403)
THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, 80002})
# expired, revoked or invalid tokens
AUTH_CODES = frozenset({102, 190, 463, 467})
# a usage header at or above this percentage is worth a warning
USAGE_WARNING = 90

ACCOUNT_FIELDS = "id,username,name,followers_count,follows_count,media_count"
MEDIA_FIELDS = (
    "id,caption,media_type,media_product_type,timestamp,like_count,comments_count,permalink"
)
PAGE_SIZE = 25
MAX_PAGES = 200
# Instagram usernames; anything else would rewrite the business_discovery field expression
USERNAME = re.compile(r"[A-Za-z0-9._]{1,30}")
USERNAME_SHAPE = "letters, digits, '.' and '_', at most 30"


def check_account(account: Account) -> None:
    """Refuse a tracked account the pull cannot ask for: business_discovery needs a username."""
    if not account.handle:
        raise InvalidAccountError(
            f"Instagram account {account.key!r} has no username (handle):"
            " business_discovery asks by username",
            field="handle",
        )
    check(PLATFORM, "username", account.handle, USERNAME, USERNAME_SHAPE, field="handle")


def classify(reply: Reply) -> Verdict:
    """Graph API errors by ``error.code``: throttling comes as 400/403 with code 4/17/32/613."""
    error = reply.doc.get("error") if isinstance(reply.doc, dict) else None
    if not isinstance(error, dict):
        return default_classify(reply)
    code = error.get("code")
    number = int(code) if isinstance(code, int | str) and str(code).isdigit() else None
    message = str(error.get("message") or "no message")
    shown = f"Graph API error {code}: {message}"
    if number in THROTTLE_CODES:
        wait = regain_seconds(reply.headers)
        return Verdict("throttled", shown, str(code), wait if wait else retry_after(reply))
    if number in AUTH_CODES or (error.get("type") == "OAuthException" and reply.status == 401):
        return Verdict("auth", shown, str(code))
    if error.get("is_transient") is True or reply.status >= 500:
        return Verdict("retry", shown, str(code), retry_after(reply))
    return Verdict("fail", shown, str(code))


def regain_seconds(headers: dict[str, str] | Any) -> float | None:
    """``estimated_time_to_regain_access`` of the BUC usage header (minutes), in seconds."""
    usage = _usage(headers, "x-business-use-case-usage")
    minutes = [
        entry.get("estimated_time_to_regain_access")
        for entries in (usage.values() if isinstance(usage, dict) else [])
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, dict)
    ]
    waits = [float(m) * 60 for m in minutes if isinstance(m, int | float) and m > 0]
    return max(waits) if waits else None


def usage_percent(headers: dict[str, str] | Any) -> int:
    """The highest usage percentage the usage headers report (0 when they are absent)."""
    values: list[Any] = []
    app = _usage(headers, "x-app-usage")
    if isinstance(app, dict):
        values.extend(app.values())
    buc = _usage(headers, "x-business-use-case-usage")
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    values.extend(
                        entry.get(k) for k in ("call_count", "total_cputime", "total_time")
                    )
    numbers = [int(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    return max(numbers, default=0)


def _usage(headers: Any, name: str) -> Any:
    raw = next((v for k, v in dict(headers).items() if k.lower() == name), None)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return None


class InstagramClient(ApiClient):
    """Live Graph API client over the shared HTTP layer.

    Args:
        token: a user access token (long-lived tokens last 60 days).
        base_url: replaces the Graph API host (tests, mirrors).
        ig_user_id: the token owner's IG professional account id; asked of ``/me`` when None.
        version: Graph API version path segment.
        page_size: media per page (``limit``).
        policy: retries and timeouts.
        sleep: how to wait between tries.
    """

    def __init__(
        self,
        token: str | None,
        *,
        base_url: str | None = None,
        ig_user_id: str | None = None,
        version: str = API_VERSION,
        page_size: int = PAGE_SIZE,
        max_pages: int = MAX_PAGES,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            PLATFORM, token, base_url=base_url, classify=classify, policy=policy, sleep=sleep
        )
        self.version = version
        self.page_size = page_size
        self.max_pages = max_pages
        self._ig_user_id = ig_user_id

    def _get(self, path: str, params: dict[str, str]) -> Reply:
        reply = self.http.request(
            "GET", f"{self.version}/{path}", params=params, headers=self.bearer()
        )
        used = usage_percent(reply.headers)
        if used >= USAGE_WARNING:
            log.warning("instagram: API usage at %d%% of the allowed rate", used)
        return reply

    def user_id(self) -> str:
        """The IG user id business_discovery requests are made on."""
        if self._ig_user_id is None:
            doc = self._get("me", {"fields": "id"}).doc
            found = doc.get("id") if isinstance(doc, dict) else None
            if not isinstance(found, str | int):
                raise ResponseError("instagram", "/me did not return an id")
            self._ig_user_id = str(found)
        return self._ig_user_id

    def fetch_business_discovery(
        self, username: str, *, since: datetime | None = None, resume: Resume | None = None
    ) -> Iterator[Page]:
        """Pages of ``business_discovery`` for one creator, media newest first.

        Paging follows ``media.paging.cursors.after`` and ends only when ``paging.next`` is
        absent (pages can be short or empty before that), or once a page reaches media older
        than ``since``. The first page carries the account's counts; later pages only media.

        Raises:
            PaginationError: a cursor came back that was already used.
        """
        self.checked("username", username, USERNAME, USERNAME_SHAPE)
        after: str | None = resume.get("after") if resume else None
        used: set[str] = set(resume.get("used", [])) if resume else set()
        for _ in range(self.max_pages):
            media = f"media.limit({self.page_size})"
            if after:
                media = f"media.after({after}).limit({self.page_size})"
            head = ACCOUNT_FIELDS if after is None else "id,username"
            fields = f"business_discovery.username({username}){{{head},{media}{{{MEDIA_FIELDS}}}}}"
            reply = self._get(self.user_id(), {"fields": fields})
            node = reply.doc.get("business_discovery") if isinstance(reply.doc, dict) else None
            if not isinstance(node, dict):
                raise ResponseError(
                    "instagram", f"no business_discovery for {username!r} in the response"
                )
            paging = (node.get("media") or {}).get("paging") or {}
            cursor = (paging.get("cursors") or {}).get("after")
            done = not paging.get("next") or not cursor or _reached(node, since)
            if not done and (cursor == after or cursor in used):
                raise PaginationError(
                    "instagram", f"business_discovery of {username!r} repeated cursor {cursor!r}"
                )
            if after:
                used.add(after)
            yield Page.of(
                reply,
                "business_discovery",
                None if done else {"after": cursor, "used": sorted(used)},
            )
            if done:
                return
            after = cursor
        raise PaginationError(
            "instagram", f"business_discovery of {username!r} exceeded {self.max_pages} pages"
        )


def _reached(node: dict[str, Any], since: datetime | None) -> bool:
    """True when the page's media go back past ``since`` (media come newest first)."""
    if since is None:
        return False
    data = (node.get("media") or {}).get("data") or []
    stamps = [_timestamp(item.get("timestamp")) for item in data if isinstance(item, dict)]
    known = [s for s in stamps if s is not None]
    return bool(known) and min(known) < since


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None


# ---- token lifecycle


class Credentials(BaseModel):
    """The Meta app that asks ``debug_token``, each read from the variable its field names."""

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True)

    app_id: str | None = Field(
        None,
        pattern=r"^[0-9]+$",
        validation_alias="INGEST_INSTAGRAM_APP_ID",
        description="the Meta app's id: with its secret, the token's expiry is asked with the"
        " app token",
        json_schema_extra={"default_text": "none (asked with the token itself)"},
    )
    app_secret: SecretStr | None = Field(
        None,
        validation_alias="INGEST_INSTAGRAM_APP_SECRET",
        description="the Meta app's secret, for asking the token's expiry",
        json_schema_extra={"default_text": "none (asked with the token itself)"},
    )


class InstagramTokens:
    """Instagram's token facts: ``debug_token`` tells a user token's expiry; no refresh.

    Long-lived user tokens last about 60 days and cannot be extended from a server: a new one
    comes from a new login (see ``PLATFORM.renew_hint``). ``debug_token`` is asked with the
    app token (``app id|app secret``) when ``INGEST_INSTAGRAM_APP_ID`` and
    ``INGEST_INSTAGRAM_APP_SECRET`` are set, else with the token itself (which works for a
    token of one of the app's developers). Of ``expires_at`` and ``data_access_expires_at``
    the earlier counts: after either, the pull's requests fail.
    """

    credentials: type[BaseModel] | None = Credentials
    refresh_env: str | None = None

    def can_refresh(self, access: TokenAccess) -> bool:
        return False

    def refresh(self, access: TokenAccess) -> Refreshed:
        raise ResponseError("instagram", "Instagram user tokens cannot be refreshed here")

    def inspect(self, access: TokenAccess) -> TokenInfo | None:
        given = access.credentials_as(Credentials)
        app_id = given.app_id or ""
        app_secret = given.app_secret.get_secret_value() if given.app_secret else ""
        asker = f"{app_id}|{app_secret}" if app_id and app_secret else access.token
        register_secret(asker)
        client = ApiClient(
            PLATFORM,
            access.token,
            base_url=access.base_url,
            classify=classify,
            policy=access.policy,
            sleep=access.sleep,
        )
        with client:
            reply = client.http.request(
                "GET",
                f"{API_VERSION}/debug_token",
                params={"input_token": client.credential.require()},
                headers={"Authorization": f"Bearer {asker}"},
            )
        data = reply.doc.get("data") if isinstance(reply.doc, dict) else None
        if not isinstance(data, dict):
            return None
        stamps = (stamp(data.get("expires_at")), stamp(data.get("data_access_expires_at")))
        ends = [t for t in stamps if t is not None]
        found = data.get("error")
        error: dict[str, Any] = found if isinstance(found, dict) else {}
        kind = str(data.get("type") or "token").lower()
        return TokenInfo(
            expires_at=min(ends) if ends else None,
            source=SOURCE_DEBUG,
            valid=data.get("is_valid") is True,
            # expires_at 0 is a token that does not expire (a system user's)
            never_expires=not ends and data.get("is_valid") is True,
            detail=str(error.get("message") or f"{kind} token"),
        )


TOKENS = InstagramTokens()
