"""The YouTube file formats, in detection order: parser, sniffer and dating of each."""

from __future__ import annotations

from ingest.parsing import Format
from ingest.platforms.youtube import exports
from ingest.platforms.youtube.stagers import (
    stage_studio_zip,
    stage_videos_list,
    stage_videos_lists,
)
from ingest.snapshots import SERIES, SNAPSHOT

FORMATS: tuple[Format, ...] = (
    Format(
        "youtube",
        "channels_list",
        exports.parse_channels_list,
        exports.sniff_channels_list,
        dating=SNAPSHOT,
    ),
    Format(
        "youtube",
        "videos_list",
        exports.parse_videos_list,
        exports.sniff_videos_list,
        native=stage_videos_list,
        native_group=stage_videos_lists,
        dating=SNAPSHOT,
    ),
    Format(
        "youtube",
        "playlist_items",
        exports.parse_playlist_items,
        exports.sniff_playlist_items,
        dating=SNAPSHOT,
    ),
    Format(
        "youtube",
        "analytics_report",
        exports.parse_analytics_report,
        exports.sniff_analytics_report,
        needs_account=True,
        dating=SERIES,
    ),
    # Totals.csv is daily; the table's window totals are dated by the window in its name
    Format(
        "youtube",
        "studio_zip",
        exports.parse_studio_zip,
        exports.sniff_studio_zip,
        needs_account=True,
        native=stage_studio_zip,
        dating=SERIES,
    ),
)
