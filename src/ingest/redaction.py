"""One redaction for every place a text is shown or stored: tokens, keys and auth values masked.

Kept apart from the HTTP client (and free of ``requests``) because everything that shows a
name or a message uses it, DAG files included, where importing an HTTP stack at parse time
would be heavy.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Any

REDACTED = "***"

# query parameters whose values are secrets wherever they appear
_SECRET_PARAMS = ("access_token", "key", "api_key", "client_secret", "input_token", "token")
_PARAM_RE = re.compile(
    r"(?i)(?<![A-Za-z0-9_])((?:" + "|".join(_SECRET_PARAMS) + r")=)[^&\s\"'#<>]+"
)
_AUTH_HEADER_RE = re.compile(
    r"(?i)((?:proxy-)?authorization|x-goog-api-key)(['\"]?\s*[:=]\s*['\"]?)"
    r"(?:(?:bearer|oauth|basic|token)\s+)?[^\s'\",}]+"
)
_BEARER_RE = re.compile(r"(?i)\b(bearer|oauth)\s+[A-Za-z0-9._~+/=-]{6,}")

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(secret: str | None) -> None:
    """Remember a token so that its literal value is masked in every redacted text."""
    # short values would mask ordinary words; real tokens and keys are long
    if secret and len(secret) >= 6:
        with _secrets_lock:
            _secrets.add(secret)


def redact(text: str) -> str:
    """``text`` with tokens, keys and Authorization values replaced by ``***``."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, REDACTED)
    # why: each pattern needs "=" or ":" or one of these words; most texts (file names, paths)
    # have none, and three passes of the patterns cost more than this check
    if "=" not in text and ":" not in text:
        lowered = text.lower()
        if "bearer" not in lowered and "oauth" not in lowered:
            return text
    text = _PARAM_RE.sub(lambda m: m.group(1) + REDACTED, text)
    text = _AUTH_HEADER_RE.sub(lambda m: m.group(1) + m.group(2) + REDACTED, text)
    return _BEARER_RE.sub(REDACTED, text)


def scrub(body: bytes) -> bytes:
    """``body`` with every registered token's literal value replaced by ``***``.

    Platforms echo tokens inside response bodies (Graph API ``paging.next`` links carry
    ``access_token=``); a landed page must not keep them. Nothing else is changed.
    """
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        body = body.replace(secret.encode(), REDACTED.encode())
    return body


def redact_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Query parameters with secret values masked, for manifests and messages."""
    out: dict[str, Any] = {}
    for name, value in (params or {}).items():
        if name.lower() in _SECRET_PARAMS:
            out[name] = REDACTED
        else:
            out[name] = redact(value) if isinstance(value, str) else value
    return out


class RedactingFilter(logging.Filter):
    """Rewrites a log record so that no token reaches any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # a call whose arguments do not fit its format: the handler reports it as logging
            # does, and its text cannot be shown here, so there is nothing to mask
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


class RedactingHandler(logging.Handler):
    """Masks every record that propagates through the logger it sits on, and emits nothing.

    A logger's filter sees only the records logged on that very logger, but a record logged on
    ``ingest.runs`` passes the handlers of ``ingest`` before those of the root logger (the
    CLI's stderr, Airflow's task log), as the same object. Sitting on ``ingest``, this handler
    rewrites it there, so no handler above ever sees a token from any module of the package.
    """

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.addFilter(_FILTER)

    def emit(self, record: logging.LogRecord) -> None:
        # being a handler, this one would keep Python's last resort (warnings to stderr when
        # logging is not configured) from ever firing: stand in for it in that case
        last = logging.lastResort
        if last is not None and record.levelno >= last.level and not _handled_above(record):
            last.handle(record)


def _handled_above(record: logging.LogRecord) -> bool:
    """True when a handler besides this module's own would see the record."""
    logger: logging.Logger | None = logging.getLogger(record.name)
    while logger is not None:
        if any(not isinstance(h, RedactingHandler) for h in logger.handlers):
            return True
        logger = logger.parent if logger.propagate else None
    return False


_FILTER = RedactingFilter()
_HANDLER = RedactingHandler()
# the package's root logger: every module logs below it
PACKAGE_LOGGER = "ingest"
# urllib3 logs request lines with their query string (where some APIs take their key) at DEBUG
_REDACTED_LOGGERS = ("urllib3", "urllib3.connectionpool", "urllib3.util.retry", "requests")


def install_log_redaction(*loggers: str) -> None:
    """Mask tokens in every record of the package and of the named loggers.

    The package's root logger gets one ``RedactingHandler`` (it covers all ``ingest.*``
    loggers); the named loggers, whose records never pass it, get the filter itself (a filter
    does not reach child loggers). Calling this again adds nothing.
    """
    package = logging.getLogger(PACKAGE_LOGGER)
    if _HANDLER not in package.handlers:
        package.addHandler(_HANDLER)
    for name in (*_REDACTED_LOGGERS, *loggers):
        target = logging.getLogger(name)
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)


install_log_redaction()
