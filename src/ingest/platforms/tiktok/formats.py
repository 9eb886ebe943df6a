"""The TikTok file formats, in detection order: parser, sniffer and dating of each."""

from __future__ import annotations

from ingest.parsing import Format
from ingest.platforms.tiktok import exports
from ingest.platforms.tiktok.stagers import stage_video_queries, stage_video_query
from ingest.snapshots import SERIES, SNAPSHOT

FORMATS: tuple[Format, ...] = (
    Format(
        "tiktok",
        "research_user_info",
        exports.parse_research_user_info,
        exports.sniff_research_user_info,
        needs_account=True,
        dating=SNAPSHOT,
    ),
    Format(
        "tiktok",
        "research_video_query",
        exports.parse_research_video_query,
        exports.sniff_research_video_query,
        native=stage_video_query,
        native_group=stage_video_queries,
        dating=SNAPSHOT,
    ),
    Format(
        "tiktok",
        "display_user_info",
        exports.parse_display_user_info,
        exports.sniff_display_user_info,
        dating=SNAPSHOT,
    ),
    Format(
        "tiktok",
        "display_video_list",
        exports.parse_display_video_list,
        exports.sniff_display_video_list,
        needs_account=True,
        dating=SNAPSHOT,
    ),
    Format(
        "tiktok",
        "studio_overview",
        exports.parse_studio_overview,
        exports.sniff_studio_overview,
        needs_account=True,
        dating=SERIES,
    ),
    Format(
        "tiktok",
        "studio_follower_history",
        exports.parse_studio_follower_history,
        exports.sniff_studio_follower_history,
        needs_account=True,
        dating=SERIES,
    ),
    # recognised so it is not an unknown file; it loads nothing, so it needs no account
    Format(
        "tiktok",
        "studio_viewers",
        exports.parse_studio_viewers,
        exports.sniff_studio_viewers,
        dating=SERIES,
    ),
    # each video's totals at export time: the state when the file was made
    Format(
        "tiktok",
        "studio_content",
        exports.parse_studio_content,
        exports.sniff_studio_content,
        needs_account=True,
        dating=SNAPSHOT,
    ),
    # its daily tables carry dates; a content table inside is dated by its filing day
    Format(
        "tiktok",
        "studio_zip",
        exports.parse_studio_zip,
        exports.sniff_studio_zip,
        needs_account=True,
        dating=SERIES,
    ),
)
