"""Turn the platforms' display-formatted values into typed values, or say why not."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

INT64_MAX = 2**63 - 1

# what exports write for "no value"
MISSING_MARKERS = frozenset(
    {"", "-", "--", "\u2014", "\u2013", "n/a", "N/A", "undefined", "null", "None"}
)

# ASCII digits only: \d and int() also take Arabic-Indic, fullwidth and other digits, which no
# platform writes in a number; such a value is refused with its reason rather than guessed at
_INT_RE = re.compile(r"^[+-]?[0-9]+$")
_GROUPED_RE = re.compile(r"^[+-]?[0-9]{1,3}([,.\u00a0 '][0-9]{3})+$")
# more digits than any 64-bit count has; longer ones are refused before int() is asked (it
# raises a plain ValueError past 4,300 digits, and is slow well before)
MAX_COUNT_DIGITS = 19


class CoercionError(ValueError):
    """A value that cannot be read as the type asked for; the message says why."""


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in MISSING_MARKERS)


def to_count(value: object, *, allow_negative: bool = False) -> int | None:
    """Read a count: JSON int, numeric string, or string with thousands separators.

    Returns None for the markers exports use for "no value". Floats with a fraction,
    NaN, infinity and values beyond 64 bits are errors, never rounded or clipped.
    """
    if is_missing(value):
        return None
    if isinstance(value, bool):
        raise CoercionError(f"expected a count, got boolean {value}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")) or not value.is_integer():
            raise CoercionError(f"expected a whole count, got {value!r}")
        number = int(value)
    elif isinstance(value, str):
        text = value.strip().strip('"')
        digits = re.sub(r"[+\-,.\u00a0 ']", "", text)
        if _foreign_digits(text):
            raise CoercionError(f"expected a count in ASCII digits, got {_show(value)}")
        if len(digits.lstrip("0")) > MAX_COUNT_DIGITS and digits.isdigit():
            raise CoercionError(f"count of {len(digits)} digits does not fit in 64 bits")
        if _INT_RE.match(text):
            number = int(text)
        elif _GROUPED_RE.match(text):
            number = int(digits)
        else:
            raise CoercionError(f"expected a count, got {_show(value)}")
    else:
        raise CoercionError(f"expected a count, got {type(value).__name__}")
    if abs(number) > INT64_MAX:
        raise CoercionError(f"count {_show(value)} does not fit in 64 bits")
    if number < 0 and not allow_negative:
        raise CoercionError(f"count must not be negative, got {number}")
    return number


def _foreign_digits(text: str) -> bool:
    """Whether text holds digits other than 0-9 (which ``int`` would silently accept)."""
    return not text.isascii() and any(c.isdigit() or c.isdecimal() for c in text)


def to_utc_timestamp(value: object) -> datetime | None:
    """Read an ISO-8601 timestamp (``Z``, ``+0000`` or ``+00:00``) or Unix seconds, as UTC."""
    if is_missing(value):
        return None
    if isinstance(value, bool):
        raise CoercionError(f"expected a timestamp, got boolean {value}")
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise CoercionError(f"Unix time {value!r} is out of range") from exc
    if not isinstance(value, str):
        raise CoercionError(f"expected a timestamp, got {type(value).__name__}")
    text = value.strip()
    if _foreign_digits(text):
        raise CoercionError(f"expected a timestamp in ASCII digits, got {_show(value)}")
    if text.isdigit():
        if len(text) > MAX_COUNT_DIGITS:
            raise CoercionError(f"Unix time of {len(text)} digits is out of range")
        return to_utc_timestamp(int(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise CoercionError(f"expected an ISO-8601 timestamp, got {_show(value)}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def to_date(value: object) -> date | None:
    """Read a calendar date: ``YYYY-MM-DD``, ``YYYYMMDD`` or a date-time's date part."""
    if is_missing(value):
        return None
    if not isinstance(value, str):
        raise CoercionError(f"expected a date, got {type(value).__name__}")
    text = value.strip()
    if _foreign_digits(text):
        raise CoercionError(f"expected a date in ASCII digits, got {_show(value)}")
    try:
        if len(text) == 8 and text.isdigit():
            return datetime.strptime(text, "%Y%m%d").date()
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise CoercionError(f"expected a date, got {_show(value)}") from exc


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_DURATION_RE = re.compile(
    r"^P(?:([0-9]{1,9})D)?(?:T(?:([0-9]{1,9})H)?(?:([0-9]{1,9})M)?(?:([0-9]{1,12})S)?)?$"
)


