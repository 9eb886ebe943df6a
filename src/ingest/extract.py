"""``ingest pull``: fetch one day of a platform's API into landing, resumably, then load it.

Every response page is landed as received (only a token the platform echoed back, such as
``access_token=`` in Graph API paging links, is masked) before anything else happens, and the
parsers that read exports read these pages too. Progress is kept per platform, day and account in
small JSON files under ``<landing>/_state/`` (never in the warehouse: extraction runs in
parallel with the single warehouse writer), so an interrupted pull resumes after the last
landed page instead of fetching it again.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from ingest import platforms
from ingest.config import Settings
from ingest.errors import IngestError
from ingest.http import (
    AuthError,
    HttpError,
    Page,
    QuotaExhaustedError,
    Resume,
    RetryPolicy,
    ThrottledError,
    install_log_redaction,
    redact,
    register_secret,
    scrub,
)
from ingest.landing import land_stream, read_landed
from ingest.snapshots import SNAPSHOT, day_start, grace_from_env, snapshot_fits, why_not

log = logging.getLogger(__name__)
install_log_redaction(__name__)

# where each platform's token comes from outside Airflow
TOKEN_ENV: dict[str, str] = {
    "instagram": "INGEST_INSTAGRAM_TOKEN",
    "youtube": "INGEST_YOUTUBE_API_KEY",
    "tiktok": "INGEST_TIKTOK_TOKEN",
    "snapchat": "INGEST_SNAPCHAT_TOKEN",
}
# recent posts are snapshotted daily for this many days (covers the 28-day engagement window)
LOOKBACK_DAYS = 30
# a Snapchat stats pull re-reads this many days before the last complete one (late revisions)
STATS_OVERLAP_DAYS = 2
STATE_DIR = "_state"
_YOUTUBE_ID_RE = re.compile(r"^UC[A-Za-z0-9_-]{22}$")


# ---- what to pull


@dataclass(frozen=True)
class Account:
    """A tracked account: its id and/or handle, and the creator it belongs to."""

    platform: str
    account_id: str | None
    handle: str | None
    creator_id: str | None = None

    @property
    def key(self) -> str:
        """What the account is known by in state files and messages."""
        return self.account_id or self.handle or ""


def parse_accounts(platform: str, values: Iterable[str]) -> list[Account]:
    """``--accounts`` values as the platform reads them (ids or handles)."""
    out: list[Account] = []
    for raw in values:
        value = raw.strip()
        if not value:
            continue
        if platform == "youtube":
            is_id = bool(_YOUTUBE_ID_RE.match(value))
            out.append(Account(platform, value if is_id else None, None if is_id else value))
        elif platform == "snapchat":
            out.append(Account(platform, value, None))
        else:
            # instagram (business_discovery) and tiktok ask by username
            out.append(Account(platform, None, value.lstrip("@")))
    return list({a.key: a for a in out}.values())


def accounts_from_creators(platform: str, path: Path) -> list[Account]:
    """The platform's accounts in a creators mapping CSV (creator_id, platform, id/handle)."""
    from ingest.creators import parse_mapping

    mapping = parse_mapping(path)
    for reject in mapping.rejects:
        log.warning("%s, line %d: %s (skipped)", path.name, reject.line, reject.reason)
    found = [
        Account(platform, row.account_id, row.handle, row.creator_id)
        for row in mapping.rows
        if row.platform == platform
    ]
    return list({a.key: a for a in found}.values())


# ---- options and summary


