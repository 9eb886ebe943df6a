"""TikTok: Research and Display API v2 responses and TikTok Studio exports."""

from __future__ import annotations

from ingest.plugin import Platform, by_handle

PLATFORM = Platform(
    name="tiktok",
    title="TikTok",
    formats="ingest.platforms.tiktok.formats:FORMATS",
    demo="ingest.platforms.tiktok.demo:DEMO",
    order=30,
    token_env="INGEST_TIKTOK_TOKEN",
    connection_id="tiktok_default",
    api_host="https://open.tiktokapis.com",
    read_account=by_handle,
    check_account="ingest.platforms.tiktok.api:check_account",
    pull="ingest.platforms.tiktok.pull:pull",
    pull_options="ingest.platforms.tiktok.pull:Options",
    lineage="ingest.platforms.tiktok:metric_lineage.toml",
    tokens="ingest.platforms.tiktok.api:TOKENS",
    renew_hint=(
        "set INGEST_TIKTOK_CLIENT_KEY and INGEST_TIKTOK_CLIENT_SECRET (the app's credentials in"
        " the TikTok developer portal): a Research API token is then fetched at every pull;"
        " for the Display API, have the user authorise the app again (Login Kit) and set the"
        " new refresh token in INGEST_TIKTOK_REFRESH_TOKEN, which then renews the access token"
        " at every pull"
    ),
)
