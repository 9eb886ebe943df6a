"""``ingest pull``: fetch one day of a platform's API into landing, resumably, then load it.

Every response page is landed as received (only a token the platform echoed back, such as an
``access_token=`` in a paging link, is masked) before anything else happens, and the parsers
that read exports read these pages too. Progress is kept per platform, day and account in
small JSON files under ``<landing>/_state/`` (never in the warehouse: extraction runs in
parallel with the single warehouse writer), so an interrupted pull resumes after the last
landed page instead of fetching it again.

What to ask of an API is the platform's business: its ``Platform.pull`` names a function
``(run, accounts)`` in its own package. That function uses this module's public parts only: a
:class:`PullRun` lands pages (:meth:`PullRun.land`, :meth:`PullRun.stream`), keeps each
account's progress (:meth:`PullRun.account`) and counts requests (:meth:`PullRun.using`).
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

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
)
from ingest.landing import land_stream, read_landed
from ingest.plugin import load_object
from ingest.progress import emit as emit_progress
from ingest.pull_state import STATE_DIR, Account, AccountState, DayState, safe_name
from ingest.redaction import REDACTED, install_log_redaction, redact, register_secret, scrub
from ingest.settings import LOOKBACK_DAYS, read_core, read_platform
from ingest.snapshots import SNAPSHOT, day_start, grace_from_env, snapshot_fits, why_not
from ingest.tokens import TokenError, check_at_pull_start

if TYPE_CHECKING:
    from ingest.client import ApiClient

log = logging.getLogger(__name__)
install_log_redaction(__name__)

# errors that stop a whole platform's pull: the remaining accounts would fail the same way
PLATFORM_STOPS = (AuthError, QuotaExhaustedError, ThrottledError)

__all__ = [
    "LOOKBACK_DAYS",
    "PLATFORM_STOPS",
    "STATE_DIR",
    "Account",
    "AccountState",
    "DayState",
    "PullOptions",
    "PullRun",
    "PullSummary",
    "Puller",
    "StopPull",
    "accounts_from_creators",
    "parse_accounts",
    "pull",
    "resolve_accounts",
    "safe_name",
    "single_page",
    "token_from_env",
]

T = TypeVar("T")
C = TypeVar("C", bound="ApiClient")


# ---- what to pull


def parse_accounts(platform: str, values: Iterable[str]) -> list[Account]:
    """``--accounts`` values as the platform reads them (``Platform.read_account``)."""
    read = platforms.get(platform).read_account
    out = [Account(platform, *read(value.strip())) for value in values if value.strip()]
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


TRACKED = "tracked in the warehouse"


def resolve_accounts(
    platform: str,
    settings: Settings,
    *,
    accounts: Sequence[str] | None = None,
    creators: Path | str | None = None,
) -> tuple[list[Account], str]:
    """The accounts a pull asks for, and where they came from in words.

    Where they came from reads ``given``, ``in creators mapping <file>`` (both, joined by
    ``and``) or ``tracked in the warehouse``.
    The accounts handed to the pull win: ``accounts`` (``--accounts``; in the DAG, the
    connection's ``accounts`` extra) and the rows of ``creators`` for the platform
    (``--creators``; in the DAG, ``INGEST_CREATORS``), both together when both are given.
    Only when neither is given are the platform's tracked accounts read from the warehouse
    (``ingest accounts``), without writing to it.

    Raises:
        IngestError: the creators file cannot be read; the warehouse is busy.
    """
    if accounts or creators is not None:
        found: list[Account] = []
        named: list[str] = []
        if creators is not None:
            found = accounts_from_creators(platform, Path(creators))
            named.append(f"in creators mapping {Path(creators).name}")
        if accounts:
            known = {a.key for a in found}
            found += [a for a in parse_accounts(platform, accounts) if a.key not in known]
            named.append("given")
        return found, " and ".join(named)
    from ingest.accounts import tracked_for_pull

    return tracked_for_pull(settings, platform), TRACKED


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
        page_size: items per page where the API lets us choose; the API maximum when None.
        snapshot_grace: how long after a day ends its snapshots may still be observed (the
            nightly run of the day just ended); later, a pull for that day asks series only.
        platform_options: the platform's own settings (an instance of the class its
            ``Platform.pull_options`` names); that class's defaults when None.
    """

    # never shown: a repr reaches logs, tracebacks and Airflow's rendered task arguments
    token: str | None = field(default=None, repr=False)
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    lookback_days: int = LOOKBACK_DAYS
    page_size: int | None = None
    snapshot_grace: timedelta = field(default_factory=grace_from_env)
    platform_options: object | None = None

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name != "token"
        )
        token = "None" if self.token is None else repr(REDACTED)
        return f"PullOptions(token={token}, {redact(shown)})"

    @classmethod
    def from_env(cls, platform: str) -> PullOptions:
        """Options from ``INGEST_*`` variables: the token, tuning knobs, the platform's own.

        Raises:
            ConfigError: a variable's value is invalid (the error names it).
        """
        core = read_core()
        own = read_platform(platforms.get(platform))
        policy = RetryPolicy(
            max_attempts=core.http_max_attempts,
            base_delay=core.http_base_delay,
            read_timeout=core.http_timeout,
        )
        return cls(
            token=own.secret_token(),
            policy=policy,
            lookback_days=core.pull_lookback_days,
            snapshot_grace=timedelta(hours=core.snapshot_grace_hours),
            platform_options=own.options(),
        )

    def platform_options_as(self, kind: type[T]) -> T:
        """The platform's own settings as ``kind`` (its pull passes its options class).

        Raises:
            TypeError: options of another platform were given.
        """
        if self.platform_options is None:
            return kind()
        if not isinstance(self.platform_options, kind):
            given = type(self.platform_options)
            raise TypeError(
                f"platform_options is a {given.__module__}.{given.__qualname__},"
                f" not {kind.__module__}.{kind.__qualname__}"
            )
        return self.platform_options


