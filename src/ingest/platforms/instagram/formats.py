"""The Instagram file formats, in detection order: parser, sniffer and dating of each."""

from __future__ import annotations

from ingest.parsing import Format
from ingest.platforms.instagram import exports
from ingest.snapshots import SERIES, SNAPSHOT

# business_discovery before user: its response carries the same count fields
FORMATS: tuple[Format, ...] = (
    Format(
        "instagram",
        "business_discovery",
        exports.parse_business_discovery,
        exports.sniff_business_discovery,
        dating=SNAPSHOT,
    ),
    Format("instagram", "user", exports.parse_user, exports.sniff_user, dating=SNAPSHOT),
    Format(
        "instagram",
        "media_list",
        exports.parse_media_list,
        exports.sniff_media_list,
        dating=SNAPSHOT,
    ),
    Format(
        "instagram",
        "media_insights",
        exports.parse_media_insights,
        exports.sniff_media_insights,
        needs_account=True,
        dating=SNAPSHOT,
    ),
    # time_series values carry end_time; a total_value answer is dated by its filing day
    Format(
        "instagram",
        "user_insights",
        exports.parse_user_insights,
        exports.sniff_user_insights,
        dating=SERIES,
    ),
    Format(
        "instagram",
        "dyi_export",
        exports.parse_dyi_export,
        exports.sniff_dyi_export,
        needs_account=True,
        dating=SNAPSHOT,
    ),
    Format(
        "instagram",
        "suite_csv",
        exports.parse_suite_csv,
        exports.sniff_suite_csv,
        needs_account=True,
        dating=SERIES,
    ),
)
