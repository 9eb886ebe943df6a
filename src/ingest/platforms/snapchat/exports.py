"""Parsers for Snapchat: Public Profile API responses and the hand-copied Insights template."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from ingest.coerce import is_missing, to_count, to_display_date, to_utc_timestamp
from ingest.csvfiles import detect_encoding, read_csv
from ingest.errors import ParseError
from ingest.parsing import (
    Item,
    Note,
    ParseContext,
    Record,
    RowError,
    Sample,
    convert,
    dig,
    guarded,
    load_json,
    require,
)
from ingest.platforms.snapchat import settings as s

# ---- detection


def sniff_public_profiles(sample: Sample) -> bool:
    head = sample.json_head()
    return any(
        key in head for key in ('"public_profiles":[', '"public_profile":{', '"snap_user_name":')
    )


def sniff_profile_stats(sample: Sample) -> bool:
    head = sample.json_head()
    listed = any(f'"{key}":[' in head for key in s.STAT_LISTS if key != "assets")
    listed = listed or ('"assets":[' in head and '"timeseries":[' in head)
    # the ads API shares the envelope; its metrics are lowercase, the profile's are not
    return listed and any(f'"{metric}"' in head for metric in s.KNOWN_METRICS)


def sniff_insights_template(sample: Sample) -> bool:
    if sample.members:
        return False
    text = sample.head.decode(detect_encoding(sample.head), errors="replace").lstrip("\ufeff")
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and lines[0].lower().startswith("sep="):
        lines = lines[1:]
    if not lines:
        return False
    cells = {_column_key(cell.strip('"')) for cell in re.split(r"[,;\t]", lines[0])}
    return s.TEMPLATE_DATE in cells and bool(cells & s.TEMPLATE_MARKERS)


# ---- Public Profile entity


def parse_public_profiles(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """``GET /public_profiles/{id}`` (or a list of them): an account and its followers on ctx.day.

    Takes the Marketing-API envelope (``public_profiles[].public_profile``), a bare
    ``{"public_profile": {...}}`` or the profile object itself. An entry whose
    ``sub_request_status`` is not SUCCESS is rejected; its position in the list is its line.
    """
    doc = load_json(path, ctx.source)
    for index, entry in _profile_entries(doc, ctx):
        yield from guarded(index, entry, partial(_profile, entry, ctx))


def _profile_entries(doc: Any, ctx: ParseContext) -> list[tuple[int, Any]]:
    if not isinstance(doc, dict):
        raise ParseError(ctx.source, "expected a JSON object")
    if "public_profiles" in doc:
        entries = doc["public_profiles"]
        if not isinstance(entries, list):
            raise ParseError(ctx.source, "expected a list", field="public_profiles")
        return list(enumerate(entries, start=1))
    _check_request(doc, ctx)
    if "public_profile" in doc:
        return [(1, doc)]
    if "snap_user_name" in doc:
        return [(1, {"public_profile": doc})]
    raise ParseError(ctx.source, "no public profile in the response", field="public_profiles")


def _profile(entry: Any, ctx: ParseContext) -> list[Item]:
    if not isinstance(entry, dict):
        raise RowError(None, "expected an object")
    if not _succeeded(entry):
        _failed_sub_request(entry)
    profile = entry.get("public_profile")
    if not isinstance(profile, dict):
        raise RowError("public_profile", "expected an object")
    account_id = require(profile.get("id"), "public_profile.id")
    account: dict[str, Any] = {
        "platform": s.PLATFORM,
        "account_id": account_id,
        "handle": profile.get("snap_user_name"),
        "display_name": profile.get("display_name"),
    }
    if "created_at" in profile:
        account["created_at"] = convert(
            profile["created_at"], to_utc_timestamp, "public_profile.created_at"
        )
    rows: list[Item] = [Record("accounts", 0, account)]
    # subscriber_count is optional: absent means this response says nothing about followers
    if "subscriber_count" in profile:
        followers = convert(
            profile["subscriber_count"], to_count, "public_profile.subscriber_count"
        )
        rows.append(
            Record(
                "account_daily",
                0,
                {
                    "platform": s.PLATFORM,
                    "account_id": account_id,
                    "day": ctx.day,
                    "followers": followers,
                    "day_timezone": s.API_DAY_TIMEZONE,
                },
            )
        )
    return rows


def _check_request(doc: dict[str, Any], ctx: ParseContext) -> None:
    status = doc.get("request_status")
    if status is not None and status != s.SUCCESS:
        reason = doc.get("debug_message") or doc.get("display_message") or "no reason given"
        raise ParseError(ctx.source, f"the request failed ({status}): {reason}")


# ---- stats


def parse_profile_stats(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """``GET /v1/public_profiles/{id}/stats``: the profile's metrics as account-days.

    Reads both reported shapes, ``timeseries_stats[].timeseries_stat.timeseries[]`` and
    ``assets[].timeseries[]`` (and ``total_stats``/``lifetime_stats``), with metrics under
    ``fields`` or ``stats``. DAY gives one row per day; TOTAL and LIFETIME one row on the
    window's last day (``end_time`` is exclusive), or on ctx.day without one. Days are the
    dates as Snap writes them, with their offset recorded in ``day_timezone``. The profile is
    the stat object's ``id``, else ctx.account. Lines count stat entries in file order.
    """
    doc = load_json(path, ctx.source)
    if not isinstance(doc, dict):
        raise ParseError(ctx.source, "expected a JSON object")
    objects = _stat_objects(doc, ctx)
    if objects is None:
        _check_request(doc, ctx)
        raise ParseError(ctx.source, "no stats in the response", field="timeseries_stats")
    if not ctx.account and any(stat is not None and not stat.get("id") for _, stat, _ in objects):
        raise ParseError(ctx.source, "the stats response does not name its profile: pass --account")
    line = 0
    unused: set[str] = set()
    for item, stat, implied in objects:
        if stat is None:
            line += 1
            yield from guarded(line, item, partial(_failed_sub_request, item))
            continue
        entries = _entries(stat)
        granularity = str(stat.get("granularity") or doc.get("granularity") or "").upper()
        granularity = granularity or implied or _infer_granularity(entries)
        mapping = {
            s.DAY: s.DAY_METRICS,
            s.LIFETIME: s.LIFETIME_METRICS,
        }.get(granularity, s.TOTAL_METRICS)
        metrics: list[dict[str, Any] | RowError] = [_safe_metrics(e) for e in entries]
        present = {name for m in metrics if isinstance(m, dict) for name in m}
        chosen = {
            col: next(n for n in names if n in present)
            for col, names in mapping.items()
            if any(n in present for n in names)
        }
        unused |= present - set(chosen.values())
        account = str(stat.get("id") or ctx.account)
        for entry, found in zip(entries, metrics, strict=True):
            line += 1
            build = partial(_stat_row, entry, found, chosen, granularity, account, ctx)
            yield from guarded(line, entry, build)
    if unused:
        yield Note(f"{ctx.source}: metrics not loaded: {', '.join(sorted(unused))}")


_Stat = tuple[Any, dict[str, Any] | None, str | None]


def _stat_objects(doc: dict[str, Any], ctx: ParseContext) -> list[_Stat] | None:
    """Each stat object with the granularity its list implies; None for a failed sub-request."""
    found: list[_Stat] | None = None
    for key, (inner, implied) in s.STAT_LISTS.items():
        if key not in doc:
            continue
        items = doc[key]
        if not isinstance(items, list):
            raise ParseError(ctx.source, "expected a list", field=key)
        found = found or []
        for item in items:
            stat = item.get(inner) if inner and isinstance(item, dict) else item
            usable = isinstance(stat, dict) and _succeeded(item)
            found.append((item, stat if usable else None, implied))
    return found


def _succeeded(item: Any) -> bool:
    return isinstance(item, dict) and item.get("sub_request_status", s.SUCCESS) == s.SUCCESS


def _failed_sub_request(item: Any) -> list[Item]:
    if not isinstance(item, dict):
        raise RowError(None, "expected an object")
    if not _succeeded(item):
        reason = item.get("sub_request_error_reason") or "no reason given"
        raise RowError("sub_request_status", f"{item['sub_request_status']}: {reason}")
    raise RowError(None, "a stat entry without its stat object")


def _entries(stat: dict[str, Any]) -> list[Any]:
    timeseries = stat.get("timeseries")
    if timeseries is None:
        # total and lifetime objects carry their figures themselves
        return [stat] if ("stats" in stat or "fields" in stat) else []
    return timeseries if isinstance(timeseries, list) else [timeseries]


def _infer_granularity(entries: list[Any]) -> str:
    spans = []
    for entry in entries:
        try:
            start, end = _instant(entry, "start_time"), _instant(entry, "end_time")
        except RowError:
            continue
        spans.append(end - start if start and end else None)
    if spans and all(span == timedelta(days=1) for span in spans):
        return s.DAY
    return s.LIFETIME if spans and all(span is None for span in spans) else s.TOTAL


def _stat_row(
    entry: Any,
    found: dict[str, Any] | RowError,
    chosen: dict[str, str],
    granularity: str,
    account: str,
    ctx: ParseContext,
) -> list[Item]:
    if isinstance(found, RowError):
        raise found
    start, end = _instant(entry, "start_time"), _instant(entry, "end_time")
    if granularity == s.DAY:
        written = require(start, "start_time")
        day: date = written.date()
    else:
        written = end or start
        day = _last_day(end) if end else ctx.day
    daily: dict[str, Any] = {
        "platform": s.PLATFORM,
        "account_id": account,
        "day": day,
        "day_timezone": _zone(written) if written else s.API_DAY_TIMEZONE,
    }
    for column, name in chosen.items():
        flow = column in s.FLOW_COLUMNS
        daily[column] = convert(found.get(name), partial(to_count, allow_negative=flow), name)
    return [Record("account_daily", 0, daily)]


def _safe_metrics(entry: Any) -> dict[str, Any] | RowError:
    try:
        return _metrics(entry)
    except RowError as exc:
        return exc


def _metrics(entry: Any) -> dict[str, Any]:
    """Metric name -> raw value from an entry's ``fields`` or ``stats`` (object or list)."""
    if not isinstance(entry, dict):
        raise RowError(None, "expected an object")
    values: dict[str, Any] = {}
    for key in ("fields", "stats"):
        block = entry.get(key)
        if block is None:
            continue
        if isinstance(block, dict):
            for name, value in block.items():
                values[name] = value.get("value") if isinstance(value, dict) else value
        elif isinstance(block, list):
            values.update(_field(item, key) for item in block)
        else:
            raise RowError(key, "expected an object or a list")
    return values


