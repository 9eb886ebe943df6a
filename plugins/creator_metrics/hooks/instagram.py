"""Instagram: the ``instagram_default`` connection as credentials for the Instagram API client."""

from __future__ import annotations

from creator_metrics.hooks.base import PlatformHook


class InstagramHook(PlatformHook):
    """Instagram credentials from an Airflow connection (see ``PlatformHook`` for the fields)."""

    platform = "instagram"
    default_conn_name = "instagram_default"
    hook_name = "Instagram (creator metrics)"
