"""The HTTP layer every platform client shares: retries, backoff, throttling, capped bodies."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlencode, urljoin

import requests
from requests.adapters import HTTPAdapter

from ingest.errors import IngestError
from ingest.limits import JSON_DOCUMENT_LIMIT, MiB
from ingest.redaction import REDACTED, redact, redact_params, register_secret

log = logging.getLogger(__name__)

# a response is parsed as one JSON document, so it has that document's cap
HTTP_BODY_LIMIT = JSON_DOCUMENT_LIMIT
_BODY_CHUNK = 64 * 1024
USER_AGENT = "creator-metrics-ingest/0.1 (+https://github.com/; requests)"


# ---- errors


class HttpError(IngestError):
    """A platform API call failed; the message is redacted and names what to do."""

    def __init__(
        self,
        platform: str,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        url: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.platform = platform
        self.status = status
        self.code = code
        self.url = redact(url) if url else None
        # the platform's own words (error code and message), without the request line
        self.detail = redact(detail) if detail else None
        super().__init__(redact(f"{platform}: {message}"))


class ResponseError(HttpError):
    """The platform refused the request for a reason retrying will not fix (bad parameters)."""


class TransientError(HttpError):
    """Server errors, timeouts or dropped connections persisted through every retry."""


class ThrottledError(HttpError):
    """The platform kept throttling us, or asked us to wait longer than we may."""

    def __init__(
        self, platform: str, message: str, *, retry_after: float | None = None, **kw: Any
    ) -> None:
        super().__init__(platform, message, **kw)
        self.retry_after = retry_after


class AuthError(HttpError):
    """The token is missing, expired or rejected. The message names where to renew it."""


class QuotaExhaustedError(HttpError):
    """A daily quota is spent; nothing more can be asked of this platform until ``resets_at``."""

    def __init__(
        self, platform: str, message: str, *, resets_at: datetime | None = None, **kw: Any
    ) -> None:
        super().__init__(platform, message, **kw)
        self.resets_at = resets_at


class PaginationError(HttpError):
    """The platform's paging went wrong (a cursor that repeats, an endless stream)."""


# ---- credentials and policy


@dataclass(frozen=True)
class Credential:
    """A token and where it comes from, so errors can say where to fix it without showing it.

    Args:
        platform: the platform it is for.
        secret: the token or API key; never shown.
        connection: the Airflow connection id that holds it.
        env_var: the environment variable that holds it outside Airflow.
        renew: how to get a new one, in words (the platform's ``renew_hint``).
    """

    platform: str
    secret: str | None = field(repr=False)
    connection: str
    env_var: str
    renew: str | None = None

    def __post_init__(self) -> None:
        register_secret(self.secret)

    @property
    def where(self) -> str:
        return (
            f"the Airflow connection '{self.connection}' or the environment variable {self.env_var}"
        )

    @property
    def how_to_renew(self) -> str:
        """``; to renew it: <hint>`` when the platform says how, else nothing."""
        return f"; to renew it: {self.renew}" if self.renew else ""

    def require(self) -> str:
        if not self.secret:
            raise AuthError(self.platform, f"no token: set {self.where}{self.how_to_renew}")
        return self.secret

    def __repr__(self) -> str:
        return (
            f"Credential(platform={self.platform!r}, secret={REDACTED!r},"
            f" connection={self.connection!r})"
        )


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try one request.

    Args:
        max_attempts: tries per request, the first included.
        base_delay: backoff before the second try, in seconds; doubles each try.
        max_delay: longest backoff between two tries.
        max_retry_after: the longest ``Retry-After`` we wait for; a longer one fails at once.
        connect_timeout: seconds to connect.
        read_timeout: seconds to wait for the response.
        jitter: fraction of each backoff that is random, so parallel pulls spread out.
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_retry_after: float = 300.0
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    jitter: float = 0.5

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """The wait after failed try number ``attempt`` (1-based): exponential with jitter."""
        ceiling = float(min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1)))
        return ceiling * (1 - self.jitter) + ceiling * self.jitter * rng.random()


# ---- classification


Kind = Literal["ok", "retry", "throttled", "auth", "quota", "fail"]


@dataclass(frozen=True)
class Verdict:
    """What a response means: done, worth another try, or a specific failure."""

    kind: Kind
    reason: str = ""
    code: str | None = None
    retry_after: float | None = None


OK = Verdict("ok")
Classifier = Callable[["Reply"], Verdict]


