"""The base every platform API client builds on: credential, host, HTTP session, close.

A platform's ``api.py`` subclasses :class:`ApiClient` and adds its ``fetch_<entity>`` methods;
where the token comes from (environment variable, Airflow connection) and the default host are
read from the platform's ``Platform`` declaration, so they are written down once.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from ingest.errors import IngestError
from ingest.http import Classifier, Credential, HttpClient, RetryPolicy, default_classify
from ingest.plugin import Platform


class InvalidAccountError(IngestError):
    """An account id or handle that its platform's rule refuses: no request was sent with it.

    ``field`` names what was refused (``account_id`` or ``handle``) when it is known.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def check(
    platform: Platform,
    what: str,
    value: str,
    rule: re.Pattern[str],
    shape: str,
    *,
    field: str | None = None,
) -> str:
    """``value`` when ``rule`` matches all of it; :class:`InvalidAccountError` otherwise.

    The one wording of a refused handle or id, for a client about to send it and for a
    platform's ``check_account`` (an account about to be tracked, ``field`` its column).
    """
    if not rule.fullmatch(value):
        raise InvalidAccountError(
            f"{platform.title} {what} {value!r} is not valid ({shape}); refused before any request",
            field=field,
        )
    return value


class ApiClient:
    """A platform's live API client over the shared HTTP layer.

    Args:
        platform: the platform's declaration (token variable, connection id, API host).
        secret: the token or API key; masked everywhere it could be shown.
        base_url: replaces the platform's API host (tests, proxies).
        classify: the platform's reading of a response (throttle codes, quota, auth).
        policy: retries and timeouts.
        sleep: how to wait between tries.
        before_send: called before every attempt; may raise to stop (a quota budget).
    """

    def __init__(
        self,
        platform: Platform,
        secret: str | None,
        *,
        base_url: str | None = None,
        classify: Classifier = default_classify,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        before_send: Callable[[], None] | None = None,
    ) -> None:
        host = base_url or platform.api_host
        if host is None or platform.token_env is None or platform.connection_id is None:
            raise IngestError(
                f"platform {platform.name!r} declares no API (api_host, token_env and"
                " connection_id are needed for a client)"
            )
        self.platform = platform
        self.credential = Credential(
            platform.name,
            secret,
            platform.connection_id,
            platform.token_env,
            renew=platform.renew_hint,
        )
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.http = HttpClient(
            self.credential,
            host,
            classify=classify,
            policy=self.policy,
            sleep=sleep,
            before_send=before_send,
        )

    def checked(self, what: str, value: str, rule: re.Pattern[str], shape: str) -> str:
        """``value`` when ``rule`` matches all of it; refused otherwise, before any request.

        Handles and ids are pasted into request paths, field expressions and bodies, where a
        ``)``, ``/`` or ``,`` would change what is asked; the platform declares what it accepts.

        Args:
            what: what the value is (``username``, ``channel id``), for the message.
            value: the handle or id as given.
            rule: the platform's pattern for it, matched against the whole value.
            shape: the rule in words, for the message.

        Raises:
            InvalidAccountError: naming the value, the platform and the rule.
        """
        return check(self.platform, what, value, rule, shape)

    def bearer(self) -> dict[str, str]:
        """The ``Authorization`` header; the token goes in a header because URLs reach logs."""
        return {"Authorization": f"Bearer {self.credential.require()}"}

    @property
    def requests_sent(self) -> int:
        """Requests sent so far, retries included."""
        return self.http.requests_sent

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()
