"""Token lifecycle: each platform token's expiry, checked at pull start, warned about, refreshed.

What a platform knows about its tokens lives in its own package, as the object its
``Platform.tokens`` names (a :class:`TokenSupport`): how to read a token's expiry from the
platform (a token debug endpoint) and how to get a new token with a refresh token or client
credentials. This module never names a platform; it only applies that knowledge:

- At the start of every pull, :func:`check_at_pull_start` inspects the token, refreshes it when
  the platform allows it and refresh credentials are configured (or when it is missing,
  expiring or unknown), and records what it learnt. The refresh credentials are variables the
  platform declares (its support's ``credentials`` model), read through ``ingest.settings``
  with every other variable, when the check runs. A token that expires within
  ``INGEST_TOKEN_WARN_DAYS`` days (7 by default) is a WARNING in the pull's log and summary,
  so the DAG's task log shows it too; one that has expired stops the pull with a
  :class:`TokenError` naming the variable and Airflow connection and saying how to renew it.
- What was learnt is recorded as a small note under ``<landing>/_state/_tokens/`` (the pull
  may run beside the single warehouse writer, so it never has to open the warehouse), and in
  ``meta.token_checks`` when the caller may write the warehouse (``ingest pull`` does, as it
  publishes anyway); :func:`record_notes` moves the notes into the table.
- :func:`token_states` reads both for ``ingest status``.

Only a short fingerprint of a token is ever stored; values are registered with
``ingest.redaction`` so that no message or log shows them. A refresh token that the platform
rotates (the old one stops working) is kept, readable by its owner only, under
``<landing>/_state/_tokens/`` and used until the variable is set to another value.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from ingest import platforms
from ingest.config import Settings
from ingest.errors import IngestError
from ingest.http import (
    AuthError,
    HttpError,
    Reply,
    ResponseError,
    RetryPolicy,
    Verdict,
    default_classify,
)
from ingest.plugin import Platform, load_object
from ingest.pull_state import STATE_DIR
from ingest.redaction import install_log_redaction, redact, register_secret
from ingest.settings import PlatformSettings, part_as, read_core, read_platform

log = logging.getLogger(__name__)
install_log_redaction(__name__)

# declared by ingest.settings.CoreSettings.token_warn_days (7 days by default)
WARN_DAYS_ENV = "INGEST_TOKEN_WARN_DAYS"
# under <landing>/_state/: notes of token checks not yet in the warehouse, rotated refresh tokens
TOKENS_DIR = "_tokens"
FINGERPRINT_LENGTH = 12

# where an expiry came from (meta.token_checks.source)
SOURCE_DEBUG = "debug endpoint"
SOURCE_REFRESH = "refresh response"
SOURCE_DECLARED = "declared"
SOURCE_REFUSED = "refused"

GENERIC_RENEW_HINT = "create a new token with the platform and set it there"

M = TypeVar("M", bound=BaseModel)


class TokenError(IngestError):
    """A token has expired, was refused, or could not be refreshed; says which and how to renew."""


# ---- what a platform reports


@dataclass(frozen=True)
class TokenInfo:
    """What a platform says about one token.

    Args:
        expires_at: when it expires; None when it does not expire (``never_expires``) or the
            platform did not say.
        source: where this came from (``debug endpoint``, ``refresh response``, ``declared``).
        valid: False when the platform says the token is no longer valid.
        never_expires: the platform says this token does not expire (an API key, a system
            user token).
        detail: a short note for messages (scopes, the kind of token), never the token.
    """

    expires_at: datetime | None
    source: str
    valid: bool = True
    never_expires: bool = False
    detail: str = ""


@dataclass(frozen=True)
class Refreshed:
    """A new access token from a refresh (or client-credentials) request.

    Args:
        token: the new access token; never shown.
        expires_at: when it expires, from the response's ``expires_in``.
        refresh_token: the refresh token the response carried, if any; when it differs from
            the one sent, the platform rotated it and the old one stops working.
        refresh_expires_at: when that refresh token expires, if the response says.
    """

    token: str = field(repr=False)
    expires_at: datetime | None
    refresh_token: str | None = field(default=None, repr=False)
    refresh_expires_at: datetime | None = None


@dataclass(frozen=True)
class TokenAccess:
    """Everything a platform's token support may use for one check (plain values only).

    Args:
        platform: the platform's declaration.
        token: the access token as configured (variable or Airflow connection); may be None.
        refresh_token: the refresh token to use (the rotated one kept earlier, or the
            variable's), or None.
        credentials: the platform's token credentials (an instance of its support's
            ``credentials`` class), read from their variables; None without such a class.
        options: the platform's pull settings (an instance of ``Platform.pull_options``) the
            pull runs with, for choices both make (which API a token is for); None without.
        base_url: replaces every host of the platform (its API and its OAuth endpoints), for
            tests and proxies.
        policy: retries and timeouts of the requests.
        sleep: how to wait between tries.
        now: the time of the check.
    """

    platform: Platform
    token: str | None = field(repr=False)
    refresh_token: str | None = field(repr=False)
    credentials: BaseModel | None = field(repr=False)
    options: object | None
    base_url: str | None
    policy: RetryPolicy
    sleep: Callable[[float], None]
    now: datetime

    def credentials_as(self, kind: type[M]) -> M:
        """The token credentials as the support's own class (its defaults when none were read).

        Raises:
            TypeError: credentials of another class (another platform's) were given.
        """
        return part_as(self.credentials, kind)


class TokenSupport(Protocol):
    """What a platform package publishes (``Platform.tokens``) about its tokens.

    Attributes:
        credentials: a pydantic model of the variables its token lifecycle needs (refresh
            token, client id and secret), or None when it needs none. Each field names its
            ``INGEST_*`` variable as ``validation_alias``; secrets are ``SecretStr``.
            ``ingest.settings`` composes it into the platform's settings: declared, validated,
            listed by ``ingest config`` and the README's table, secrets masked everywhere.
        refresh_env: the variable (one of ``credentials``) holding its refresh token, or None
            when it has none.
    """

    credentials: type[BaseModel] | None
    refresh_env: str | None

    def can_refresh(self, access: TokenAccess) -> bool:
        """True when the configured credentials let :meth:`refresh` get a new token."""

    def inspect(self, access: TokenAccess) -> TokenInfo | None:
        """What the platform says about ``access.token``; None when it cannot say.

        Raises:
            AuthError: the platform refused the token itself.
        """

    def refresh(self, access: TokenAccess) -> Refreshed:
        """A new access token (only called when :meth:`can_refresh`).

        Raises:
            HttpError: the platform refused the refresh (``AuthError`` for a bad grant).
        """


# ---- helpers for the platforms' token support


def oauth_classify(reply: Reply) -> Verdict:
    """An OAuth 2 token endpoint's answer: ``{"error": "invalid_grant", ...}`` is a refusal."""
    doc = reply.doc if isinstance(reply.doc, dict) else {}
    error = doc.get("error")
    if isinstance(error, str) and error:
        described = doc.get("error_description") or doc.get("message") or ""
        return Verdict("auth", f"{error}: {described}".rstrip(": "), error)
    return default_classify(reply)


def expires_in(doc: Mapping[str, Any], key: str, now: datetime) -> datetime | None:
    """``now`` plus the seconds ``doc[key]`` gives (``expires_in``), or None without them."""
    value = doc.get(key)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return now + timedelta(seconds=value)
    return None


def refreshed_from(reply: Reply, platform: str, now: datetime) -> Refreshed:
    """The :class:`Refreshed` an OAuth 2 token response describes.

    Raises:
        ResponseError: the response holds no access token.
    """
    doc = reply.doc if isinstance(reply.doc, dict) else {}
    # some platforms wrap the answer in ``data``
    wrapped = doc.get("data")
    body: dict[str, Any] = wrapped if isinstance(wrapped, dict) else doc
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise ResponseError(platform, "the token endpoint answered without an access_token")
    register_secret(token)
    rotated = body.get("refresh_token")
    rotated = rotated if isinstance(rotated, str) and rotated else None
    register_secret(rotated)
    return Refreshed(
        token=token,
        expires_at=expires_in(body, "expires_in", now),
        refresh_token=rotated,
        refresh_expires_at=expires_in(body, "refresh_expires_in", now),
    )


def stamp(value: Any) -> datetime | None:
    """A Unix time in seconds as a UTC datetime; None for 0, absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return datetime.fromtimestamp(value, UTC)


# ---- settings and fingerprints


def warn_days() -> int:
    """``INGEST_TOKEN_WARN_DAYS``: warn when a token expires within this many days (7).

    Read when asked, with the core's other variables.

    Raises:
        ConfigError: the value is not a whole number of 0 or more (the error names it).
    """
    return read_core().token_warn_days


def fingerprint(token: str | None) -> str | None:
    """A short hash that tells two tokens apart without revealing either."""
    if not token:
        return None
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


def where(platform: Platform, variable: str | None = None) -> str:
    """Where a platform's token is set, for messages: its variable and Airflow connection."""
    name = variable or platform.token_env or "its token variable"
    connection = platform.connection_id
    if connection and (variable is None or variable == platform.token_env):
        return f"the environment variable {name} or the Airflow connection '{connection}'"
    return f"the environment variable {name}"


def renew_hint(platform: Platform) -> str:
    """How to get a new token for ``platform``, in words."""
    return platform.renew_hint or GENERIC_RENEW_HINT


# ---- one check


@dataclass
class TokenCheck:
    """What the check at the start of a pull found, and the token the pull is to use.

    Args:
        platform: the platform.
        token: the access token to use (a refreshed one when the check refreshed it).
        observations: what to record, one per token variable.
        warnings: the expiry warnings the pull reports.
    """

    platform: str
    token: str | None = field(repr=False)
    observations: list[Observation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Observation:
    """One row of ``meta.token_checks`` (a fingerprint, never a token)."""

    platform: str
    variable: str
    connection_id: str | None
    fingerprint: str | None
    expires_at: datetime | None
    never_expires: bool
    valid: bool | None
    source: str
    checked_at: datetime
    refreshed_at: datetime | None = None

    def to_row(self) -> dict[str, Any]:
        return asdict(self)

    def to_note(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("expires_at", "checked_at", "refreshed_at"):
            data[key] = data[key].isoformat() if data[key] is not None else None
        return data

    @classmethod
    def from_note(cls, data: Mapping[str, Any]) -> Observation:
        def stamp(key: str) -> datetime | None:
            value = data.get(key)
            return datetime.fromisoformat(value) if isinstance(value, str) else None

        checked = stamp("checked_at")
        if checked is None:
            raise ValueError("a token note without checked_at")
        return cls(
            platform=str(data["platform"]),
            variable=str(data["variable"]),
            connection_id=data.get("connection_id"),
            fingerprint=data.get("fingerprint"),
            expires_at=stamp("expires_at"),
            never_expires=bool(data.get("never_expires")),
            valid=data.get("valid"),
            source=str(data.get("source") or SOURCE_DECLARED),
            checked_at=checked,
            refreshed_at=stamp("refreshed_at"),
        )


def support_of(platform: Platform) -> TokenSupport | None:
    """The platform's token support, or None when it declares none."""
    if platform.tokens is None:
        return None
    support: TokenSupport = load_object(platform.tokens)
    return support


def can_refresh(name: str, settings: Settings) -> bool:
    """True when ``name``'s refresh credentials are configured: a pull can get its own token."""
    platform = platforms.get(name)
    support = support_of(platform)
    if support is None:
        return False
    own = read_platform(platform)
    access = TokenAccess(
        platform=platform,
        token=None,
        refresh_token=_RefreshStore(settings, name, support.refresh_env, own).current(),
        credentials=own.credentials(),
        options=own.options(),
        base_url=None,
        policy=RetryPolicy(),
        sleep=time.sleep,
        now=datetime.now(UTC),
    )
    return support.can_refresh(access)


def check_at_pull_start(
    name: str,
    settings: Settings,
    *,
    token: str | None,
    base_url: str | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    platform_options: object | None = None,
    record: bool = False,
) -> TokenCheck:
    """Inspect, refresh when possible and needed, record, warn; the token the pull is to use.

    A platform without token support (``Platform.tokens`` None) passes unchanged. The token
    is refreshed when the platform can refresh it with the configured credentials and it is
    missing, refused, of unknown expiry, or expires within the warning window. A warning is
    logged (and returned) when a token the pipeline cannot refresh itself expires within
    ``INGEST_TOKEN_WARN_DAYS`` days, or when the refresh token does.

    Args:
        name: the platform.
        settings: where the notes go (landing) and the warehouse (with ``record``).
        token: the access token as configured.
        base_url: replaces the platform's hosts (tests, proxies).
        policy: retries and timeouts of the token requests.
        sleep: how to wait between tries.
        clock: the current time.
        platform_options: the platform's pull settings the pull runs with; from its
            variables when None.
        record: also write the observations to ``meta.token_checks`` (the caller may write
            the warehouse); they are kept as notes otherwise.

    Raises:
        TokenError: the token has expired or was refused, or the refresh failed; the message
            names the variable and connection and says how to renew the token.
        ConfigError: a variable's value is invalid (the error names it).
    """
    platform = platforms.get(name)
    check = TokenCheck(name, token)
    support = support_of(platform)
    if support is None:
        return check
    days = warn_days()
    own = read_platform(platform)  # registers its secrets for masking
    register_secret(token)
    now = clock().astimezone(UTC)
    store = _RefreshStore(settings, name, support.refresh_env, own)
    access = TokenAccess(
        platform=platform,
        token=token,
        refresh_token=store.current(),
        credentials=own.credentials(),
        options=own.options() if platform_options is None else platform_options,
        base_url=base_url,
        policy=policy or RetryPolicy(),
        sleep=sleep,
        now=now,
    )
    register_secret(access.refresh_token)
    variable = platform.token_env or f"{name} token"
    info: TokenInfo | None = None
    refused: AuthError | None = None
    if token:
        try:
            info = support.inspect(access)
        except AuthError as exc:
            refused = exc
        except HttpError as exc:
            log.warning("%s: could not check the token's expiry (%s); carrying on", name, exc)
    window = timedelta(days=days)
    expiring = info is not None and _ends_within(info, now, window)
    needs = not token or refused is not None or info is None or not info.valid or expiring
    refreshed: Refreshed | None = None
    if needs and support.can_refresh(access):
        refreshed = _refresh(support, access, platform)
        store.keep(refreshed.refresh_token)
        check.token = refreshed.token
        check.observations.append(
            Observation(
                name,
                variable,
                platform.connection_id,
                fingerprint(refreshed.token),
                refreshed.expires_at,
                False,
                True,
                SOURCE_REFRESH,
                now,
                refreshed_at=now,
            )
        )
        if support.refresh_env and refreshed.refresh_expires_at is not None:
            check.observations.append(
                Observation(
                    name,
                    support.refresh_env,
                    None,
                    fingerprint(refreshed.refresh_token or access.refresh_token),
                    refreshed.refresh_expires_at,
                    False,
                    True,
                    SOURCE_REFRESH,
                    now,
                )
            )
            _warn_if_near(
                check, platform, support.refresh_env, refreshed.refresh_expires_at, now, window
            )
    else:
        if info is None and refused is not None:
            check.observations.append(
                Observation(
                    name,
                    variable,
                    platform.connection_id,
                    fingerprint(token),
                    None,
                    False,
                    False,
                    SOURCE_REFUSED,
                    now,
                )
            )
        if info is not None:
            check.observations.append(
                Observation(
                    name,
                    variable,
                    platform.connection_id,
                    fingerprint(token),
                    info.expires_at,
                    info.never_expires,
                    info.valid and refused is None,
                    info.source,
                    now,
                )
            )
        _remember(settings, check.observations, record)
        if refused is not None:
            # the HTTP layer's message names the variable, the connection and the renew hint
            raise TokenError(str(refused))
        if info is not None and (not info.valid or _ended(info, now)):
            when = f" on {_day(info.expires_at)}" if info.expires_at else ""
            raise TokenError(
                f"{platform.title} token in {where(platform)} has expired{when} (checked with"
                f" the {info.source}); to renew it: {renew_hint(platform)}"
            )
        if info is not None and info.expires_at is not None:
            _warn_if_near(check, platform, variable, info.expires_at, now, window)
        return check
    _remember(settings, check.observations, record)
    return check


def _refresh(support: TokenSupport, access: TokenAccess, platform: Platform) -> Refreshed:
    what = f"the environment variable {support.refresh_env}" if support.refresh_env else None
    try:
        refreshed = support.refresh(access)
    except HttpError as exc:
        used = f"with {what}" if what else "with the configured client credentials"
        # the platform's own words: the HTTP layer's text would point at the access token
        said = exc.detail or str(exc)
        raise TokenError(
            f"{platform.title} token could not be refreshed {used} ({said}); to renew it:"
            f" {renew_hint(platform)}"
        ) from None
    register_secret(refreshed.token)
    register_secret(refreshed.refresh_token)
    log.info(
        "%s: refreshed the access token (fingerprint %s)%s",
        platform.name,
        fingerprint(refreshed.token),
        f", valid until {refreshed.expires_at.isoformat()}" if refreshed.expires_at else "",
    )
    return refreshed


def _ends_within(info: TokenInfo, now: datetime, window: timedelta) -> bool:
    return info.expires_at is not None and info.expires_at - now <= window


def _ended(info: TokenInfo, now: datetime) -> bool:
    return info.expires_at is not None and info.expires_at <= now


def _day(when: datetime | None) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if when else "unknown"


def days_left(expires_at: datetime, now: datetime) -> int:
    """Whole days from ``now`` until ``expires_at`` (0 on the last day, negative after)."""
    seconds = (expires_at - now).total_seconds()
    return int(seconds // 86400)


def _warn_if_near(
    check: TokenCheck,
    platform: Platform,
    variable: str,
    expires_at: datetime,
    now: datetime,
    window: timedelta,
) -> None:
    if expires_at - now > window:
        return
    message = (
        f"{platform.title} token {variable} expires on {_day(expires_at)}"
        f" ({days_left(expires_at, now)} day(s) left, warning from {window.days});"
        f" to renew it: {renew_hint(platform)}"
    )
    log.warning("%s", redact(message))
    check.warnings.append(redact(message))


# ---- notes and the table


def _notes_dir(settings: Settings) -> Path:
    return settings.landing / STATE_DIR / TOKENS_DIR


def _note_path(settings: Settings, platform: str) -> Path:
    return _notes_dir(settings) / f"{platform}.json"


def _write_private(path: Path, data: Any) -> None:
    """Write JSON atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tokens-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as exc:
        log.warning("%s: unreadable (%s); ignored", path.name, exc)
        return None


def notes(settings: Settings) -> list[Observation]:
    """The token observations kept as notes (not yet recorded in the warehouse)."""
    folder = _notes_dir(settings)
    found: list[Observation] = []
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.json")):
        if path.name.endswith(".refresh.json"):
            continue
        data = _read_json(path)
        for entry in data if isinstance(data, list) else []:
            try:
                found.append(Observation.from_note(entry))
            except (KeyError, TypeError, ValueError):
                log.warning("%s: a token note that cannot be read; ignored", path.name)
    return found


def _remember(settings: Settings, observations: list[Observation], record: bool) -> None:
    if not observations:
        return
    platform = observations[0].platform
    path = _note_path(settings, platform)
    kept = _read_json(path)
    entries = kept if isinstance(kept, list) else []
    entries.extend(o.to_note() for o in observations)
    _write_private(path, entries)
    if record:
        try:
            record_notes(settings)
        except IngestError as exc:
            # a busy warehouse must not stop a pull over its bookkeeping: the notes stay
            log.warning("token checks kept as notes, not recorded yet: %s", exc)


def record_notes(settings: Settings) -> int:
    """Move every token note into ``meta.token_checks``; the number of rows written.

    The pull of the nightly DAG never opens the warehouse, so its observations wait as notes;
    any writer may call this (``ingest pull`` does after its own check).
    """
    from ingest.backends import transaction
    from ingest.sqlfiles import run_sql
    from ingest.warehouse import writer

    found = notes(settings)
    if not found:
        return 0
    with writer(settings) as conn, transaction(conn):
        for observation in found:
            run_sql(conn, "tokens/record_check", observation.to_row())
    for path in _notes_dir(settings).glob("*.json"):
        if not path.name.endswith(".refresh.json"):
            path.unlink(missing_ok=True)
    return len(found)


# ---- rotated refresh tokens


class _RefreshStore:
    """The refresh token to use: a rotated one kept earlier, or the variable's.

    A platform that rotates refresh tokens invalidates the one sent; the new one is kept
    (owner-readable only) together with the fingerprint of the variable's value it replaced,
    so setting the variable to a new value (after authorising again) takes over at once.
    """

    def __init__(
        self, settings: Settings, platform: str, variable: str | None, own: PlatformSettings
    ) -> None:
        self.path = _notes_dir(settings) / f"{platform}.refresh.json"
        self.configured = own.value_of(variable) if variable else None
        self.variable = variable

    def current(self) -> str | None:
        if self.variable is None:
            return None
        kept = _read_json(self.path)
        if (
            isinstance(kept, dict)
            and kept.get("replaces") == fingerprint(self.configured)
            and isinstance(kept.get("refresh_token"), str)
        ):
            value: str = kept["refresh_token"]
            return value
        return self.configured

    def keep(self, rotated: str | None) -> None:
        if self.variable is None or not rotated or rotated == self.current():
            return
        _write_private(
            self.path, {"replaces": fingerprint(self.configured), "refresh_token": rotated}
        )
        log.info(
            "%s: the platform issued a new refresh token (fingerprint %s); it is used from now"
            " on until %s is set to another value",
            self.path.stem.split(".")[0],
            fingerprint(rotated),
            self.variable,
        )


# ---- status


@dataclass(frozen=True)
class TokenState:
    """The last known state of one platform token, for ``ingest status``.

    Args:
        platform: the platform.
        variable: the environment variable it is set in.
        connection_id: the Airflow connection that holds it, for access tokens.
        fingerprint: a short hash telling tokens apart (never the token).
        expires_at: when it expires; None when it does not or nobody said.
        never_expires: the platform says it does not expire.
        valid: what the platform said at the last check, when it said.
        source: where the expiry came from.
        checked_at: the last check.
        last_refreshed_at: the last time the pipeline refreshed it.
        warn_days: the warning window used.
        now: the time the state was read.
    """

    platform: str
    variable: str
    connection_id: str | None
    fingerprint: str | None
    expires_at: datetime | None
    never_expires: bool
    valid: bool | None
    source: str
    checked_at: datetime
    last_refreshed_at: datetime | None
    warn_days: int
    now: datetime

    @property
    def days_left(self) -> int | None:
        return days_left(self.expires_at, self.now) if self.expires_at is not None else None

    @property
    def expired(self) -> bool:
        return self.valid is False or (self.expires_at is not None and self.expires_at <= self.now)

    @property
    def renews_itself(self) -> bool:
        """True for an access token the pipeline got by refreshing: the next pull renews it."""
        return self.source == SOURCE_REFRESH and self.last_refreshed_at is not None

    @property
    def warning(self) -> bool:
        """True when it has expired or expires within the warning window (and will not renew)."""
        if self.valid is False:
            return True
        if self.renews_itself:
            return False
        return self.expired or (
            self.expires_at is not None
            and self.expires_at - self.now <= timedelta(days=self.warn_days)
        )

    @property
    def renew_hint(self) -> str:
        try:
            return renew_hint(platforms.get(self.platform))
        except IngestError:
            return GENERIC_RENEW_HINT

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        return {
            "platform": self.platform,
            "variable": self.variable,
            "connection_id": self.connection_id,
            "fingerprint": self.fingerprint,
            "expires_at": iso(self.expires_at),
            "never_expires": self.never_expires,
            "days_left": self.days_left,
            "valid": self.valid,
            "expired": self.expired,
            "warning": self.warning,
            "renews_itself": self.renews_itself,
            "source": self.source,
            "checked_at": iso(self.checked_at),
            "last_refreshed_at": iso(self.last_refreshed_at),
            "renew_hint": self.renew_hint if self.warning else None,
        }

    def __str__(self) -> str:
        if self.never_expires:
            expiry = "does not expire"
        elif self.expires_at is None:
            expiry = "expiry unknown"
        elif self.expired:
            expiry = f"EXPIRED {_day(self.expires_at)}"
        else:
            expiry = f"expires {_day(self.expires_at)} ({self.days_left} day(s) left)"
        if self.valid is False and not self.expires_at:
            expiry = "REFUSED by the platform"
        if self.renews_itself and self.valid is not False:
            expiry += ", renewed at every pull"
        refreshed = _day(self.last_refreshed_at) if self.last_refreshed_at else "never"
        line = (
            f"{self.platform:<10} {self.variable:<32} {expiry}; warning:"
            f" {'yes' if self.warning else 'no'}; last refreshed: {refreshed};"
            f" checked {_day(self.checked_at)} ({self.source})"
        )
        if self.warning:
            line += f"\n{'':<11}to renew: {self.renew_hint}"
        return line


def token_states(settings: Settings, *, now: datetime | None = None) -> list[TokenState]:
    """The last known state of every recorded platform token, newest check first per variable.

    Reads ``meta.token_checks`` and the notes pulls left that are not in the warehouse yet;
    an empty list on a new warehouse. Never writes.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    days = warn_days()
    latest: dict[tuple[str, str], Observation] = {}
    refreshed: dict[tuple[str, str], datetime] = {}
    for observation in [*_table_rows(settings), *notes(settings)]:
        key = (observation.platform, observation.variable)
        if observation.refreshed_at is not None:
            refreshed[key] = max(
                refreshed.get(key, observation.refreshed_at), observation.refreshed_at
            )
        known = latest.get(key)
        if known is None or observation.checked_at >= known.checked_at:
            latest[key] = observation
    return [
        TokenState(
            platform=o.platform,
            variable=o.variable,
            connection_id=o.connection_id,
            fingerprint=o.fingerprint,
            expires_at=o.expires_at,
            never_expires=o.never_expires,
            valid=o.valid,
            source=o.source,
            checked_at=o.checked_at,
            last_refreshed_at=refreshed.get(key),
            warn_days=days,
            now=moment,
        )
        for key, o in sorted(latest.items())
    ]


def _table_rows(settings: Settings) -> Iterator[Observation]:
    from ingest.sqlfiles import run_sql
    from ingest.warehouse import open_reader

    conn = open_reader(settings)  # None before the warehouse (or the lake) is made
    if conn is None:
        return
    try:
        (present,) = run_sql(conn, "tokens/has_checks_table").fetchone() or (False,)
        if not present:
            return
        rows = run_sql(conn, "tokens/latest_checks").fetchall()
    finally:
        conn.close()
    for row in rows:
        (platform, variable, connection, print_, expires, never, valid, source, checked, last) = row
        yield Observation(
            platform,
            variable,
            connection,
            print_,
            _utc(expires),
            bool(never),
            valid,
            source,
            _utc(checked) or datetime.min.replace(tzinfo=UTC),
            _utc(last),
        )


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