@dataclass(frozen=True)
class PullOptions:
    """How a pull talks to the API; defaults suit production, tests shrink the waits.

    Args:
        token: the token or API key; from the platform's ``INGEST_*`` variable when None.
        policy: attempts, backoff and timeouts of every request.
        sleep: how to wait between attempts.
        clock: the current time (quota days, token-independent bookkeeping).
        lookback_days: how far back recent posts are fetched.
        youtube_units: the YouTube Data API daily unit budget.
        instagram_user_id: the IG user business_discovery is asked on; ``/me`` when None.
        tiktok_api: ``research`` or ``display``; from the token's prefix when None.
        page_size: items per page where the API lets us choose; the API maximum when None.
        snapshot_grace: how long after a day ends its snapshots may still be observed (the
            nightly run of the day just ended); later, a pull for that day asks series only.
    """

    token: str | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    lookback_days: int = LOOKBACK_DAYS
    youtube_units: int = 10_000
    instagram_user_id: str | None = None
    tiktok_api: str | None = None
    page_size: int | None = None
    snapshot_grace: timedelta = field(default_factory=grace_from_env)

    @classmethod
    def from_env(cls, platform: str) -> PullOptions:
        """Options from ``INGEST_*`` variables: the token and a few tuning knobs."""
        env = os.environ
        policy = RetryPolicy(
            max_attempts=int(env.get("INGEST_HTTP_MAX_ATTEMPTS", "5")),
            base_delay=float(env.get("INGEST_HTTP_BASE_DELAY", "1.0")),
            read_timeout=float(env.get("INGEST_HTTP_TIMEOUT", "60")),
        )
        return cls(
            token=env.get(TOKEN_ENV[platform]) or None,
            policy=policy,
            lookback_days=int(env.get("INGEST_PULL_LOOKBACK_DAYS", str(LOOKBACK_DAYS))),
            youtube_units=int(env.get("INGEST_YOUTUBE_QUOTA_UNITS", "10000")),
            instagram_user_id=env.get("INGEST_INSTAGRAM_USER_ID") or None,
            tiktok_api=env.get("INGEST_TIKTOK_API") or None,
        )


@dataclass
class PullSummary:
    """What one pull did; ``ok`` when every tracked account's day is complete and loaded."""

    platform: str
    day: date
    accounts: int = 0
    accounts_complete: int = 0
    pages_fetched: int = 0
    pages_resumed: int = 0
    landed_new: int = 0
    landed_existing: int = 0
    requests: int = 0
    loads: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # snapshot endpoints not asked because their state cannot describe the pull's day
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["day"] = self.day.isoformat()
        data["ok"] = self.ok
        return data

    def __str__(self) -> str:
        lines = [
            f"{self.platform} {self.day}: {self.accounts_complete}/{self.accounts} accounts"
            f" complete; {self.pages_fetched} pages fetched ({self.requests} requests),"
            f" {self.pages_resumed} already done earlier; landed {self.landed_new} new,"
            f" {self.landed_existing} already there; {self.loads} loads, {self.rows_loaded}"
            f" rows loaded, {self.rows_quarantined} quarantined",
        ]
        lines += [f"skipped: {s}" for s in self.skipped]
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"error: {e}" for e in self.errors]
        lines.append("ok" if self.ok else "FAILED: run the same pull again to resume")
        return "\n".join(lines)