def token_from_env(platform: str) -> str | None:
    """The platform's token from its ``Platform.token_env`` variable, if set."""
    return read_platform(platforms.get(platform)).secret_token()


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


# ---- one pull


class StopPull(Exception):
    """A platform-wide stop (quota, token, throttling): the remaining accounts are not tried."""


Puller = Callable[["PullRun", Sequence["Account"]], None]


class PullRun:
    """One pull of one platform-day: what a platform's pull function works through.

    Args:
        platform: the platform.
        day: the day pulled (landing partition).
        settings: where landing lives.
        summary: what the pull did so far; the run adds to it.
        options: token, retries, clock and the platform's own settings.
        base_url: replaces the platform's API host, when given.
    """

    def __init__(
        self,
        platform: str,
        day: date,
        settings: Settings,
        summary: PullSummary,
        options: PullOptions,
        base_url: str | None = None,
    ) -> None:
        self.platform = platform
        self.day = day
        self.settings = settings
        self.summary = summary
        self.options = options
        self.base_url = base_url
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
        """Land one page as received (echoed tokens masked) and record it for the load."""
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
        emit_progress(
            "pull",
            done=self.summary.pages_fetched,
            detail=f"{self.platform} {self.day} {account or 'all'} {stream}",
        )

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
        except PLATFORM_STOPS as exc:
            self.stop(account, exc)
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

    def stop(self, account: Account | None, exc: BaseException) -> NoReturn:
        """Record a platform-wide failure and end the platform's pull (see ``PLATFORM_STOPS``)."""
        self.fail(account, exc)
        raise StopPull() from None

    @contextmanager
    def using(self, client: C) -> Iterator[C]:
        """Use an API client for the pull: its requests are counted, and it is closed after."""
        try:
            yield client
        finally:
            self.summary.requests += client.requests_sent
            client.close()

    def fail(self, account: Account | None, exc: BaseException) -> None:
        """Record one account's failure (None: the platform's); the pull goes on."""
        who = f"{account.key}: " if account else ""
        message = redact(f"{who}{exc}")
        log.error("%s", message)
        self.summary.errors.append(message)

    def warn(self, message: str) -> None:
        """Record a warning for the summary."""
        message = redact(message)
        log.warning("%s %s: %s", self.platform, self.day, message)
        self.summary.warnings.append(message)

    def lookback_start(self) -> date:
        """The first day of the recent-posts window that ends on the pull's day."""
        return self.day - timedelta(days=max(1, self.options.lookback_days) - 1)

    def lookback_since(self) -> datetime:
        """The first instant of the recent-posts window (UTC midnight of its first day)."""
        return day_start(self.lookback_start())


def single_page(fetch: Callable[[], Iterable[Page]]) -> Callable[..., Iterable[Page]]:
    """A one-page request as a stream for :meth:`PullRun.stream`: nothing to resume from."""

    def stream(resume: Resume | None = None) -> Iterable[Page]:
        return fetch()

    return stream


# ---- load


def _load(run: PullRun) -> None:
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
    for number, (_sha, info) in enumerate(pending, start=1):
        landed = read_landed(folder / info["file"])
        emit_progress("stage", done=number - 1, total=len(pending), detail=landed.source_name)
        try:
            batches.append(stage_or_reject(landed, run.settings, source=landed.source_name))
        except FileRejected as exc:
            # recorded like any rejected file, so a replay of the day skips it
            rejections.append(exc.rejection)
        except IngestError as exc:
            run.fail(None, exc)
    emit_progress("stage", done=len(pending), total=len(pending))
    emit_progress("audit", total=len(batches), rows=sum(b.rows_read for b in batches))
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
        platform: an installed platform that declares a pull (``Platform.pull``).
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
    declared = platforms.get(platform)  # an unknown name fails here, listing the known ones
    if declared.pull is None:
        raise IngestError(f"{platform} has no API pull: load its exports with `ingest load`")
    puller: Puller = load_object(declared.pull)
    options = options or PullOptions.from_env(platform)
    if options.token is None:
        options = replace(options, token=token_from_env(platform))
    register_secret(options.token)
    summary = PullSummary(platform=platform, day=day)
    try:
        tracked, source = resolve_accounts(platform, settings, accounts=accounts, creators=creators)
    except IngestError as exc:
        summary.errors.append(str(exc))
        return summary
    summary.accounts = len(tracked)
    if not tracked:
        from ingest.accounts import missing_message

        summary.errors.append(f"{missing_message(platform)}; or pass --accounts or --creators")
        return summary
    # the token's expiry is checked (and the token refreshed where the platform allows) before
    # anything is asked; an expired token stops here with a message saying how to renew it
    try:
        check = check_at_pull_start(
            platform,
            settings,
            token=options.token,
            base_url=base_url,
            policy=options.policy,
            sleep=options.sleep,
            clock=options.clock,
            platform_options=options.platform_options,
            record=load,
        )
    except TokenError as exc:
        log.error("%s", redact(str(exc)))
        summary.errors.append(redact(str(exc)))
        return summary
    options = replace(options, token=check.token)
    summary.warnings.extend(check.warnings)
    run = PullRun(platform, day, settings, summary, options, base_url)
    log.info("%s %s: pulling %d account(s) (%s)", platform, day, len(tracked), source)
    try:
        puller(run, tracked)
    except StopPull:
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
