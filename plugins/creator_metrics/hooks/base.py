"""One hook for every platform: its connection becomes ``PlatformCredentials``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException


@dataclass(frozen=True)
class PlatformCredentials:
    """What a platform API client needs, as plain values.

    Args:
        platform: the platform's name in ``ingest``.
        token: the access token or API key; never logged (see ``__repr__``).
        base_url: a replacement for the platform's API host (tests, proxies), else None so the
            client uses its own default.
        accounts: account ids to pull when the connection names them; when it names none,
            the pull asks for the accounts tracked in the warehouse (``ingest accounts``).
    """

    platform: str
    token: str | None
    base_url: str | None = None
    accounts: tuple[str, ...] = field(default_factory=tuple)

    def __repr__(self) -> str:
        shown = "***" if self.token else None
        return (
            f"PlatformCredentials(platform={self.platform!r}, token={shown!r},"
            f" base_url={self.base_url!r}, accounts={self.accounts!r})"
        )


class PlatformHook(BaseHook):
    """Reads a platform's connection (or another connection id) into ``PlatformCredentials``.

    The platform's ``Platform`` in the ``ingest`` registry names its default connection
    (``connection_id``) and its title. Connection fields: password = token or API key; host
    (with schema as the URL scheme and optional port) = base URL override; extra
    ``{"accounts": ["id", ...]}`` (a list or a comma-separated string; without it, the accounts
    tracked in the warehouse). Nothing is read until ``get_credentials`` is called.

    Args:
        platform: an installed platform's name.
        conn_id: the connection to read; the platform's ``connection_id`` when None.
    """

    conn_name_attr = "conn_id"
    conn_type = "http"

    def __init__(self, platform: str, conn_id: str | None = None) -> None:
        from ingest.platforms import get

        super().__init__()
        declared = get(platform)
        self.platform = declared.name
        self.default_conn_name = declared.connection_id or f"{declared.name}_default"
        self.hook_name = f"{declared.title} (creator metrics)"
        self.conn_id = conn_id or self.default_conn_name

    def get_credentials(self) -> PlatformCredentials:
        """Look up the connection and return its values; raises if it does not exist."""
        conn = self.get_connection(self.conn_id)
        return PlatformCredentials(
            platform=self.platform,
            token=conn.password or None,
            base_url=_base_url(conn.schema, conn.host, conn.port),
            accounts=_accounts(conn.extra_dejson.get("accounts")),
        )

    def get_conn(self) -> PlatformCredentials:
        return self.get_credentials()

    def credentials_if_defined(self) -> PlatformCredentials | None:
        """The credentials, or None when the connection does not exist (no API pull then)."""
        try:
            return self.get_credentials()
        except AirflowNotFoundException:
            return None


def _base_url(scheme: str | None, host: str | None, port: int | None) -> str | None:
    if not host:
        return None
    if "://" in host:
        return host.rstrip("/")
    netloc = f"{host}:{port}" if port else host
    return f"{scheme or 'https'}://{netloc}".rstrip("/")


def _accounts(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    items = value.split(",") if isinstance(value, str) else value
    return tuple(str(item).strip() for item in items if str(item).strip())