def iso_duration_seconds(value: object) -> int | None:
    """Seconds in an ISO-8601 duration such as ``PT1H19M18S`` (a video's length in some APIs)."""
    if is_missing(value):
        return None
    match = _DURATION_RE.match(str(value).strip())
    if not match:
        raise CoercionError(f"expected an ISO-8601 duration, got {_show(value)}")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def clock_seconds(value: object) -> int | None:
    """Seconds in ``H:MM:SS`` / ``M:SS`` or a plain number of seconds (Studio durations)."""
    if is_missing(value):
        return None
    text = str(value).strip()
    if not text.isascii() or len(text) > 20:
        raise CoercionError(f"expected a duration like H:MM:SS, got {_show(value)}")
    if text.isdigit():
        return int(text)
    parts = text.split(":")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise CoercionError(f"expected a duration like H:MM:SS, got {_show(value)}")
    total = 0
    for part in parts:
        total = total * 60 + int(part)
    return total


def to_display_date(value: object) -> date | None:
    """Read the dates exports show people: ``Sep 22, 2026``, ``September 22, 2026`` or ISO."""
    if is_missing(value):
        return None
    text = str(value).strip()
    if _foreign_digits(text):
        raise CoercionError(f"expected a date in ASCII digits, got {_show(value)}")
    for pattern in ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    try:
        return to_date(text)
    except CoercionError as exc:
        raise CoercionError(f"expected a date like 'Sep 22, 2026', got {_show(value)}") from exc


def repair_mojibake(text: str) -> str:
    """Undo Meta's export encoding, where each UTF-8 byte was written as its own ``\\u00XX``.

    ``"Rados\\u00c5\\u0082aw"`` becomes ``"Radosław"``. Text is changed only when all of it is
    in the Latin-1 range and its bytes decode as UTF-8, so real Latin-1 text (``"café"``) stays.
    """
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text


_MONTH_NAMES = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MONTHS: dict[str, int] = {
    **{name: number for number, name in enumerate(_MONTH_NAMES, start=1)},
    **{name[:3]: number for number, name in enumerate(_MONTH_NAMES, start=1)},
    "sept": 9,
}
_MONTH_DAY_RE = re.compile(r"^(?:([a-z]+)\.? (\d{1,2})|(\d{1,2}) ([a-z]+)\.?)$")


def to_month_day(value: object) -> tuple[int, int] | None:
    """Read an English date shown without its year (``August 31``, ``Aug 31``, ``31 Aug``).

    Returns ``(month, day)``; give it a year with ``infer_years``.
    """
    if is_missing(value):
        return None
    text = " ".join(str(value).split()).lower()
    if _foreign_digits(text):
        raise CoercionError(f"expected a date in ASCII digits, got {_show(value)}")
    match = _MONTH_DAY_RE.match(text)
    if not match:
        raise CoercionError(f"expected a date like 'August 31', got {_show(value)}")
    name, day_text = (match.group(1), match.group(2)) if match.group(1) else match.group(4, 3)
    month = _MONTHS.get(name)
    if month is None:
        raise CoercionError(f"unknown month in {_show(value)}")
    try:
        date(2000, month, int(day_text))  # a leap year, so February 29 passes here
    except ValueError as exc:
        raise CoercionError(f"no such day: {_show(value)}") from exc
    return month, int(day_text)


def infer_years(month_days: list[tuple[int, int]], latest: date) -> list[int]:
    """The year of each date in a daily series shown without years (Studio exports).

    The series is in date order, oldest or newest first. Its newest date is taken as the last
    such day at or before ``latest`` (the day the export was made), and the year steps back
    wherever the month-days wrap, so a window across New Year gets two years.
    """
    ascending = _years_back_from_end(month_days, latest)
    descending = _years_back_from_end(month_days[::-1], latest)[::-1]
    # a daily series is compact: the reading that spans fewer days is the right direction
    if _span(month_days, descending) < _span(month_days, ascending):
        return descending
    return ascending


def _years_back_from_end(month_days: list[tuple[int, int]], latest: date) -> list[int]:
    if not month_days:
        return []
    year = latest.year if month_days[-1] <= (latest.month, latest.day) else latest.year - 1
    years = [year]
    for earlier, later in zip(month_days[-2::-1], month_days[:0:-1], strict=True):
        if earlier > later:
            year -= 1
        years.append(year)
    return years[::-1]


def _span(month_days: list[tuple[int, int]], years: list[int]) -> int:
    # ordinal-like keys; exact lengths do not matter, only which reading is shorter
    keys = [y * 372 + m * 31 + d for (m, d), y in zip(month_days, years, strict=True)]
    return max(keys, default=0) - min(keys, default=0)