# ---- state files


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".state-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, sort_keys=True, default=str)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def safe_name(key: str) -> str:
    """A file name for an account key; odd characters are replaced, a hash keeps it unique."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", key)[:80]
    if clean == key and not key.startswith("."):
        return key
    return f"{clean.lstrip('.')}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


class AccountState:
    """Progress of one account on one day: ``<landing>/_state/<platform>/<day>/<account>.json``.

    ``streams`` maps each paged request sequence (``uploads``, ``videos``) to its pages so far,
    the opaque ``resume`` its client handed back after the last landed page, and ``done``.
    """

    def __init__(self, path: Path, account: Account, day: date) -> None:
        self.path = path
        self.data = _read_json(path) or {
            "platform": account.platform,
            "account": account.key,
            "day": day.isoformat(),
            "streams": {},
            "complete": False,
        }

    def stream(self, name: str) -> dict[str, Any]:
        streams: dict[str, dict[str, Any]] = self.data.setdefault("streams", {})
        return streams.setdefault(name, {"pages": 0, "resume": None, "done": False})

    @property
    def complete(self) -> bool:
        return bool(self.data.get("complete"))

    def save(self) -> None:
        self.data["updated_at"] = datetime.now(UTC).isoformat()
        _write_json(self.path, self.data)


class DayState:
    """All state of one platform-day, plus ``_pages.json``: what was landed and what was loaded."""

    def __init__(self, landing: Path, platform: str, day: date) -> None:
        self.platform = platform
        self.day = day
        self.root = landing / STATE_DIR / platform
        self.folder = self.root / day.isoformat()
        self.pages_path = self.folder / "_pages.json"
        self.pages: dict[str, dict[str, Any]] = _read_json(self.pages_path).get("pages", {})
        self._accounts: dict[str, AccountState] = {}

    def account(self, account: Account) -> AccountState:
        if account.key not in self._accounts:
            path = self.folder / f"{safe_name(account.key)}.json"
            self._accounts[account.key] = AccountState(path, account, self.day)
        return self._accounts[account.key]

    def history_path(self, account: Account) -> Path:
        return self.root / "_accounts" / f"{safe_name(account.key)}.json"

    def history(self, account: Account) -> dict[str, Any]:
        """What was fetched for the account up to when, across days."""
        return _read_json(self.history_path(account))

    def finish_account(self, account: Account, state: AccountState) -> None:
        state.data["complete"] = True
        state.data["completed_at"] = datetime.now(UTC).isoformat()
        state.save()
        history = self.history(account)
        last = history.get("last_complete_day")
        if last is None or last <= self.day.isoformat():
            history.update(
                account=account.key,
                last_complete_day=self.day.isoformat(),
                window=state.data.get("window"),
                completed_at=state.data["completed_at"],
            )
            _write_json(self.history_path(account), history)

    def add_page(self, sha256: str, file: str, account: str | None, stream: str) -> None:
        if sha256 in self.pages:
            return
        self.pages[sha256] = {"file": file, "account": account, "stream": stream, "loaded": False}
        self.save_pages()

    def pending(self) -> list[tuple[str, dict[str, Any]]]:
        return [(sha, info) for sha, info in self.pages.items() if not info.get("loaded")]

    def save_pages(self) -> None:
        _write_json(self.pages_path, {"pages": self.pages})


# ---- one pull


class _Stop(Exception):
    """A platform-wide stop (quota, token, throttling): the remaining accounts are not tried."""


class _Run:
    def __init__(
        self,
        platform: str,
        day: date,
        settings: Settings,
        summary: PullSummary,
        options: PullOptions,
    ) -> None:
        self.platform = platform
        self.day = day
        self.settings = settings
        self.summary = summary
        self.options = options
        self.state = DayState(settings.landing, platform, day)
        # decided once per pull, so every snapshot endpoint of the run gets the same answer
        self.started_at = options.clock().astimezone(UTC)
        self.snapshots_fit = snapshot_fits(day, self.started_at, options.snapshot_grace)

    def may_ask(self, stream: str, format: str) -> bool:
        """True unless ``format`` is a snapshot that cannot describe the pull's day.

        A refused endpoint is named once in the summary's ``skipped`` with the reason.
        """
        if self._dating(format) != SNAPSHOT or self.snapshots_fit:
            return True
        reason = why_not(self.day, self.started_at, self.options.snapshot_grace)
        message = f"{format} ({stream}), a snapshot endpoint: {reason}"
        if message not in self.summary.skipped:
            log.warning("%s %s: skipped %s", self.platform, self.day, message)
            self.summary.skipped.append(message)
        return False

    def _dating(self, format: str | None) -> str:
        from ingest.platforms import registry

        if format is None:
            return SNAPSHOT  # unknown: the safe side
        return registry((self.platform,)).get(self.platform, format, format).dating

    def land(self, page: Page, *, account: str | None, stream: str, number: int) -> None:
        name = f"{stream}-{safe_name(account or 'all')}-p{number}.json"
        asked_at = self.options.clock().astimezone(UTC)
        if self._dating(page.format) == SNAPSHOT and not snapshot_fits(
            self.day, asked_at, self.options.snapshot_grace
        ):
            # the pull outran the grace: this page is a later state, not the day's
            raise IngestError(
                f"{name} is not kept: {page.format} "
                + why_not(self.day, asked_at, self.options.snapshot_grace)
            )
        # as received, except that a token the platform echoed back is masked
        landed = land_stream(
            io.BytesIO(scrub(page.body)),
            self.settings.landing,
            platform=self.platform,
            day=self.day,
            source_name=name,
            account=account,
            format=page.format,
            request=page.request,
            fetched_at=asked_at,
            observed_at=asked_at,
            snapshot_grace=self.options.snapshot_grace,
        )
        self.summary.pages_fetched += 1
        if landed.new:
            self.summary.landed_new += 1
        else:
            self.summary.landed_existing += 1
        self.state.add_page(landed.sha256, landed.path.name, account, stream)

    def stream(
        self,
        state: AccountState,
        name: str,
        fetch: Callable[..., Iterable[Page]],
        *,
        account: str | None,
        on_page: Callable[[Page], None] | None = None,
    ) -> None:
        """Run one paged stream from where it stopped, landing and recording each page."""
        progress = state.stream(name)
        if progress["done"]:
            self.summary.pages_resumed += int(progress["pages"])
            return
        if progress["pages"]:
            self.summary.pages_resumed += int(progress["pages"])
            log.info(
                "%s %s: resuming %s of %s after page %d",
                self.platform,
                self.day,
                name,
                account,
                progress["pages"],
            )
        for page in fetch(resume=progress.get("resume")):
            self.land(page, account=account, stream=name, number=int(progress["pages"]) + 1)
            if on_page is not None:
                on_page(page)
            progress.update(
                pages=int(progress["pages"]) + 1, resume=page.resume, done=page.resume is None
            )
            state.save()
        progress["done"] = True
        state.save()

    @contextmanager
    def account(self, account: Account) -> Iterator[AccountState | None]:
        """One account's work; its errors are recorded and the next account still runs."""
        state = self.state.account(account)
        if state.complete:
            self.summary.accounts_complete += 1
            self.summary.pages_resumed += sum(
                int(s.get("pages", 0)) for s in state.data.get("streams", {}).values()
            )
            yield None
            return
        try:
            yield state
        except (AuthError, QuotaExhaustedError, ThrottledError) as exc:
            self.fail(account, exc)
            raise _Stop() from None
        except IngestError as exc:
            self.fail(account, exc)
            return
        if self.snapshots_fit or self.started_at >= day_start(self.day):
            # a past day can never again be observed: what could be asked is all there is
            self.state.finish_account(account, state)
        else:
            # a day that has not begun: its snapshots are still to come, so it stays open
            state.save()
        self.summary.accounts_complete += 1

    def fail(self, account: Account | None, exc: BaseException) -> None:
        who = f"{account.key}: " if account else ""
        message = redact(f"{who}{exc}")
        log.error("%s", message)
        self.summary.errors.append(message)

    def warn(self, message: str) -> None:
        message = redact(message)
        log.warning("%s %s: %s", self.platform, self.day, message)
        self.summary.warnings.append(message)

    def lookback_start(self) -> date:
        """The first day of the recent-posts window that ends on the pull's day."""
        return self.day - timedelta(days=max(1, self.options.lookback_days) - 1)


