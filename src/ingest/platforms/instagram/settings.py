"""Instagram constants: Graph API field names, export member names and label synonym tables."""

from __future__ import annotations

PLATFORM = "instagram"

# Meta reports insight days as Pacific days (end_time 07:00/08:00 UTC is midnight in Los Angeles)
INSIGHTS_DAY_TIMEZONE = "America/Los_Angeles"
# API snapshots (fields responses) describe the pull's day
SNAPSHOT_DAY_TIMEZONE = "UTC"

# IG User node fields -> account_daily column
USER_COUNTS: dict[str, str] = {
    "followers_count": "followers",
    "follows_count": "following",
    "media_count": "posts_count",
}
USER_FIELDS = frozenset(
    {
        *USER_COUNTS,
        "id",
        "ig_id",
        "username",
        "name",
        "biography",
        "website",
        "profile_picture_url",
        "account_type",
        "media",
        "business_discovery",
    }
)

MEDIA_FIELDS = frozenset(
    {
        "id",
        "caption",
        "media_type",
        "media_product_type",
        "timestamp",
        "like_count",
        "comments_count",
        "permalink",
        "shortcode",
        "media_url",
        "thumbnail_url",
        "username",
        "owner",
        "is_comment_enabled",
        "is_shared_to_feed",
        "children",
        "insights",
    }
)

# media_product_type wins over media_type: a reel is a VIDEO too
PRODUCT_TYPES: dict[str, str] = {"REELS": "reel", "STORY": "story"}
MEDIA_TYPES: dict[str, str] = {"IMAGE": "image", "VIDEO": "video", "CAROUSEL_ALBUM": "carousel"}

# insight metric -> column mappings depend on the day (meta renames and retires metrics), so
# they live in this package's metric lineage (metric_lineage.toml) under these surfaces
MEDIA_INSIGHTS = "media_insights"
USER_INSIGHTS = "user_insights"

# what an empty insights `data` leaves unknown: the metrics only insights give
INSIGHT_ONLY_COLUMNS: tuple[str, ...] = ("views", "reach", "saves", "shares")

FOLLOWS_AND_UNFOLLOWS = "follows_and_unfollows"
# follow_type dimension values of follows_and_unfollows
FOLLOW_TYPES: dict[str, str] = {"FOLLOWER": "followers_gained", "NON_FOLLOWER": "followers_lost"}

# "Download your information" export
DYI_POSTS_KEY = "organic_insights_posts"
DYI_REELS_KEY = "organic_insights_reels"
DYI_FOLLOWING_KEY = "relationships_following"
DYI_INSIGHTS_DIR = "past_instagram_insights/"
DYI_FOLLOWERS_DIR = "followers_and_following/"

# DYI label (case-folded, any UI language) -> post_daily column, or published_at
DYI_LABELS: dict[str, str] = {
    "creation timestamp": "published_at",
    "data di creazione": "published_at",
    "data de criação": "published_at",
    "fecha de creación": "published_at",
    "accounts reached": "reach",
    "account raggiunti": "reach",
    "contas alcançadas": "reach",
    "cuentas alcanzadas": "reach",
    "views": "views",
    "visualizzazioni": "views",
    "visualizações": "views",
    "visualizaciones": "views",
    "likes": "likes",
    "mi piace": "likes",
    "curtidas": "likes",
    "me gusta": "likes",
    "comments": "comments",
    "commenti": "comments",
    "comentários": "comments",
    "comentarios": "comments",
    "shares": "shares",
    "condivisioni": "shares",
    "compartilhamentos": "shares",
    "veces compartido": "shares",
    "saves": "saves",
    "salvataggi": "saves",
    "salvamentos": "saves",
    "guardados": "saves",
}
# labels we recognise but deliberately do not load (other definitions, no canonical column)
DYI_UNUSED_LABELS = frozenset(
    {
        "impressions",
        "impressioni",
        "impressões",
        "impresiones",
        "plays",
        "instagram plays",
        "follows",
        "profile visits",
        "interactions",
        "post interactions",
        "reels interactions",
        "caption",
        "duration",
    }
)

# Meta Business Suite per-metric CSV: title line (case-folded) -> account_daily daily flow
SUITE_TITLES: dict[str, str] = {
    "views": "daily_views",
    "follows": "followers_gained",
    "likes": "daily_likes",
    "comments": "daily_comments",
    "shares": "daily_shares",
}
# real Business Suite metrics without an unambiguous canonical column
SUITE_UNUSED_TITLES = frozenset(
    {"viewers", "reach", "content interactions", "interactions", "visits", "link clicks"}
)
SUITE_DATE = "Date"
SUITE_VALUE = "Primary"