def _field(item: Any, key: str) -> tuple[str, Any]:
    if not isinstance(item, dict):
        raise RowError(key, "expected an object per metric")
    name = dig(item, "field.field_name") or item.get("field_name") or item.get("name")
    if name is None and isinstance(item.get("field"), str):
        name = item["field"]
    if not isinstance(name, str) or not name:
        raise RowError(key, "a metric without a field_name")
    if "stats" not in item:
        return name, item.get("value")
    stats = item["stats"]
    if not isinstance(stats, list):
        raise RowError(f"{name}.stats", "expected a list")
    # only the undivided figure is the profile's; demographic slices are not
    totals = [
        stat.get("value")
        for stat in stats
        if isinstance(stat, dict)
        and stat.get("dimension_breakdown") in (None, "", s.DEFAULT_BREAKDOWN)
    ]
    return name, totals[0] if totals else None


def _instant(entry: Any, key: str) -> datetime | None:
    value = entry.get(key) if isinstance(entry, dict) else None
    if is_missing(value):
        return None
    if not isinstance(value, str):
        raise RowError(key, f"expected a timestamp, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise RowError(key, f"expected an ISO-8601 timestamp, got {value!r}") from exc
    # naive times in Snap requests and responses are UTC
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _last_day(end: datetime) -> date:
    return (end - timedelta(days=1)).date() if end.time() == time() else end.date()


def _zone(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta()
    if not offset:
        return s.API_DAY_TIMEZONE
    sign = "-" if offset < timedelta() else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


# ---- hand-copied Insights template


def parse_insights_template(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """Daily figures copied by hand from Snapchat's in-app Insights (see ``TEMPLATE.md``).

    Header (any order, case and spaces forgiven)::

        date,account,followers,followers_gained,followers_lost,snap_views,spotlight_views,
        viewers,shares,favorites,replies,screenshots

    ``date`` is required; ``account`` (Public Profile id, else username) may be left out when
    ``--account`` is given. ``daily_views`` is ``snap_views + spotlight_views`` and NULL when
    any of the two present columns is blank: a blank cell is "not copied", never zero.
    ``favorites`` -> daily_likes, ``replies`` -> daily_comments, ``shares`` -> daily_shares.
    ``viewers`` and ``screenshots`` have no canonical column and are not loaded.
    """
    with path.open("rb") as stream:
        header, rows = read_csv(stream, ctx.source)
        keys = {name: _column_key(name) for name in header if name}
        present = set(keys.values())
        if s.TEMPLATE_DATE not in present:
            raise ParseError(ctx.source, "required column 'date' is missing", field="date")
        if s.TEMPLATE_ACCOUNT not in present and not ctx.account:
            raise ParseError(ctx.source, "no 'account' column: add one or pass --account")
        unknown = [name for name, key in keys.items() if key not in s.TEMPLATE_COLUMNS]
        if unknown:
            yield Note(f"{ctx.source}: columns not used: {', '.join(unknown)}")
        for row in rows:
            values = {keys[name]: cell for name, cell in row.values.items() if name in keys}
            build = partial(_template_row, values, present, ctx)
            yield from guarded(row.line, ",".join(row.raw), build)


def _template_row(values: dict[str, str], present: set[str], ctx: ParseContext) -> list[Item]:
    day = require(convert(values.get(s.TEMPLATE_DATE), to_display_date, "date"), "date")
    account = require((values.get(s.TEMPLATE_ACCOUNT) or "").strip() or ctx.account, "account")
    daily: dict[str, Any] = {"platform": s.PLATFORM, "account_id": account, "day": day}
    for column, name in s.TEMPLATE_METRICS.items():
        if name in present:
            daily[column] = convert(values.get(name), to_count, name)
    views = [convert(values.get(n), to_count, n) for n in s.TEMPLATE_VIEWS if n in present]
    if views:
        daily["daily_views"] = None if None in views else sum(views)
    return [Record("account_daily", 0, daily)]


def _column_key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lstrip("\ufeff").strip().lower())