def _single(fetch: Callable[[], Iterable[Page]]) -> Callable[..., Iterable[Page]]:
    """A one-page request as a stream: it has nothing to resume from."""

    def stream(resume: Resume | None = None) -> Iterable[Page]:
        return fetch()

    return stream


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


# ---- per platform


def _pull_instagram(
    run: _Run, accounts: Sequence[Account], options: PullOptions, base_url: str | None
) -> None:
    from ingest.platforms.instagram.api import InstagramClient

    client = InstagramClient(
        options.token,
        base_url=base_url,
        ig_user_id=options.instagram_user_id,
        page_size=options.page_size or 25,
        policy=options.policy,
        sleep=options.sleep,
    )
    since = _midnight(run.lookback_start())
    if not run.may_ask("business_discovery", "business_discovery"):
        client.close()
        return
    try:
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
    finally:
        run.summary.requests += client.http.requests_sent
        client.close()


def _pull_youtube(
    run: _Run, accounts: Sequence[Account], options: PullOptions, base_url: str | None
) -> None:
    from ingest.platforms.youtube import api

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
    budget = api.QuotaBudget(run.state.root / "_quota.json", options.youtube_units, options.clock)
    client = api.YouTubeClient(
        options.token,
        base_url=base_url,
        budget=budget,
        page_size=options.page_size or api.PAGE_SIZE,
        policy=options.policy,
        sleep=options.sleep,
    )
    since = _midnight(run.lookback_start())
    try:
        _youtube_channels(run, client, accounts)
        for account in accounts:
            with run.account(account) as state:
                if state is None:
                    continue
                state.data.setdefault(
                    "window", {"from": since.date().isoformat(), "to": run.day.isoformat()}
                )
                if account.handle and not account.account_id:
                    _youtube_handle(run, client, state, account)
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
    finally:
        run.summary.requests += client.http.requests_sent
        client.close()


