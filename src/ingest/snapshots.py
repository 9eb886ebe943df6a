"""Which day an observation of current state may describe: the snapshot-day rule.

Every format declares whether it is a *snapshot* (the state at the moment it was asked:
follower counts, a post's counts so far) or a *series* (values that carry their own dates: daily
reports, insights with since/until, exports of a window). A series can be asked about any past
day; a snapshot cannot. A snapshot observed at instant T describes the UTC day of T, and the
nightly run of day D, which starts just after D ends, may also record what it observes within
``grace`` after midnight as D's end state. Nothing else may record a snapshot for D.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

Dating = Literal["snapshot", "series"]
SNAPSHOT: Dating = "snapshot"
SERIES: Dating = "series"

DEFAULT_GRACE = timedelta(hours=6)


def grace_from_env() -> timedelta:
    """``INGEST_SNAPSHOT_GRACE_HOURS`` (hours from 0 to 24, may be fractional), else 6 hours.

    Raises:
        ConfigError: the variable is not such a number (the error names it and the value).
    """
    # why here: ingest.settings imports pydantic, and DAG files import this module
    from ingest.settings import read_core

    return timedelta(hours=read_core().snapshot_grace_hours)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def snapshot_fits(day: date, observed_at: datetime, grace: timedelta = DEFAULT_GRACE) -> bool:
    """True when a snapshot observed at ``observed_at`` may be recorded as day ``day``.

    That is when it was observed during ``day`` (UTC), or at most ``grace`` after ``day``
    ended (the nightly run recording the day just ended).
    """
    start = day_start(day)
    return start <= observed_at.astimezone(UTC) <= start + timedelta(days=1) + grace


def why_not(day: date, observed_at: datetime, grace: timedelta = DEFAULT_GRACE) -> str:
    """Why a snapshot observed at ``observed_at`` cannot describe ``day``, in words."""
    seen = observed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    limit = (day_start(day) + timedelta(days=1) + grace).strftime("%Y-%m-%d %H:%M UTC")
    if observed_at.astimezone(UTC) < day_start(day):
        return f"{day} has not begun at {seen}; a snapshot cannot describe a later day"
    return (
        f"it reports the current state, which at {seen} is not {day}'s state (a snapshot is"
        f" recorded for {day} only when observed by {limit})"
    )
