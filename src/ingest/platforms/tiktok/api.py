"""TikTok API v2 clients: Research (any public creator) and Display (the token's own user)."""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ingest.client import ApiClient, check
from ingest.http import (
    Page,
    PaginationError,
    Reply,
    ResponseError,
    Resume,
    RetryPolicy,
    TransientError,
    Verdict,
    default_classify,
    retry_after,
)
from ingest.platforms.tiktok import PLATFORM
from ingest.pull_state import Account
from ingest.redaction import install_log_redaction
from ingest.tokens import Refreshed, TokenAccess, TokenInfo, oauth_classify, refreshed_from

log = logging.getLogger(__name__)
install_log_redaction(__name__)

RESEARCH_USER_FIELDS = (
    "display_name,bio_description,avatar_url,is_verified,follower_count,following_count,"
    "likes_count,video_count"
)
RESEARCH_VIDEO_FIELDS = (
    "id,video_description,create_time,region_code,share_count,view_count,like_count,"
    "comment_count,username,favourites_count,video_duration,hashtag_names"
)
DISPLAY_USER_FIELDS = (
    "open_id,union_id,avatar_url,display_name,bio_description,profile_deep_link,is_verified,"
    "username,follower_count,following_count,likes_count,video_count"
)
DISPLAY_VIDEO_FIELDS = (
    "id,create_time,title,video_description,duration,cover_image_url,share_url,like_count,"
    "comment_count,share_count,view_count"
)

RESEARCH_MAX_COUNT = 100
DISPLAY_MAX_COUNT = 20
# start_date and end_date of one video query may be at most this many days apart
MAX_WINDOW_DAYS = 30
# how often one query may be restarted after its search_id expired
MAX_RESTARTS = 3
MAX_PAGES = 1000
# TikTok usernames; the value goes into the query body and into our messages and file names
USERNAME = re.compile(r"[A-Za-z0-9._]{1,24}")
USERNAME_SHAPE = "letters, digits, '.' and '_', at most 24"


def check_account(account: Account) -> None:
    """Refuse a tracked account the pull cannot ask for: it asks by username (handle or id)."""
    field = "handle" if account.handle else "account_id"
    username = account.handle or account.account_id or ""
    check(PLATFORM, "username", username, USERNAME, USERNAME_SHAPE, field=field)


AUTH_CODES = frozenset({"access_token_invalid"})
THROTTLE_CODES = frozenset({"rate_limit_exceeded"})
QUOTA_MARKERS = ("quota",)


def classify(reply: Reply) -> Verdict:
    """v2 errors by ``error.code`` (present on every response, ``ok`` on success)."""
    error = reply.doc.get("error") if isinstance(reply.doc, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or "")
        message = str(error.get("message") or "no message")
        shown = f"HTTP {reply.status} {code}: {message}"
        if code == "ok" and 200 <= reply.status < 300:
            return Verdict("ok")
        if any(m in code.lower() for m in QUOTA_MARKERS):
            return Verdict("quota", shown + " (the daily quota resets at 00:00 UTC)", code)
        if code in AUTH_CODES or reply.status == 401:
            return Verdict("auth", shown, code)
        if code in THROTTLE_CODES or reply.status == 429:
            return Verdict("throttled", shown, code, retry_after(reply))
        if reply.status >= 500:
            return Verdict("retry", shown, code, retry_after(reply))
        return Verdict("fail", shown, code)
    if isinstance(error, str):
        # the OAuth endpoints answer {"error": "invalid_grant", "error_description": "..."}
        return Verdict("auth", f"{error}: {reply.doc.get('error_description') or ''}", error)
    return default_classify(reply)


def _query_classify(reply: Reply) -> Verdict:
    # a 500 on video/query is about the window: the client narrows it instead of repeating it
    verdict = classify(reply)
    if verdict.kind == "retry" and reply.status == 500:
        return Verdict("fail", verdict.reason, verdict.code or "internal_error")
    return verdict


def is_expired_search(exc: ResponseError) -> bool:
    """True for the 400 a Research query gets when its ``search_id`` has expired."""
    text = (exc.detail or "").lower()
    return exc.status == 400 and "search" in text and "expired" in text


def _day(value: date) -> str:
    return value.strftime("%Y%m%d")