@dataclass(frozen=True)
class Reply:
    """One HTTP response, parsed as JSON when it is JSON."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    doc: Any
    request: dict[str, Any]

    @property
    def is_json(self) -> bool:
        return self.doc is not None


def default_classify(reply: Reply) -> Verdict:
    """Status-code classification; platform classifiers refine it with the error body."""
    status = reply.status
    if 200 <= status < 300:
        return OK if reply.is_json else Verdict("retry", "the response is not complete JSON")
    if status == 429:
        return Verdict("throttled", "HTTP 429 Too Many Requests", retry_after=retry_after(reply))
    if status == 401:
        return Verdict("auth", "HTTP 401 Unauthorized")
    if status in (408, 500, 502, 503, 504):
        return Verdict("retry", f"HTTP {status}", retry_after=retry_after(reply))
    return Verdict("fail", f"HTTP {status}")


def retry_after(reply: Reply) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), if sent."""
    value = next((v for k, v in reply.headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# ---- the client


class HttpClient:
    """A ``requests.Session`` with timeouts, bounded retries and a platform's classifier.

    Args:
        credential: the platform's token, for auth error messages and redaction.
        base_url: scheme and host (and any path prefix) every relative path is joined to.
        classify: the platform's reading of a response (throttle codes, quota, auth).
        policy: attempts, backoff and timeouts.
        sleep: how to wait (tests pass a recorder).
        session: a session to reuse; a new one by default.
        before_send: called before every attempt; may raise to stop (a quota budget).
        seed: seeds the backoff jitter, for reproducible tests.
        max_body: the most bytes of one response body; a longer one is refused unread.
    """

    def __init__(
        self,
        credential: Credential,
        base_url: str,
        *,
        classify: Classifier = default_classify,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
        before_send: Callable[[], None] | None = None,
        seed: int | None = None,
        max_body: int = HTTP_BODY_LIMIT,
    ) -> None:
        self.credential = credential
        self.max_body = max_body
        self.platform = credential.platform
        self.base_url = base_url.rstrip("/") + "/"
        self.classify = classify
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.before_send = before_send
        self.requests_sent = 0
        self._rng = random.Random(seed)
        self.session = session or requests.Session()
        # our own retries decide; urllib3 must not retry behind our back
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=8, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = "application/json"

    def close(self) -> None:
        self.session.close()

    def url(self, path: str) -> str:
        return urljoin(self.base_url, path.lstrip("/"))

    def describe(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> dict[str, Any]:
        """What a request asked for, secrets removed: it goes into landing manifests."""
        url = self.url(path)
        shown = redact_params(params)
        described: dict[str, Any] = {
            "method": method,
            "url": url + ("?" + urlencode(shown, safe="(){},.@*") if shown else ""),
        }
        if shown:
            described["params"] = shown
        if body is not None:
            described["body"] = json.loads(redact(json.dumps(body)))
        return described

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        classify: Classifier | None = None,
    ) -> Reply:
        """Send one request until it succeeds, fails for good, or its attempts run out.

        Returns:
            The successful reply (2xx with a complete JSON body).

        Raises:
            AuthError, QuotaExhaustedError, ResponseError: at once, without retrying.
            ThrottledError, TransientError: when every attempt was throttled or failed.
        """
        judge = classify or self.classify
        policy = self.policy
        url = self.url(path)
        described = self.describe(method, path, params, json_body)
        shown = described["url"]
        last: Verdict = Verdict("retry", "no attempt made")
        for attempt in range(1, policy.max_attempts + 1):
            failure: str | None = None
            fatal: str | None = None
            if self.before_send is not None:
                self.before_send()
            try:
                self.requests_sent += 1
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    # a form body (OAuth token endpoints) holds secrets: never described
                    data=form,
                    headers=dict(headers or {}),
                    timeout=(policy.connect_timeout, policy.read_timeout),
                    allow_redirects=False,
                    stream=True,
                )
                with response:
                    body = _read_body(response, self.max_body)
            except _BodyTooLargeError as exc:
                fatal = str(exc)
            except requests.Timeout:
                failure = f"timed out after {policy.read_timeout:g} s"
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                failure = f"connection failed ({type(exc).__name__}: {_short(exc)})"
            except requests.RequestException as exc:
                fatal = f"the request could not be sent ({type(exc).__name__}: {_short(exc)})"
            if fatal is not None:
                # raised outside the except block: the original exception (and its URL) stays out
                raise HttpError(self.platform, f"{fatal}: {method} {shown}", url=shown)
            if failure is not None:
                last = Verdict("retry", failure)
            else:
                reply = Reply(
                    status=response.status_code,
                    headers=dict(response.headers),
                    body=body,
                    doc=_json(body),
                    request=described,
                )
                last = judge(reply)
                if last.kind == "ok":
                    return reply
                self._raise_final(last, reply, shown)
            if attempt == policy.max_attempts:
                break
            delay = policy.backoff(attempt, self._rng)
            if last.retry_after is not None:
                if last.retry_after > policy.max_retry_after:
                    raise ThrottledError(
                        self.platform,
                        f"{last.reason}; asked to wait {last.retry_after:.0f} s, longer than the"
                        f" {policy.max_retry_after:.0f} s allowed: try again later",
                        retry_after=last.retry_after,
                        status=None,
                        code=last.code,
                        url=shown,
                    )
                delay = last.retry_after
            log.warning(
                "%s",
                redact(
                    f"{self.platform}: {method} {shown}: {last.reason}; try {attempt} of"
                    f" {policy.max_attempts}, waiting {delay:.2f} s"
                ),
            )
            self.sleep(delay)
        tries = f"after {policy.max_attempts} attempts"
        if last.kind == "throttled":
            raise ThrottledError(
                self.platform,
                f"still throttled {tries} ({last.reason}): {method} {shown}",
                retry_after=last.retry_after,
                code=last.code,
                url=shown,
            )
        raise TransientError(
            self.platform, f"{last.reason} {tries}: {method} {shown}", code=last.code, url=shown
        )

    def _raise_final(self, verdict: Verdict, reply: Reply, shown: str) -> None:
        kind = verdict.kind
        if kind == "auth":
            raise AuthError(
                self.platform,
                f"the token was rejected ({verdict.reason}); renew it in"
                f" {self.credential.where}{self.credential.how_to_renew}",
                status=reply.status,
                code=verdict.code,
                url=shown,
                detail=verdict.reason,
            )
        if kind == "quota":
            raise QuotaExhaustedError(
                self.platform, verdict.reason, status=reply.status, code=verdict.code, url=shown
            )
        if kind == "fail":
            raise ResponseError(
                self.platform,
                f"{verdict.reason}: {reply.request['method']} {shown}",
                status=reply.status,
                code=verdict.code,
                url=shown,
                detail=verdict.reason,
            )


class _BodyTooLargeError(Exception):
    pass


def _read_body(response: requests.Response, limit: int) -> bytes:
    """The body of a streamed response, refused once it is longer than ``limit`` bytes.

    A declared ``Content-Length`` over the limit is refused before any byte is read; otherwise
    the body is read in chunks and reading stops at the first byte past the limit, so a
    platform (or anything between) sending an endless body cannot fill the memory.
    """
    declared = response.headers.get("Content-Length", "")
    shown = f"{limit} bytes ({limit // MiB} MiB)" if limit >= MiB else f"{limit} bytes"
    if declared.isdigit() and int(declared) > limit:
        raise _BodyTooLargeError(
            f"the response declares {int(declared)} bytes, more than the limit of {shown}"
        )
    body = bytearray()
    for chunk in response.iter_content(_BODY_CHUNK):
        body += chunk
        if len(body) > limit:
            raise _BodyTooLargeError(f"the response is longer than the limit of {shown}")
    return bytes(body)


def _json(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None


def _short(exc: BaseException) -> str:
    # requests' messages repeat the whole URL with its query; the cause is at the end
    text = redact(str(exc))
    return text if len(text) <= 200 else text[:200] + "…"


# ---- pages


Resume = dict[str, Any]


@dataclass(frozen=True)
class Page:
    """One response page, to be landed byte for byte, and how to continue after it.

    Args:
        body: the bytes exactly as received.
        request: what was asked for, secrets removed (goes into the landing manifest).
        format: the parser format name for these bytes (``channels_list``).
        resume: what to pass back to the ``fetch_`` generator to continue after this page;
            None when this page was the last one.
        doc: the parsed JSON, for callers that need ids from it.
    """

    body: bytes
    request: dict[str, Any]
    format: str
    resume: Resume | None
    doc: Any = field(default=None, repr=False)

    @classmethod
    def of(cls, reply: Reply, format: str, resume: Resume | None) -> Page:
        return cls(
            body=reply.body, request=reply.request, format=format, resume=resume, doc=reply.doc
        )
