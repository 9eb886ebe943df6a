"""YouTube: Data API v3 responses and YouTube Studio exports."""

from __future__ import annotations

import re

from ingest.plugin import Platform

# a channel id (UC + 22 characters); anything else is read as a handle
CHANNEL_ID = re.compile(r"UC[A-Za-z0-9_-]{22}")


def read_account(value: str) -> tuple[str | None, str | None]:
    """A channel id as the account id, anything else as a handle."""
    return (value, None) if CHANNEL_ID.fullmatch(value) else (None, value)


PLATFORM = Platform(
    name="youtube",
    title="YouTube",
    formats="ingest.platforms.youtube.formats:FORMATS",
    demo="ingest.platforms.youtube.demo:DEMO",
    order=20,
    token_env="INGEST_YOUTUBE_API_KEY",
    connection_id="youtube_default",
    api_host="https://www.googleapis.com",
    read_account=read_account,
    check_account="ingest.platforms.youtube.api:check_account",
    quota="ingest.platforms.youtube.pull:quota_use",
    pull="ingest.platforms.youtube.pull:pull",
    pull_options="ingest.platforms.youtube.pull:Options",
    lineage="ingest.platforms.youtube:metric_lineage.toml",
    tokens="ingest.platforms.youtube.api:TOKENS",
    renew_hint=(
        "create a new API key in the Google Cloud console (APIs & Services > Credentials) of a"
        " project with the YouTube Data API v3 enabled, set it, and delete the old key"
    ),
)