def _youtube_channels(run: _Run, client: Any, accounts: Sequence[Account]) -> None:
    """channels.list for every tracked id not done yet, 50 a call; records uploads playlists."""
    from ingest.platforms.youtube import api

    waiting = [
        a
        for a in accounts
        if a.account_id
        and not run.state.account(a).complete
        and not run.state.account(a).stream("channel")["done"]
    ]
    if not waiting:
        return
    by_id = {a.account_id: a for a in waiting}
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
    except (AuthError, QuotaExhaustedError, ThrottledError) as exc:
        run.fail(None, exc)
        raise _Stop() from None
    except IngestError as exc:
        run.fail(None, exc)


def _youtube_handle(run: _Run, client: Any, state: AccountState, account: Account) -> None:
    from ingest.platforms.youtube import api

    def resolve(page: Page) -> None:
        items = api.channel_items(page.doc)
        state.data["missing"] = not items
        if items:
            state.data["channel_id"] = items[0]["id"]
            state.data["uploads"] = api.uploads_playlist(items[0])

    run.stream(
        state,
        "channel",
        _single(partial(client.fetch_channel_by_handle, account.handle or "")),
        account=None,
        on_page=resolve,
    )


def _pull_tiktok(
    run: _Run, accounts: Sequence[Account], options: PullOptions, base_url: str | None
) -> None:
    from ingest.platforms.tiktok.api import DisplayClient, client_for

    client = client_for(
        options.token,
        api=options.tiktok_api,
        base_url=base_url,
        policy=options.policy,
        sleep=options.sleep,
    )
    since = run.lookback_start()
    videos = "display_video_list" if isinstance(client, DisplayClient) else "research_video_query"
    user_info = "display_user_info" if isinstance(client, DisplayClient) else "research_user_info"
    asked = [run.may_ask("user_info", user_info), run.may_ask("videos", videos)]
    if not all(asked):
        client.close()
        return
    try:
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
                    _single(partial(client.fetch_user_info, username)),
                    account=username,
                )
                run.stream(
                    state,
                    "videos",
                    partial(client.fetch_videos, username, since=start, until=end),
                    account=username,
                )
    finally:
        run.summary.requests += client.http.requests_sent
        client.close()


def _pull_snapchat(
    run: _Run, accounts: Sequence[Account], options: PullOptions, base_url: str | None
) -> None:
    from ingest.platforms.snapchat.api import MAX_WINDOW_DAYS, SnapchatClient

    client = SnapchatClient(
        options.token, base_url=base_url, policy=options.policy, sleep=options.sleep
    )
    # stats end at the last whole UTC day: a window reaching into today would be incomplete
    yesterday = options.clock().astimezone(UTC).date() - timedelta(days=1)
    until = min(run.day, yesterday)
    try:
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
                        _single(partial(client.fetch_profile, profile)),
                        account=profile,
                    )
                run.stream(
                    state,
                    "stats",
                    _single(
                        partial(
                            client.fetch_stats,
                            profile,
                            since=date.fromisoformat(window["from"]),
                            until=date.fromisoformat(window["to"]),
                        )
                    ),
                    account=profile,
                )
    finally:
        run.summary.requests += client.http.requests_sent
        client.close()


_PULLERS: dict[str, Callable[[_Run, Sequence[Account], PullOptions, str | None], None]] = {
    "instagram": _pull_instagram,
    "youtube": _pull_youtube,
    "tiktok": _pull_tiktok,
    "snapchat": _pull_snapchat,
}


# ---- load


