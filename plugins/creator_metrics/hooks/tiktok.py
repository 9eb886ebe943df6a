"""TikTok: the ``tiktok_default`` connection as credentials for the TikTok API client."""

from __future__ import annotations

from creator_metrics.hooks.base import PlatformHook


class TikTokHook(PlatformHook):
    """TikTok credentials from an Airflow connection (see ``PlatformHook`` for the fields)."""

    platform = "tiktok"
    default_conn_name = "tiktok_default"
    hook_name = "TikTok (creator metrics)"