def _parse_day(value: str) -> date:
    return datetime.strptime(value, "%Y%m%d").replace(tzinfo=UTC).date()


def windows(since: date, until: date) -> list[list[str]]:
    """``since``..``until`` cut into query windows of at most 30 days, newest first."""
    out: list[list[str]] = []
    end = until
    while end >= since:
        start = max(since, end - timedelta(days=MAX_WINDOW_DAYS - 1))
        out.append([_day(start), _day(end)])
        end = start - timedelta(days=1)
    return out


class ResearchClient(ApiClient):
    """Research API: any public creator's profile and videos, by username.

    Args:
        token: a client-credentials token (``clt.``…, valid two hours).
        base_url: replaces the API host.
        max_count: videos per page (at most 100).
        policy: retries and timeouts.
        sleep: how to wait between tries.
    """

    kind = "research"

    def __init__(
        self,
        token: str | None,
        *,
        base_url: str | None = None,
        max_count: int = RESEARCH_MAX_COUNT,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            PLATFORM, token, base_url=base_url, classify=classify, policy=policy, sleep=sleep
        )
        self.max_count = min(max_count, RESEARCH_MAX_COUNT)

    def fetch_user_info(self, username: str) -> Iterator[Page]:
        self.checked("username", username, USERNAME, USERNAME_SHAPE)
        reply = self.http.request(
            "POST",
            "v2/research/user/info/",
            params={"fields": RESEARCH_USER_FIELDS},
            json_body={"username": username},
            headers=self.bearer(),
        )
        yield Page.of(reply, "research_user_info", None)

    def fetch_videos(
        self, username: str, *, since: date, until: date, resume: Resume | None = None
    ) -> Iterator[Page]:
        """Video query pages, window by window (``cursor`` + ``search_id`` until ``has_more``).

        A 500 on a fresh query splits its window in two (wide windows fail most); a 500 on a
        one-day window or mid-query is tried again up to the policy's attempts. An expired
        ``search_id`` restarts the window's query from its first page.
        """
        self.checked("username", username, USERNAME, USERNAME_SHAPE)
        state: dict[str, Any] = dict(resume) if resume else {}
        pending: list[list[str]] = [list(w) for w in state.get("windows") or windows(since, until)]
        cursor = int(state.get("cursor") or 0)
        search_id: str | None = state.get("search_id")
        restarts = failures = 0
        rng = random.Random()
        for _ in range(MAX_PAGES):
            if not pending:
                return
            start, end = pending[0]
            body: dict[str, Any] = {
                "query": {
                    "and": [
                        {"operation": "IN", "field_name": "username", "field_values": [username]}
                    ]
                },
                "start_date": start,
                "end_date": end,
                "max_count": self.max_count,
            }
            if search_id:
                body.update(cursor=cursor, search_id=search_id)
            try:
                reply = self.http.request(
                    "POST",
                    "v2/research/video/query/",
                    params={"fields": RESEARCH_VIDEO_FIELDS},
                    json_body=body,
                    headers=self.bearer(),
                    classify=_query_classify,
                )
            except ResponseError as exc:
                if exc.status == 500:
                    first, last = _parse_day(start), _parse_day(end)
                    if not search_id and last > first:
                        middle = first + (last - first) // 2
                        log.warning(
                            "tiktok: video query %s..%s of %s failed (HTTP 500); narrowing it",
                            start,
                            end,
                            username,
                        )
                        newer = [_day(middle + timedelta(days=1)), end]
                        pending[0:1] = [newer, [start, _day(middle)]]
                        continue
                    failures += 1
                    if failures >= self.policy.max_attempts:
                        raise TransientError(
                            "tiktok",
                            f"video query {start}..{end} of {username!r} kept failing with"
                            f" HTTP 500 after {failures} attempts",
                            status=500,
                            code=exc.code,
                        ) from None
                    self.sleep(self.policy.backoff(failures, rng))
                    continue
                if is_expired_search(exc) and search_id:
                    restarts += 1
                    if restarts > MAX_RESTARTS:
                        raise
                    log.warning(
                        "tiktok: search_id of query %s..%s of %s expired; restarting the query",
                        start,
                        end,
                        username,
                    )
                    cursor, search_id = 0, None
                    continue
                raise
            failures = 0
            data = reply.doc.get("data") if isinstance(reply.doc, dict) else None
            data = data if isinstance(data, dict) else {}
            if data.get("has_more"):
                following = int(data.get("cursor") or 0)
                if search_id and following <= cursor:
                    raise PaginationError(
                        "tiktok", f"video query of {username!r} repeated cursor {following}"
                    )
                cursor, search_id = following, str(data.get("search_id") or search_id or "")
            else:
                pending.pop(0)
                cursor, search_id = 0, None
            resume_after = (
                {"windows": pending, "cursor": cursor, "search_id": search_id} if pending else None
            )
            yield Page.of(reply, "research_video_query", resume_after)
        raise PaginationError("tiktok", f"video query of {username!r} exceeded {MAX_PAGES} pages")


