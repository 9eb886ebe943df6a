"""TikTok constants: API response markers, Studio export names and header synonyms."""

from __future__ import annotations

PLATFORM = "tiktok"

# every v2 response carries an error object; this code means success
ERROR_OK = "ok"

VIDEO_URL = "https://www.tiktok.com/@{username}/video/{video_id}"

# canonical column -> response field, for fields copied only when the response has them
USER_DAILY: dict[str, str] = {
    "followers": "follower_count",
    "following": "following_count",
    "total_likes": "likes_count",
    "posts_count": "video_count",
}

RESEARCH_VIDEO_DAILY: dict[str, str] = {
    "views": "view_count",
    "likes": "like_count",
    "comments": "comment_count",
    "shares": "share_count",
    "saves": "favourites_count",  # British spelling in the Research API
}
DISPLAY_VIDEO_DAILY: dict[str, str] = {
    "views": "view_count",
    "likes": "like_count",
    "comments": "comment_count",
    "shares": "share_count",
}

# Studio "Download data" file names (one CSV per analytics tab)
STUDIO_MEMBER_NAMES = frozenset(
    {
        "overview.csv",
        "followerhistory.csv",
        "viewers.csv",
        "followergender.csv",
        "followertopterritories.csv",
        "content.csv",
    }
)

# Studio headers, matched after lower-casing and collapsing spaces: key -> spellings seen.
# keys that are canonical column names are loaded; the others are known but have no column.
OVERVIEW_COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date",),
    "daily_views": ("video views",),
    "profile_views": ("profile views",),
    "daily_likes": ("likes",),
    "daily_comments": ("comments",),
    "daily_shares": ("shares",),
    "followers": ("followers",),
    "net_followers": ("net followers",),
}

FOLLOWER_HISTORY_COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date",),
    "followers": ("followers",),
    # a net change cannot be split into gained and lost, so it is not loaded
    "net_followers": ("difference in followers from previous day", "net followers"),
}

VIEWERS_COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date",),
    "total_viewers": ("total viewers",),
    "new_viewers": ("new viewers",),
    "returning_viewers": ("returning viewers",),
}

# the per-video export; the Spanish spellings come from one localized export
CONTENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "caption": ("video title", "título del video", "título del vídeo"),
    "published_at": ("post time", "hora de publicación"),
    "permalink": ("video link", "enlace del video", "enlace del vídeo"),
    "views": ("total views", "total de visualizaciones"),
    "likes": ("total likes", "total de me gusta"),
    "comments": ("total comments", "total de comentarios"),
    "shares": ("total shares", "total de veces compartido", "total de compartidos"),
    "average_watch_time": ("average watch time", "tiempo medio de visualización"),
    "reach": ("reach", "alcance"),
}

OVERVIEW_FLOWS = ("daily_views", "daily_likes", "daily_comments", "daily_shares")
CONTENT_COUNTS = ("views", "likes", "comments", "shares", "reach")
