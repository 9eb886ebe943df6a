"""Instagram: Graph API responses, "Download your information" exports, Business Suite CSVs."""

from __future__ import annotations

from ingest.plugin import Platform, by_handle

PLATFORM = Platform(
    name="instagram",
    title="Instagram",
    formats="ingest.platforms.instagram.formats:FORMATS",
    demo="ingest.platforms.instagram.demo:DEMO",
    order=10,
    token_env="INGEST_INSTAGRAM_TOKEN",
    connection_id="instagram_default",
    api_host="https://graph.facebook.com",
    read_account=by_handle,
    check_account="ingest.platforms.instagram.api:check_account",
    pull="ingest.platforms.instagram.pull:pull",
    pull_options="ingest.platforms.instagram.pull:Options",
    lineage="ingest.platforms.instagram:metric_lineage.toml",
    tokens="ingest.platforms.instagram.api:TOKENS",
    renew_hint=(
        "log in with the Meta app again (your login flow or the Graph API Explorer) for a new"
        " user token with instagram_basic and pages_read_engagement, exchange it for a"
        " long-lived one (GET /oauth/access_token?grant_type=fb_exchange_token with the app id"
        " and secret; it lasts about 60 days) and set that; a Business Manager system user"
        " token does not expire"
    ),
)
