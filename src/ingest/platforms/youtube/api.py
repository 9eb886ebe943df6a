"""YouTube Data API v3 client: channels, uploads and video statistics within a unit budget."""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from ingest.client import ApiClient, check
from ingest.http import (
    Page,
    PaginationError,
    QuotaExhaustedError,
    Reply,
    ResponseError,
    Resume,
    RetryPolicy,
    Verdict,
    default_classify,
    retry_after,
)
from ingest.platforms.youtube import CHANNEL_ID, PLATFORM
from ingest.pull_state import Account
from ingest.redaction import install_log_redaction
from ingest.tokens import SOURCE_DECLARED, Refreshed, TokenAccess, TokenInfo

log = logging.getLogger(__name__)
install_log_redaction(__name__)

PREFIX = "youtube/v3"

# ids per channels.list / videos.list call, items per playlistItems page
MAX_IDS = 50
PAGE_SIZE = 50
MAX_PAGES = 500
CHANNEL_ID_SHAPE = "UC and 22 letters, digits, '-' or '_'"
# handles: 3 to 30 letters (any script), digits, '_', '-', '.' or '·', after an optional '@'
HANDLE = re.compile(r"@?[\w.·-]{3,30}")
HANDLE_SHAPE = "3 to 30 letters, digits, '_', '-', '.' or '·'"


def check_account(account: Account) -> None:
    """Refuse a tracked channel the pull cannot ask for: its id when given, else its handle."""
    if account.account_id:
        check(
            PLATFORM,
            "channel id",
            account.account_id,
            CHANNEL_ID,
            CHANNEL_ID_SHAPE,
            field="account_id",
        )
    else:
        check(PLATFORM, "handle", account.handle or "", HANDLE, HANDLE_SHAPE, field="handle")


DAILY_UNITS = 10_000
# channels.list, playlistItems.list and videos.list each cost one unit a call
UNIT_COST = 1
QUOTA_TIMEZONE = ZoneInfo("America/Los_Angeles")

QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded", "dailyLimitExceededUnreg"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
AUTH_REASONS = frozenset({"keyInvalid", "keyExpired", "API_KEY_INVALID", "authError"})

CHANNEL_PARTS = "snippet,statistics,contentDetails"
PLAYLIST_PARTS = "snippet,contentDetails"
VIDEO_PARTS = "snippet,statistics,contentDetails"


def next_reset(now: datetime) -> datetime:
    """When the daily quota resets: the next midnight in Pacific time, as UTC."""
    local = now.astimezone(QUOTA_TIMEZONE)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time())
    return midnight.replace(tzinfo=QUOTA_TIMEZONE).astimezone(UTC)


