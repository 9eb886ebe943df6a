"""Snapchat: the ``snapchat_default`` connection as credentials for the Snapchat API client."""

from __future__ import annotations

from creator_metrics.hooks.base import PlatformHook


class SnapchatHook(PlatformHook):
    """Snapchat credentials from an Airflow connection (see ``PlatformHook`` for the fields)."""

    platform = "snapchat"
    default_conn_name = "snapchat_default"
    hook_name = "Snapchat (creator metrics)"