def _load(run: _Run) -> None:
    """Stage and publish every landed page of the day not yet loaded (this run's and earlier)."""
    from ingest.pipeline import OK_STATUSES, publish_batches, stage_or_reject
    from ingest.rejections import FileRejected, Rejection
    from ingest.staging import StagedBatch

    pending = run.state.pending()
    if not pending:
        return
    folder = run.settings.landing / run.platform / run.day.isoformat()
    batches: list[StagedBatch] = []
    rejections: list[Rejection] = []
    for _sha, info in pending:
        landed = read_landed(folder / info["file"])
        try:
            batches.append(stage_or_reject(landed, run.settings, source=landed.source_name))
        except FileRejected as exc:
            # recorded like any rejected file, so a replay of the day skips it
            rejections.append(exc.rejection)
        except IngestError as exc:
            run.fail(None, exc)
    try:
        results = publish_batches(batches, run.settings, rejections)
    except IngestError as exc:
        run.fail(None, exc)
        for batch in batches:
            batch.discard()
        return
    # the rejected files' records come first: a new rejection fails the pull, one recorded by
    # an earlier run is skipped as every replay of the day skips it
    for result in results[: len(rejections)]:
        if result.status == "rejected":
            run.fail(None, IngestError(result.message or result.source))
        else:
            log.info("%s: %s", result.source, result.message)
    for batch, result in zip(batches, results[len(rejections) :], strict=True):
        if result.status not in OK_STATUSES:
            # blocked by the audit: the page stays pending and the day is not done
            run.fail(None, IngestError(f"{result.source}: {result.status}: {result.message}"))
            continue
        run.state.pages[batch.source_sha256]["loaded"] = True
        run.state.pages[batch.source_sha256]["load_id"] = result.load_id
        run.summary.loads += 1
        run.summary.rows_read += result.rows_read
        run.summary.rows_loaded += result.rows_loaded
        run.summary.rows_quarantined += result.rows_quarantined
    run.state.save_pages()


# ---- entry point


def pull(
    platform: str,
    day: date,
    settings: Settings,
    *,
    accounts: Sequence[str] | None = None,
    creators: Path | str | None = None,
    base_url: str | None = None,
    load: bool = True,
    options: PullOptions | None = None,
) -> PullSummary:
    """Pull one day of one platform's API for the tracked accounts, then load it.

    Pages land as they arrive; state under ``<landing>/_state/`` records each finished page,
    so running the same pull again after a failure fetches only what is missing. Errors of
    one account do not stop the others; a spent quota, a rejected token or persistent
    throttling stop the platform. With ``load``, every landed page of the day not yet loaded
    is staged and published.

    Snapshot endpoints (current state: profiles, channel and video counts) are asked only when
    the pull runs during ``day`` or within ``options.snapshot_grace`` after it ended (the
    nightly run of the day just ended); for any other day the pull asks the series endpoints
    only and lists each snapshot endpoint it left out, with the reason, in ``skipped``.

    Args:
        platform: instagram, youtube, tiktok or snapchat.
        day: the day the pull is for (landing partition); snapshots describe it only as above.
        settings: where landing, staging and the warehouse live.
        accounts: account ids or handles (``--accounts``).
        creators: a creators mapping CSV; its rows for ``platform`` are the accounts.
        base_url: replaces the platform's API host.
        load: stage and publish what was landed.
        options: token, retries, clock; from the environment when None.

    Returns:
        The summary; ``ok`` is False when any account's day is incomplete or did not load.
    """
    platforms.get(platform)  # an unknown name fails here, listing the known ones
    options = options or PullOptions.from_env(platform)
    if options.token is None:
        options = replace(options, token=os.environ.get(TOKEN_ENV[platform]) or None)
    register_secret(options.token)
    summary = PullSummary(platform=platform, day=day)
    tracked: list[Account] = []
    if creators is not None:
        try:
            tracked = accounts_from_creators(platform, Path(creators))
        except IngestError as exc:
            summary.errors.append(str(exc))
            return summary
    if accounts:
        known = {a.key for a in tracked}
        tracked += [a for a in parse_accounts(platform, accounts) if a.key not in known]
    summary.accounts = len(tracked)
    if not tracked:
        summary.errors.append(f"no {platform} accounts to pull: pass --accounts or --creators")
        return summary
    run = _Run(platform, day, settings, summary, options)
    log.info("%s %s: pulling %d account(s)", platform, day, len(tracked))
    try:
        _PULLERS[platform](run, tracked, options, base_url)
    except _Stop:
        pass
    except HttpError as exc:
        run.fail(None, exc)
    # an unexpected exception leaves its pages pending: the next pull loads them
    if load:
        _load(run)
    pending = len(run.state.pending())
    if load and pending:
        summary.errors.append(f"{pending} landed page(s) are not loaded yet")
    log.info("%s", redact(str(summary)))
    return summary
