"""The Snapchat file formats, in detection order: parser, sniffer and dating of each."""

from __future__ import annotations

from ingest.parsing import Format
from ingest.platforms.snapchat import exports
from ingest.snapshots import SERIES, SNAPSHOT

FORMATS: tuple[Format, ...] = (
    # pulled as DAY over a window; a LIFETIME answer is dated by its filing day
    Format(
        "snapchat",
        "profile_stats",
        exports.parse_profile_stats,
        exports.sniff_profile_stats,
        dating=SERIES,
    ),
    Format(
        "snapchat",
        "public_profiles",
        exports.parse_public_profiles,
        exports.sniff_public_profiles,
        dating=SNAPSHOT,
    ),
    Format(
        "snapchat",
        "insights_template",
        exports.parse_insights_template,
        exports.sniff_insights_template,
        dating=SERIES,
    ),
)
