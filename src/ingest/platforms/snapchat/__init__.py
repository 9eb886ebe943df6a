"""Snapchat: Public Profile API responses and a hand-copied Insights CSV template."""

from __future__ import annotations

from ingest.plugin import Platform, by_id

PLATFORM = Platform(
    name="snapchat",
    title="Snapchat",
    formats="ingest.platforms.snapchat.formats:FORMATS",
    demo="ingest.platforms.snapchat.demo:DEMO",
    order=40,
    token_env="INGEST_SNAPCHAT_TOKEN",
    connection_id="snapchat_default",
    api_host="https://businessapi.snapchat.com",
    read_account=by_id,
    check_account="ingest.platforms.snapchat.api:check_account",
    pull="ingest.platforms.snapchat.pull:pull",
    lineage="ingest.platforms.snapchat:metric_lineage.toml",
    tokens="ingest.platforms.snapchat.api:TOKENS",
    renew_hint=(
        "authorise the OAuth app again (accounts.snapchat.com/login/oauth2/authorize, scope"
        " snapchat-marketing-api), exchange the code for a refresh token, and set it in"
        " INGEST_SNAPCHAT_REFRESH_TOKEN with INGEST_SNAPCHAT_CLIENT_ID and"
        " INGEST_SNAPCHAT_CLIENT_SECRET: access tokens (30 minutes) then renew at every pull"
    ),
)
