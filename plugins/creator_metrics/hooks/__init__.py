"""Hooks turning Airflow connections into what ``ingest`` takes as arguments."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from creator_metrics.hooks.base import PlatformCredentials

_HOOKS = {
    "instagram": "InstagramHook",
    "youtube": "YouTubeHook",
    "tiktok": "TikTokHook",
    "snapchat": "SnapchatHook",
}


def platform_credentials(platform: str) -> PlatformCredentials | None:
    """``<platform>_default`` as plain credentials, or None when it is not defined."""
    module = importlib.import_module(f"creator_metrics.hooks.{platform}")
    hook = getattr(module, _HOOKS[platform])()
    credentials: PlatformCredentials | None = hook.credentials_if_defined()
    return credentials