class QuotaBudget:
    """Units spent on the current quota day (a Pacific day), kept in a small JSON file.

    Every call, even a failed one, costs its units; the budget refuses a call that would go
    past ``units`` and, after a ``quotaExceeded``, every call until the next Pacific midnight.

    Args:
        path: where usage is kept between runs; in memory only when None.
        units: the daily allocation.
        clock: the current time (tests move it forward).
    """

    def __init__(
        self,
        path: Path | None = None,
        units: int = DAILY_UNITS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.path = path
        self.units = units
        self.clock = clock
        self._state: dict[str, Any] = self._load()

    def _quota_day(self) -> str:
        return self.clock().astimezone(QUOTA_TIMEZONE).date().isoformat()

    def _load(self) -> dict[str, Any]:
        if self.path is not None and self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                return data
        return {}

    def _current(self) -> dict[str, Any]:
        today = self._quota_day()
        if self._state.get("quota_day") != today:
            self._state = {"quota_day": today, "used": 0, "exhausted": False}
        return self._state

    @property
    def used(self) -> int:
        return int(self._current()["used"])

    def usage(self) -> tuple[str, int, bool]:
        """The current quota day (Pacific), the units spent on it, whether it is exhausted."""
        state = self._current()
        return str(state["quota_day"]), int(state["used"]), bool(state.get("exhausted"))

    def spend(self, cost: int = UNIT_COST) -> None:
        """Take ``cost`` units for one call, or raise QuotaExhaustedError without calling."""
        state = self._current()
        resets = next_reset(self.clock())
        if state.get("exhausted"):
            raise QuotaExhaustedError(
                "youtube",
                f"the daily quota is exhausted until {resets.isoformat()} (midnight Pacific)",
                resets_at=resets,
            )
        if state["used"] + cost > self.units:
            raise QuotaExhaustedError(
                "youtube",
                f"the budget of {self.units} units for today is spent ({state['used']} used);"
                f" it resets at {resets.isoformat()} (midnight Pacific)",
                resets_at=resets,
            )
        state["used"] += cost
        self._save()

    def exhaust(self) -> datetime:
        """Record a ``quotaExceeded``: no call until the quota resets. Returns the reset time."""
        self._current()["exhausted"] = True
        self._save()
        return next_reset(self.clock())

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".quota-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(self._state, out)
        os.replace(tmp, self.path)


def classify(reply: Reply) -> Verdict:
    """Google API errors by ``reason``: 403 quotaExceeded is the day's end, not a retry."""
    error = reply.doc.get("error") if isinstance(reply.doc, dict) else None
    if not isinstance(error, dict):
        return default_classify(reply)
    reasons = {str(e.get("reason")) for e in error.get("errors") or [] if isinstance(e, dict)}
    reasons |= {str(d.get("reason")) for d in error.get("details") or [] if isinstance(d, dict)}
    message = str(error.get("message") or "no message")
    shown = f"HTTP {reply.status} {'/'.join(sorted(reasons)) or 'error'}: {message}"
    if reasons & QUOTA_REASONS:
        return Verdict("quota", shown, "quotaExceeded")
    if reasons & RATE_REASONS or reply.status == 429:
        return Verdict("throttled", shown, next(iter(reasons), None), retry_after(reply))
    if reasons & AUTH_REASONS or reply.status == 401 or "API key" in message:
        return Verdict("auth", shown, next(iter(reasons & AUTH_REASONS), None))
    if reply.status >= 500 or reasons & {"backendError", "internalError"}:
        return Verdict("retry", shown, None, retry_after(reply))
    return Verdict("fail", shown, next(iter(reasons), None))


class YouTubeClient(ApiClient):
    """Live Data API v3 client with an API key and a unit budget.

    Args:
        api_key: the API key (``key=``); masked everywhere it could be shown.
        base_url: replaces the Google APIs host.
        budget: the unit budget shared by the calls of a day; 10,000 units in memory by default.
        page_size: ``maxResults`` of playlist pages (at most 50).
        policy: retries and timeouts.
        sleep: how to wait between tries.
    """

    def __init__(
        self,
        api_key: str | None,
        *,
        base_url: str | None = None,
        budget: QuotaBudget | None = None,
        page_size: int = PAGE_SIZE,
        max_pages: int = MAX_PAGES,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.budget = budget or QuotaBudget()
        super().__init__(
            PLATFORM,
            api_key,
            base_url=base_url,
            classify=classify,
            policy=policy,
            sleep=sleep,
            before_send=self.budget.spend,
        )
        self.page_size = min(page_size, PAGE_SIZE)
        self.max_pages = max_pages

    def _get(self, resource: str, params: dict[str, str]) -> Reply:
        query = {**params, "key": self.credential.require()}
        try:
            return self.http.request("GET", f"{PREFIX}/{resource}", params=query)
        except QuotaExhaustedError as exc:
            if exc.resets_at is None:
                # the platform said so: stop every call until midnight Pacific
                resets = self.budget.exhaust()
                raise QuotaExhaustedError(
                    "youtube",
                    f"quotaExceeded: the daily quota is exhausted until {resets.isoformat()}"
                    " (midnight Pacific); the pull resumes from here after that",
                    resets_at=resets,
                    status=exc.status,
                    code=exc.code,
                ) from None
            raise

    def channel_id(self, value: str) -> str:
        """``value`` if it is a channel id; refused otherwise (a ``,`` would ask for more)."""
        return self.checked("channel id", value, CHANNEL_ID, CHANNEL_ID_SHAPE)

    def fetch_channels(self, channel_ids: Sequence[str]) -> Iterator[Page]:
        ids = [self.channel_id(value) for value in dict.fromkeys(channel_ids)]
        batches = [ids[i : i + MAX_IDS] for i in range(0, len(ids), MAX_IDS)]
        for number, batch in enumerate(batches):
            reply = self._get("channels", {"part": CHANNEL_PARTS, "id": ",".join(batch)})
            last = number == len(batches) - 1
            yield Page.of(reply, "channels_list", None if last else {"batch": number + 1})

    def fetch_channel_by_handle(self, handle: str) -> Iterator[Page]:
        self.checked("handle", handle, HANDLE, HANDLE_SHAPE)
        shown = handle if handle.startswith("@") else f"@{handle}"
        reply = self._get("channels", {"part": CHANNEL_PARTS, "forHandle": shown})
        yield Page.of(reply, "channels_list", None)

    def fetch_uploads(
        self, playlist_id: str, *, since: datetime | None = None, resume: Resume | None = None
    ) -> Iterator[Page]:
        """Uploads playlist pages, newest first, until none is left or one reaches ``since``."""
        token: str | None = resume.get("page_token") if resume else None
        for _ in range(self.max_pages):
            params = {
                "part": PLAYLIST_PARTS,
                "playlistId": playlist_id,
                "maxResults": str(self.page_size),
            }
            if token:
                params["pageToken"] = token
            reply = self._get("playlistItems", params)
            following = reply.doc.get("nextPageToken") if isinstance(reply.doc, dict) else None
            if following is not None and following == token:
                raise PaginationError(
                    "youtube", f"playlistItems of {playlist_id} repeated page token {token!r}"
                )
            done = not following or _reached(reply.doc, since)
            yield Page.of(reply, "playlist_items", None if done else {"page_token": following})
            if done:
                return
            token = following
        raise PaginationError("youtube", f"{playlist_id} has more than {self.max_pages} pages")

    def fetch_videos(
        self, video_ids: Sequence[str], *, resume: Resume | None = None
    ) -> Iterator[Page]:
        ids = list(dict.fromkeys(video_ids))
        batches = [ids[i : i + MAX_IDS] for i in range(0, len(ids), MAX_IDS)]
        first = int(resume.get("batch", 0)) if resume else 0
        for number in range(first, len(batches)):
            reply = self._get("videos", {"part": VIDEO_PARTS, "id": ",".join(batches[number])})
            last = number == len(batches) - 1
            yield Page.of(reply, "videos_list", None if last else {"batch": number + 1})


def uploads_playlist(item: dict[str, Any]) -> str | None:
    """The uploads playlist id of a ``channels.list`` item."""
    found = item.get("contentDetails", {}).get("relatedPlaylists", {}).get("uploads")
    return found if isinstance(found, str) and found else None


def channel_items(doc: Any) -> list[dict[str, Any]]:
    items = doc.get("items", []) if isinstance(doc, dict) else []
    return [i for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)]


def video_ids(doc: Any) -> list[str]:
    """Video ids of a ``playlistItems.list`` page, in page order."""
    items = doc.get("items", []) if isinstance(doc, dict) else []
    found = []
    for item in items:
        if not isinstance(item, dict):
            continue
        video = (item.get("contentDetails") or {}).get("videoId") or (
            (item.get("snippet") or {}).get("resourceId") or {}
        ).get("videoId")
        if isinstance(video, str) and video:
            found.append(video)
    return found


def _reached(doc: Any, since: datetime | None) -> bool:
    if since is None or not isinstance(doc, dict):
        return False
    stamps = []
    for item in doc.get("items") or []:
        value = (
            (item.get("contentDetails") or {}).get("videoPublishedAt")
            if isinstance(item, dict)
            else None
        )
        if isinstance(value, str):
            try:
                stamps.append(datetime.fromisoformat(value.replace("Z", "+00:00")))
            except ValueError:
                continue
    return bool(stamps) and min(stamps) < since


# ---- token lifecycle


class YouTubeTokens:
    """YouTube's token facts: the Data API key does not expire; it is only ever revoked."""

    credentials: type[BaseModel] | None = None
    refresh_env: str | None = None

    def can_refresh(self, access: TokenAccess) -> bool:
        return False

    def refresh(self, access: TokenAccess) -> Refreshed:
        raise ResponseError("youtube", "an API key is not refreshed")

    def inspect(self, access: TokenAccess) -> TokenInfo | None:
        return TokenInfo(
            expires_at=None, source=SOURCE_DECLARED, never_expires=True, detail="API key"
        )


TOKENS = YouTubeTokens()
