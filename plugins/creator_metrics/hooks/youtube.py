"""YouTube: the ``youtube_default`` connection (API key in the password) as credentials."""

from __future__ import annotations

from creator_metrics.hooks.base import PlatformHook


class YouTubeHook(PlatformHook):
    """YouTube credentials from an Airflow connection (see ``PlatformHook`` for the fields)."""

    platform = "youtube"
    default_conn_name = "youtube_default"
    hook_name = "YouTube (creator metrics)"