class DisplayClient(ApiClient):
    """Display API: the authorizing user's own profile and videos.

    Args:
        token: a user token (``act.``…) with user.info.* and video.list scopes.
        base_url: replaces the API host.
        max_count: videos per page (at most 20).
        policy: retries and timeouts.
        sleep: how to wait between tries.
    """

    kind = "display"

    def __init__(
        self,
        token: str | None,
        *,
        base_url: str | None = None,
        max_count: int = DISPLAY_MAX_COUNT,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            PLATFORM, token, base_url=base_url, classify=classify, policy=policy, sleep=sleep
        )
        self.max_count = min(max_count, DISPLAY_MAX_COUNT)

    def fetch_user_info(self, username: str) -> Iterator[Page]:
        self.checked("username", username, USERNAME, USERNAME_SHAPE)
        reply = self.http.request(
            "GET", "v2/user/info/", params={"fields": DISPLAY_USER_FIELDS}, headers=self.bearer()
        )
        user = (reply.doc.get("data") or {}).get("user") if isinstance(reply.doc, dict) else None
        owner = user.get("username") if isinstance(user, dict) else None
        if owner and owner.lstrip("@").lower() != username.lstrip("@").lower():
            raise ResponseError(
                "tiktok",
                f"the Display API token belongs to {owner!r}, not {username!r}: the Display API"
                " only reads the authorizing user; use a Research API token for other creators",
            )
        yield Page.of(reply, "display_user_info", None)

    def fetch_videos(
        self, username: str, *, since: date, until: date, resume: Resume | None = None
    ) -> Iterator[Page]:
        """video/list pages, newest first, until ``has_more`` is false or ``since`` is reached.

        ``cursor`` is a time in milliseconds; pages may be short while ``has_more`` holds.
        """
        self.checked("username", username, USERNAME, USERNAME_SHAPE)
        cursor: int | None = int(resume["cursor"]) if resume and "cursor" in resume else None
        if cursor is None:
            # videos posted after `until` belong to later days
            cursor = int(
                datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC).timestamp()
                * 1000
            )
        floor = datetime.combine(since, datetime.min.time(), UTC).timestamp()
        for _ in range(MAX_PAGES):
            reply = self.http.request(
                "POST",
                "v2/video/list/",
                params={"fields": DISPLAY_VIDEO_FIELDS},
                json_body={"max_count": self.max_count, "cursor": cursor},
                headers=self.bearer(),
            )
            data = reply.doc.get("data") if isinstance(reply.doc, dict) else None
            data = data if isinstance(data, dict) else {}
            times: list[int] = [
                int(v["create_time"])
                for v in data.get("videos") or []
                if isinstance(v, dict) and isinstance(v.get("create_time"), int)
            ]
            following = data.get("cursor")
            done = not data.get("has_more") or (bool(times) and min(times) < floor)
            if not done and (not isinstance(following, int) or following >= cursor):
                raise PaginationError(
                    "tiktok", f"video/list of {username!r} did not move its cursor ({following})"
                )
            yield Page.of(reply, "display_video_list", None if done else {"cursor": following})
            if done:
                return
            cursor = int(following) if isinstance(following, int) else cursor
        raise PaginationError("tiktok", f"video/list of {username!r} exceeded {MAX_PAGES} pages")


