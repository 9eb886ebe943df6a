"""Hooks turning Airflow connections into what ``ingest`` takes as arguments.

There is no list of platforms here: every platform in the ``ingest`` registry gets a
``PlatformHook`` configured from its ``Platform`` (connection id, title), so an installed
platform package brings its hook with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from creator_metrics.hooks.base import PlatformCredentials, PlatformHook


def platform_hook(platform: str, conn_id: str | None = None) -> PlatformHook:
    """The hook of an installed platform, reading ``conn_id`` or the platform's connection."""
    from creator_metrics.hooks.base import PlatformHook

    return PlatformHook(platform, conn_id)


def platform_credentials(platform: str) -> PlatformCredentials | None:
    """The platform's connection as plain credentials, or None when it is not defined."""
    return platform_hook(platform).credentials_if_defined()
