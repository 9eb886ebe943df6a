"""Snapchat constants: Public Profile API shapes, stat metric names and the Insights template."""

from __future__ import annotations

PLATFORM = "snapchat"

# Snap's API works in UTC; its stats windows are written as UTC midnights
API_DAY_TIMEZONE = "UTC"

SUCCESS = "SUCCESS"

# the stat breakdown that holds the undivided total
DEFAULT_BREAKDOWN = "DEFAULT"

# stats granularities
DAY = "DAY"
TOTAL = "TOTAL"
LIFETIME = "LIFETIME"

# where each response shape keeps its stat objects, and the granularity the key implies
STAT_LISTS: dict[str, tuple[str | None, str | None]] = {
    # list key: (key of the object inside each item or None for the item itself, granularity)
    "timeseries_stats": ("timeseries_stat", None),
    "total_stats": ("total_stat", TOTAL),
    "lifetime_stats": ("lifetime_stat", LIFETIME),
    "assets": (None, None),
}

# account_daily column <- stats metrics, first present wins
DAY_METRICS: dict[str, tuple[str, ...]] = {
    "followers": ("SUBSCRIBERS",),
    "followers_gained": ("SUBSCRIBERS_GAINED",),
    "daily_views": ("VIEWS", "SPOTLIGHT_VIEWS"),
    "daily_shares": ("SHARES",),
}
# a multi-day window total is no daily flow; only the stock at the window's end is usable
TOTAL_METRICS: dict[str, tuple[str, ...]] = {"followers": ("SUBSCRIBERS",)}
LIFETIME_METRICS: dict[str, tuple[str, ...]] = {
    "followers": ("SUBSCRIBERS",),
    "total_views": ("VIEWS",),
}
FLOW_COLUMNS = frozenset({"followers_gained", "daily_views", "daily_shares"})

# metric enums seen in Snap clients; any of them in a file's head marks a profile stats response
KNOWN_METRICS = frozenset(
    {
        "SUBSCRIBERS",
        "SUBSCRIBERS_GAINED",
        "VIEWS",
        "VIEWERS",
        "STORY_VIEWS",
        "AVG_VIEW_TIME_MILLIS",
        "SHARES",
        "INTERACTIONS",
        "SPOTLIGHT_VIEWS",
        "STORY_FAVORITES",
    }
)

# ---- hand-copied Insights template (see TEMPLATE.md)

TEMPLATE_DATE = "date"
TEMPLATE_ACCOUNT = "account"
# a header is the template's when it has the date and one of the Snapchat-only view columns
TEMPLATE_MARKERS = frozenset({"snap_views", "spotlight_views"})
TEMPLATE_VIEWS = ("snap_views", "spotlight_views")

# account_daily column <- template column
TEMPLATE_METRICS: dict[str, str] = {
    "followers": "followers",
    "followers_gained": "followers_gained",
    "followers_lost": "followers_lost",
    "daily_shares": "shares",
    "daily_likes": "favorites",
    "daily_comments": "replies",
}

# in the template for completeness; the canonical model has no column for them
TEMPLATE_UNLOADED = frozenset({"viewers", "screenshots"})

TEMPLATE_COLUMNS = frozenset(
    {TEMPLATE_DATE, TEMPLATE_ACCOUNT, *TEMPLATE_VIEWS, *TEMPLATE_METRICS.values()}
    | TEMPLATE_UNLOADED
)