def client_for(
    token: str | None,
    *,
    api: str | None = None,
    base_url: str | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ResearchClient | DisplayClient:
    """The client a token is for: ``act.`` user tokens read the Display API, others Research."""
    chosen = api or ("display" if token and token.startswith("act.") else "research")
    if chosen == "display":
        return DisplayClient(token, base_url=base_url, policy=policy, sleep=sleep)
    if chosen == "research":
        return ResearchClient(token, base_url=base_url, policy=policy, sleep=sleep)
    raise ValueError(f"unknown TikTok API {api!r}: expected 'research' or 'display'")


# ---- token lifecycle

REFRESH_TOKEN_ENV = "INGEST_TIKTOK_REFRESH_TOKEN"
CLIENT_KEY_ENV = "INGEST_TIKTOK_CLIENT_KEY"
CLIENT_SECRET_ENV = "INGEST_TIKTOK_CLIENT_SECRET"
OAUTH_PATH = "v2/oauth/token/"


class Credentials(BaseModel):
    """What renewing a TikTok token takes, each read from the variable its field names."""

    model_config = ConfigDict(frozen=True, validate_by_name=True, validate_by_alias=True)

    refresh_token: SecretStr | None = Field(
        None,
        validation_alias=REFRESH_TOKEN_ENV,
        description="the refresh token of the user's authorisation (Display API): with the"
        " client key and secret, a new access token is fetched at every pull",
        json_schema_extra={"default_text": "none (no refresh)"},
    )
    client_key: str | None = Field(
        None,
        validation_alias=CLIENT_KEY_ENV,
        description="the app's client key: with the secret alone, a Research API token is"
        " fetched at every pull",
        json_schema_extra={"default_text": "none (no refresh)"},
    )
    client_secret: SecretStr | None = Field(
        None,
        validation_alias=CLIENT_SECRET_ENV,
        description="the app's client secret, for fetching or refreshing tokens",
        json_schema_extra={"default_text": "none (no refresh)"},
    )


class TikTokTokens:
    """TikTok's token facts: short-lived access tokens, renewed from the app's credentials.

    A Display API user token (``act.``) lasts a day (newer apps: 2 hours) and is refreshed
    with the user's refresh token (``grant_type=refresh_token``); the response gives the new
    token's ``expires_in`` and the refresh token's ``refresh_expires_in`` (365 days, newer
    apps 180), and may carry a new refresh token that replaces the one sent. A Research API
    token (``clt.``, 2 hours) comes from the client key and secret alone
    (``grant_type=client_credentials``). TikTok has no endpoint that tells a token's expiry,
    so a configured refresh gets a fresh token at the start of every pull.
    """

    credentials: type[BaseModel] | None = Credentials
    refresh_env: str | None = REFRESH_TOKEN_ENV

    def _client(self, access: TokenAccess) -> tuple[str, str] | None:
        given = access.credentials_as(Credentials)
        secret = given.client_secret.get_secret_value() if given.client_secret else ""
        return (given.client_key, secret) if given.client_key and secret else None

    def _research(self, access: TokenAccess) -> bool:
        # the pull's own setting (INGEST_TIKTOK_API, its Options.api) wins over the prefix;
        # read by name, as the pull module imports this one
        chosen = getattr(access.options, "api", None)
        if chosen is not None:
            return bool(chosen == "research")
        return not (access.token or "").startswith("act.")

    def can_refresh(self, access: TokenAccess) -> bool:
        if self._client(access) is None:
            return False
        return bool(access.refresh_token) or self._research(access)

    def inspect(self, access: TokenAccess) -> TokenInfo | None:
        return None

    def refresh(self, access: TokenAccess) -> Refreshed:
        credentials = self._client(access)
        if credentials is None:
            raise ResponseError(
                "tiktok", f"set {CLIENT_KEY_ENV} and {CLIENT_SECRET_ENV} to refresh tokens"
            )
        key, secret = credentials
        form = {"client_key": key, "client_secret": secret}
        if access.refresh_token:
            form |= {"grant_type": "refresh_token", "refresh_token": access.refresh_token}
        else:
            form |= {"grant_type": "client_credentials"}
        client = ApiClient(
            PLATFORM,
            access.refresh_token or secret,
            base_url=access.base_url,
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
        return refreshed_from(reply, "tiktok", access.now)


TOKENS = TikTokTokens()
