"""YouTube constants: response kinds, Studio export names and column synonyms."""

from __future__ import annotations

PLATFORM = "youtube"

CHANNEL_LIST_KIND = "youtube#channelListResponse"
VIDEO_LIST_KIND = "youtube#videoListResponse"
PLAYLIST_ITEM_LIST_KIND = "youtube#playlistItemListResponse"
ANALYTICS_KIND = "youtubeAnalytics#resultTable"

# a video's permalink is this followed by its id
WATCH_URL = "https://www.youtube.com/watch?v="

# public subscriber counts are cut to 3 significant figures from this size on (Sept 2019)
SUBSCRIBER_ROUNDING_FROM = 1000

# Studio "Advanced mode" export members
STUDIO_TABLE = "Table data.csv"
STUDIO_TOTALS = "Totals.csv"

# Studio days are the channel's reporting days, which YouTube keeps in Pacific time
STUDIO_DAY_TIMEZONE = "America/Los_Angeles"

# canonical post_daily column -> Studio "Table data" header
STUDIO_POST_METRICS: dict[str, str] = {
    "views": "Views",
    "likes": "Likes",
    "comments": "Comments added",
    "shares": "Shares",
}

STUDIO_KNOWN_COLUMNS = frozenset(
    {
        "Content",
        "Video title",
        "Video publish time",
        "Duration",
        "Views",
        "Watch time (hours)",
        "Subscribers",
        "Impressions",
        "Impressions click-through rate (%)",
        "Average view duration",
        "Average percentage viewed (%)",
        "Likes",
        "Shares",
        "Comments added",
        "Subscribers gained",
        "Subscribers lost",
        "Your estimated revenue (USD)",
        "Estimated revenue (USD)",
        "Stayed to watch (%)",
    }
)

# Analytics API ``reports``: days are the channel's reporting days in Pacific time
ANALYTICS_DAY_TIMEZONE = "America/Los_Angeles"

# canonical account_daily column -> Analytics metric
ANALYTICS_METRICS: dict[str, str] = {
    "daily_views": "views",
    "daily_likes": "likes",
    "daily_comments": "comments",
    "daily_shares": "shares",
    "followers_gained": "subscribersGained",
    "followers_lost": "subscribersLost",
}
