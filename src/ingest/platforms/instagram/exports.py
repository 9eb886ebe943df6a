"""Parsers for Instagram: Graph API responses, "Download your information", Business Suite CSVs.

One module for all of the platform's parsers, on purpose (it runs past 600 lines): the formats
share their id, date and owner rules (the helpers at the end), and the lineage registry and the
native stagers point at these parsers as the reference for what every format yields.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from ingest import lineage
from ingest.archives import is_zip, open_zip
from ingest.coerce import repair_mojibake, to_count, to_date, to_utc_timestamp
from ingest.csvfiles import detect_encoding, read_csv
from ingest.errors import ParseError
from ingest.jsonstream import Value, top_level
from ingest.parsing import (
    Item,
    Note,
    ParseContext,
    Record,
    Reject,
    RowError,
    Sample,
    convert,
    dig,
    guarded,
    has,
    load_json,
    raw_json,
    require,
)
from ingest.platforms.instagram import settings as s
from ingest.redaction import redact

PACIFIC = ZoneInfo(s.INSIGHTS_DAY_TIMEZONE)

# ---- detection

_NUMERIC_ID_RE = re.compile(r'"id":"\d+"')
_INSIGHT_ID_RE = re.compile(r'"id":"\d+/insights/')
_MEDIA_ITEM_RE = re.compile(
    r'"media_type":"(IMAGE|VIDEO|CAROUSEL_ALBUM)"|"permalink":"https://www\.instagram\.com/'
)
_FOLLOWERS_FILE_RE = re.compile(r"followers_\d+\.json$")


def sniff_user(sample: Sample) -> bool:
    head = sample.json_head()
    return (
        head.startswith("{")
        and not head.startswith('{"data":')
        and '"business_discovery":' not in head
        and any(f'"{field}":' in head for field in s.USER_COUNTS)
        and _NUMERIC_ID_RE.search(head) is not None
    )


def sniff_business_discovery(sample: Sample) -> bool:
    return '"business_discovery":{' in sample.json_head()


def sniff_media_list(sample: Sample) -> bool:
    head = sample.json_head()
    return head.startswith('{"data":[{') and _MEDIA_ITEM_RE.search(head) is not None


def sniff_media_insights(sample: Sample) -> bool:
    head = sample.json_head()
    return (
        _is_insights(head)
        and '"period":"lifetime"' in head
        and '"end_time":' not in head
        and '"total_value":' not in head
    )


def sniff_user_insights(sample: Sample) -> bool:
    head = sample.json_head()
    return _is_insights(head) and ('"end_time":' in head or '"total_value":' in head)


def _is_insights(head: str) -> bool:
    return (
        head.startswith('{"data":[{')
        and _INSIGHT_ID_RE.search(head) is not None
        and _MEDIA_ITEM_RE.search(head) is None
    )


def sniff_dyi_export(sample: Sample) -> bool:
    if sample.members:
        return any(_dyi_member(m) for m in sample.members)
    head = sample.json_head()
    return head.startswith(
        tuple(f'{{"{key}":' for key in (s.DYI_POSTS_KEY, s.DYI_REELS_KEY, s.DYI_FOLLOWING_KEY))
    ) or (
        head.startswith("[{") and '"string_list_data":[{"href":"https://www.instagram.com/' in head
    )


def sniff_suite_csv(sample: Sample) -> bool:
    if not _may_hold_suite_header(sample.head):
        return False
    lines = _head_lines(sample.head)
    return any(_cells(line)[:2] == [s.SUITE_DATE, s.SUITE_VALUE] for line in lines[:4])


# each column name with quotes allowed between its letters: the CSV reader drops quotes
_SUITE_NAMES = tuple(
    re.compile(b'"*'.join(re.escape(bytes([c])) for c in name.encode()))
    for name in (s.SUITE_DATE, s.SUITE_VALUE)
)


def _may_hold_suite_header(head: bytes) -> bool:
    # why: parsing a long line (a one-line JSON page) as CSV costs more than every other
    # sniffer together. In UTF-8 a header the CSV reader reads as these names has their
    # letters in its bytes, quotes aside, so this rules out no file the parse would take
    if detect_encoding(head).startswith("utf-16"):
        return True
    return all(name.search(head) for name in _SUITE_NAMES)


# ---- Graph API: IG User and business_discovery


def parse_user(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """IG User node (``GET /<IG_USER_ID>?fields=…``): the account and its public counts that day."""
    doc = _object(path, ctx)
    _account_id(doc, ctx, "id")
    yield from guarded(1, doc, partial(_account, doc, ctx))
    yield from _note(ctx, "fields not used", {k for k in doc if k not in s.USER_FIELDS})


def parse_business_discovery(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """``business_discovery`` of another professional account, with its nested ``media`` edge."""
    doc = _object(path, ctx)
    node = doc.get("business_discovery")
    if not isinstance(node, dict):
        raise ParseError(ctx.source, "expected an object", field="business_discovery")
    account_id = _account_id(node, ctx, "business_discovery.id")
    yield from guarded(1, node, partial(_account, node, ctx))
    media = dig(node, "media.data", [])
    if not isinstance(media, list):
        raise ParseError(ctx.source, "expected a list", field="business_discovery.media.data")
    fields: set[str] = set()
    metrics: set[str] = set()
    for index, item in enumerate(media, start=1):
        build = partial(_media, item, ctx.day, account_id, fields, metrics)
        yield from guarded(index, item, build)
    yield from _note(ctx, "fields not used", {k for k in node if k not in s.USER_FIELDS} | fields)
    yield from _note(ctx, "insight metrics not used", metrics)


def _account(node: dict[str, Any], ctx: ParseContext) -> list[Item]:
    account_id = _id(node.get("id"), "id")
    account: dict[str, Any] = {"platform": s.PLATFORM, "account_id": account_id}
    # only what the response carries: an unrequested field must not blank a stored value
    if "username" in node:
        account["handle"] = node["username"]
    if "name" in node:
        account["display_name"] = node["name"]
    rows: list[Item] = [Record("accounts", 0, account)]
    daily: dict[str, Any] = {}
    for field, column in s.USER_COUNTS.items():
        if field in node:
            daily[column] = convert(node[field], to_count, field)
    if "followers" in daily:
        # instagram neither hides nor rounds follower counts
        daily.update(followers_hidden=False, followers_rounded=False)
    if daily:
        key = {"platform": s.PLATFORM, "account_id": account_id, "day": ctx.day}
        daily.update(key, day_timezone=s.SNAPSHOT_DAY_TIMEZONE)
        rows.append(Record("account_daily", 0, daily))
    return rows


# ---- Graph API: media and media insights


def parse_media_list(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """IG Media list (``GET /<IG_USER_ID>/media?fields=…``): posts and their counts that day.

    The owner comes from ``owner.id`` where the fields asked for it, else from ``--account``.
    Media insights expanded inline (``insights.metric(…)``) are read as well.
    """
    doc = _object(path, ctx)
    items = _data(doc, ctx)
    if not ctx.account and not all(has(i, "owner.id") for i in items if isinstance(i, dict)):
        raise ParseError(
            ctx.source, "media items do not name their owner (owner.id): pass --account"
        )
    fields: set[str] = set()
    metrics: set[str] = set()
    handles: dict[str, Any] = {}
    for index, item in enumerate(items, start=1):
        build = partial(_media, item, ctx.day, ctx.account, fields, metrics)
        for row in guarded(index, item, build):
            yield row
            if isinstance(row, Record) and row.entity == "posts" and "username" in item:
                handles.setdefault(row.values["account_id"], (index, item["username"]))
    for account_id, (index, handle) in handles.items():
        values = {"platform": s.PLATFORM, "account_id": account_id, "handle": handle}
        yield Record("accounts", index, values)
    yield from _note(ctx, "fields not used", fields)
    yield from _note(ctx, "insight metrics not used", metrics)


def _media(
    item: Any,
    day: date,
    account: str | None,
    unknown_fields: set[str],
    unknown_metrics: set[str],
) -> list[Item]:
    if not isinstance(item, dict):
        raise RowError(None, "expected a media object")
    unknown_fields.update(k for k in item if k not in s.MEDIA_FIELDS)
    post_id = _id(item.get("id"), "id")
    owner = dig(item, "owner.id")
    account_id = _id(owner, "owner.id") if owner is not None else require(account, "owner.id")
    published_at = convert(item.get("timestamp"), to_utc_timestamp, "timestamp")
    # meta omits `caption` on posts without one; the other fields only when not asked for
    post: dict[str, Any] = {
        "platform": s.PLATFORM,
        "post_id": post_id,
        "account_id": account_id,
        "caption": item.get("caption"),
    }
    if published_at is not None:
        post["published_at"] = published_at
    if "media_type" in item or "media_product_type" in item:
        post["media_type"] = _media_type(item)
    if "permalink" in item:
        post["permalink"] = item["permalink"]
    daily: dict[str, Any] = {}
    if has(item, "insights"):
        daily.update(_media_metrics(dig(item, "insights.data"), day, unknown_metrics))
    if "like_count" in item or "comments_count" in item:
        # like_count is left out when the owner hides likes: NULL and flagged, never 0
        daily["likes_hidden"] = "like_count" not in item
        if "like_count" in item or "likes" not in daily:
            daily["likes"] = convert(item.get("like_count"), to_count, "like_count")
        if "comments_count" in item:
            daily["comments"] = convert(item["comments_count"], to_count, "comments_count")
    rows: list[Item] = [Record("posts", 0, post)]
    if daily:
        daily.update(platform=s.PLATFORM, post_id=post_id, account_id=account_id, day=day)
        if published_at is not None:
            daily["published_at"] = published_at
        rows.append(Record("post_daily", 0, daily))
    return rows


def _media_type(item: dict[str, Any]) -> str | None:
    product = item.get("media_product_type")
    kind = item.get("media_type")
    if product in s.PRODUCT_TYPES:
        return s.PRODUCT_TYPES[product]
    if kind in s.MEDIA_TYPES:
        return s.MEDIA_TYPES[kind]
    return str(kind).lower() if kind else None


def parse_media_insights(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """Media insights (``GET /<IG_MEDIA_ID>/insights?metric=…``): lifetime counts on the pull's day.

    A response names its media only inside each metric's ``id``, and never its account.
    An empty ``data`` means Meta has nothing for the media yet: nothing is recorded (not zeros).
    """
    doc = _object(path, ctx)
    entries = _data(doc, ctx)
    if not entries:
        yield Note(f"{ctx.source}: no insights available (empty data); nothing recorded")
        return
    account = _need_account(ctx, "media insights do not name their account")
    groups: dict[str, tuple[int, list[Any]]] = {}
    for index, entry in enumerate(entries, start=1):
        media_id = _insight_owner(entry)
        if media_id is None:
            reason = "id: expected '<MEDIA_ID>/insights/<metric>/<period>'"
            yield Reject(index, reason, raw_json(entry), "id")
            continue
        groups.setdefault(media_id, (index, []))[1].append(entry)
    metrics: set[str] = set()
    for media_id, (line, group) in groups.items():

        def build(media_id: str = media_id, group: list[Any] = group) -> list[Item]:
            values = _media_metrics(group, ctx.day, metrics)
            if not values:
                return []
            key = {"platform": s.PLATFORM, "post_id": media_id, "account_id": account}
            return [Record("post_daily", 0, {**key, "day": ctx.day, **values})]

        yield from guarded(line, group, build)
    yield from _note(ctx, "insight metrics not used", metrics)


def _media_metrics(entries: Any, day: date, unknown: set[str]) -> dict[str, Any]:
    if not isinstance(entries, list):
        raise RowError("insights.data", "expected a list")
    if not entries:
        # unavailable (too new, album child, expired story): unknown, not zero
        return dict.fromkeys(s.INSIGHT_ONLY_COLUMNS)
    names = [n for n in (dig(e, "name") for e in entries) if isinstance(n, str)]
    # during meta's migration windows a response can carry the old and the new metric
    replaced = lineage.outranked(s.PLATFORM, names, surface=s.MEDIA_INSIGHTS)
    values: dict[str, Any] = {}
    for entry in entries:
        name = dig(entry, "name")
        column = _insight_column(name, day, s.MEDIA_INSIGHTS, replaced, unknown)
        if column is None:
            continue
        if entry.get("period", "lifetime") != "lifetime":
            raise RowError("period", f"{name}: expected a lifetime metric, got {entry['period']!r}")
        points = entry.get("values")
        point = points[0] if isinstance(points, list) and points else {}
        values[column] = convert(dig(point, "value"), to_count, name)
    return values


# ---- Graph API: account insights


def parse_user_insights(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """Account insights (``GET /<IG_USER_ID>/insights``): daily flows of the account.

    ``time_series`` values carry ``end_time``, the end of a Pacific day (``T07:00``/``T08:00``
    UTC is midnight in Los Angeles), so the day is the Pacific date of the instant before
    ``end_time`` and is recorded with ``day_timezone`` America/Los_Angeles, not shifted to
    UTC. A ``total_value`` (what the pull asked for with ``since``/``until``) is the pull's day.
    """
    doc = _object(path, ctx)
    entries = _data(doc, ctx)
    if not entries:
        yield Note(f"{ctx.source}: no insights available (empty data); nothing recorded")
        return
    names = {n for n in (dig(e, "name") for e in entries) if isinstance(n, str)}
    if s.FOLLOWS_AND_UNFOLLOWS in names:
        # the registry ranks its follow_type parts above follower_count, which counts the same
        names.update(f"{s.FOLLOWS_AND_UNFOLLOWS}.{kind}" for kind in s.FOLLOW_TYPES)
    skip = lineage.outranked(s.PLATFORM, names, surface=s.USER_INSIGHTS)
    metrics: set[str] = set()
    merged: dict[tuple[str, date], Record] = {}
    for index, entry in enumerate(entries, start=1):
        build = partial(_user_insight, entry, ctx, skip, metrics)
        for row in guarded(index, entry, build):
            if not isinstance(row, Record):
                yield row
                continue
            key = (row.values["account_id"], row.values["day"])
            if key in merged:
                merged[key].values.update(row.values)
            else:
                merged[key] = row
    yield from merged.values()
    yield from _note(ctx, "insight metrics not used", metrics)


def _user_insight(entry: Any, ctx: ParseContext, skip: set[str], unknown: set[str]) -> list[Item]:
    if not isinstance(entry, dict):
        raise RowError(None, "expected a metric object")
    name = entry.get("name")
    if not isinstance(name, str):
        raise RowError("name", "required value is missing")
    account_id = _insight_owner(entry) or require(ctx.account, "id")
    if name == s.FOLLOWS_AND_UNFOLLOWS:
        flows = _follow_types(entry)
        if not flows:
            unknown.add(f"{name} (without follow_type breakdown)")
            return []
        return [_flow(account_id, ctx.day, None, flows)]
    if name in skip or not lineage.loads(s.PLATFORM, name, surface=s.USER_INSIGHTS):
        unknown.add(name)
        return []
    if entry.get("period") != "day":
        raise RowError("period", f"{name}: expected daily values, got {entry.get('period')!r}")
    if "total_value" in entry:
        column = _insight_column(name, ctx.day, s.USER_INSIGHTS, skip, unknown)
        if column is None:
            return []
        value = convert(dig(entry, "total_value.value"), _flow_count, name)
        return [_flow(account_id, ctx.day, None, {column: value})]
    points = entry.get("values")
    if not isinstance(points, list):
        raise RowError("values", "expected a list")
    rows: list[Item] = []
    for point in points:
        end = require(convert(dig(point, "end_time"), to_utc_timestamp, "end_time"), "end_time")
        day = (end - timedelta(seconds=1)).astimezone(PACIFIC).date()
        # each day of a series is judged on its own: a metric can retire mid-series
        column = _insight_column(name, day, s.USER_INSIGHTS, skip, unknown)
        if column is None:
            continue
        value = convert(dig(point, "value"), _flow_count, name)
        rows.append(_flow(account_id, day, s.INSIGHTS_DAY_TIMEZONE, {column: value}))
    return rows


def _insight_column(
    name: Any, day: date, surface: str, replaced: set[str], unknown: set[str]
) -> str | None:
    """The core column an insight metric loads into on ``day`` (metric lineage), else None."""
    if not isinstance(name, str):
        unknown.add(str(name))
        return None
    column = (
        None if name in replaced else lineage.column_for(s.PLATFORM, name, day, surface=surface)
    )
    if column is None:
        retired = lineage.retired_on(s.PLATFORM, name, day, surface=surface)
        unknown.add(f"{name} (retired {retired})" if retired else name)
    return column


def _follow_types(entry: dict[str, Any]) -> dict[str, Any]:
    flows: dict[str, Any] = {}
    for breakdown in dig(entry, "total_value.breakdowns") or []:
        if dig(breakdown, "dimension_keys") != ["follow_type"]:
            continue
        for result in dig(breakdown, "results") or []:
            kind = (dig(result, "dimension_values") or [None])[0]
            if kind in s.FOLLOW_TYPES:
                flows[s.FOLLOW_TYPES[kind]] = convert(dig(result, "value"), _flow_count, kind)
    return flows


def _flow(account_id: str, day: date, zone: str | None, flows: dict[str, Any]) -> Record:
    values = {"platform": s.PLATFORM, "account_id": account_id, "day": day, **flows}
    if zone is not None:
        values["day_timezone"] = zone
    return Record("account_daily", 0, values)


def _flow_count(value: object) -> int | None:
    return to_count(value, allow_negative=True)


# ---- "Download your information" export

_MEDIA_ID_IN_URI_RE = re.compile(r"_(\d{15,})\.\w+$")


def parse_dyi_export(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """Instagram's "Download your information" export (zip or one of its JSON files).

    ``past_instagram_insights/{posts,reels}.json`` give each post's lifetime counts at export
    time, recorded on the load's day; ``followers_N.json`` list every follower, so their
    entries summed are the follower count that day (``following.json`` likewise). Meta writes
    each UTF-8 byte as its own ``\\u00XX``: every string is repaired before use.
    """
    account = _need_account(ctx, "an Instagram export does not name its account reliably")
    followers: int | None = None
    following: int | None = None
    labels: set[str] = set()
    insights = (s.DYI_POSTS_KEY, s.DYI_REELS_KEY)
    for source, stream in _dyi_documents(path, ctx):
        known = False
        index = 0
        # streamed: a followers list of any length is counted without being held
        for part in top_level(stream, source, build=lambda key: key in insights):
            if isinstance(part, Value):
                if part.key is None and part.kind == "array":
                    followers, known = followers or 0, True
                elif part.key == s.DYI_FOLLOWING_KEY and part.kind == "array":
                    following, known = 0, True
                elif part.key in insights:
                    if part.kind != "array":
                        raise ParseError(source, "expected a list of insights")
                    known = True
            elif part.key is None:
                followers = (followers or 0) + 1
            elif part.key == s.DYI_FOLLOWING_KEY:
                following = (following or 0) + 1
            else:
                index += 1
                entry = _repair(part.value)
                for row in guarded(index, entry, partial(_dyi_post, entry, account, ctx, labels)):
                    if isinstance(row, Reject) and source != ctx.source:
                        row.reason = f"{source}: {row.reason}"
                    yield row
        if not known:
            raise ParseError(source, "not an Instagram insights or followers file")
    counts = {"followers": followers, "following": following}
    if any(v is not None for v in counts.values()):
        values = {"platform": s.PLATFORM, "account_id": account, "day": ctx.day}
        values.update({k: v for k, v in counts.items() if v is not None})
        yield Record("account_daily", 1, values)
    yield from _note(ctx, "insight labels not used", labels)


def _dyi_documents(path: Path, ctx: ParseContext) -> Iterator[tuple[str, IO[bytes]]]:
    if not is_zip(path):
        with path.open("rb") as stream:
            yield ctx.source, stream
        return
    with open_zip(path, ctx.source) as archive:
        members = sorted(m for m in archive.names() if _dyi_member(m))
        if not members:
            raise ParseError(ctx.source, "the archive has no Instagram insights or followers files")
        for member in members:
            with archive.open(member) as stream:
                yield redact(f"{ctx.source}!{member}"), stream


def _dyi_member(name: str) -> bool:
    if s.DYI_INSIGHTS_DIR in name:
        return name.endswith(("/posts.json", "/reels.json"))
    if s.DYI_FOLLOWERS_DIR in name:
        return _FOLLOWERS_FILE_RE.search(name) is not None or name.endswith("/following.json")
    return False


def _repair(node: Any) -> Any:
    if isinstance(node, str):
        return repair_mojibake(node)
    if isinstance(node, list):
        return [_repair(v) for v in node]
    if isinstance(node, dict):
        return {repair_mojibake(k): _repair(v) for k, v in node.items()}
    return node


def _dyi_post(entry: Any, account: str, ctx: ParseContext, unknown: set[str]) -> list[Item]:
    labels = dig(entry, "string_map_data")
    if not isinstance(labels, dict):
        raise RowError("string_map_data", "expected an object")
    media_map = dig(entry, "media_map_data")
    media: Any = next(iter(media_map.values()), {}) if isinstance(media_map, dict) else {}
    published_at = None
    daily: dict[str, Any] = {}
    for label, cell in labels.items():
        # labels follow the UI language and their case drifts between exports
        folded = " ".join(label.casefold().split())
        column = s.DYI_LABELS.get(folded)
        if column is None:
            if folded not in s.DYI_UNUSED_LABELS:
                unknown.add(label)
            continue
        value = dig(cell, "timestamp", dig(cell, "value"))
        if column == "published_at":
            published_at = convert(value, to_utc_timestamp, label)
        else:
            daily[column] = convert(value, to_count, label)
    if published_at is None:
        published_at = convert(dig(media, "creation_timestamp"), to_utc_timestamp, "timestamp")
    post_id = _dyi_post_id(dig(media, "uri"), published_at)
    key = {"platform": s.PLATFORM, "post_id": post_id, "account_id": account}
    post = {**key, "published_at": published_at}
    if dig(media, "title"):
        post["caption"] = dig(media, "title")
    rows: list[Item] = [Record("posts", 0, post)]
    if daily:
        rows.append(
            Record("post_daily", 0, {**key, "day": ctx.day, "published_at": published_at, **daily})
        )
    return rows


def _dyi_post_id(uri: Any, published_at: Any) -> str:
    # exported media files end in the media id (…_n_17960458724061234.jpg): the API's post id
    match = _MEDIA_ID_IN_URI_RE.search(uri) if isinstance(uri, str) else None
    if match:
        return match.group(1)
    if published_at is None:
        raise RowError("media_map_data", "neither a media id nor a creation time names the post")
    # no id in the export: the creation second identifies a creator's post
    return f"dyi-{int(published_at.timestamp())}"


# ---- Meta Business Suite per-metric CSV


def parse_suite_csv(path: Path, ctx: ParseContext) -> Iterator[Item]:
    """Business Suite "Export" CSV: one metric (named by the title line) per day.

    UTF-16LE with BOM, a ``sep=,`` line, the title line, then ``"Date","Primary"``.
    """
    account = _need_account(ctx, "a Business Suite export does not name its account")
    with path.open("rb") as stream:
        title, title_line = _suite_title(stream.read(4096), ctx.source)
        stream.seek(0)
        key = " ".join(title.casefold().split())
        column = s.SUITE_TITLES.get(key)
        if column is None:
            if key in s.SUITE_UNUSED_TITLES:
                yield Note(f"{ctx.source}: metric {title!r} has no canonical column; not loaded")
                return
            known = ", ".join(t.capitalize() for t in s.SUITE_TITLES)
            problem = f"unknown metric title {title!r} (known: {known})"
            raise ParseError(ctx.source, problem, line=title_line)
        header, rows = read_csv(stream, ctx.source, required=(s.SUITE_DATE, s.SUITE_VALUE))
        yield from _note(ctx, "columns not used", set(header) - {s.SUITE_DATE, s.SUITE_VALUE, ""})
        for row in rows:

            def build(values: dict[str, str] = row.values) -> list[Item]:
                day = require(convert(values[s.SUITE_DATE], to_date, s.SUITE_DATE), s.SUITE_DATE)
                value = convert(values[s.SUITE_VALUE], _flow_count, s.SUITE_VALUE)
                key = {"platform": s.PLATFORM, "account_id": account, "day": day}
                return [Record("account_daily", 0, {**key, column: value})]

            yield from guarded(row.line, ",".join(row.raw), build)


def _suite_title(head: bytes, source: str) -> tuple[str, int]:
    lines = _head_lines(head)
    index = 1 if lines and lines[0].lower().startswith("sep=") else 0
    cells = _cells(lines[index]) if len(lines) > index else []
    if len(cells) != 1 or not cells[0].strip():
        raise ParseError(source, "no metric title line above the header", line=index + 1)
    return cells[0].strip(), index + 1


def _head_lines(head: bytes) -> list[str]:
    encoding = detect_encoding(head)
    size = len(head) - len(head) % 2 if encoding.startswith("utf-16") else len(head)
    text = codecs.decode(head[:size], encoding, errors="replace")
    return text.lstrip("\ufeff").splitlines()[:5]


def _cells(line: str) -> list[str]:
    try:
        return [c.strip() for c in next(csv.reader([line]), [])]
    except csv.Error:  # binary noise in a sample is simply not ours
        return []


# ---- shared


def _object(path: Path, ctx: ParseContext) -> dict[str, Any]:
    doc = load_json(path, ctx.source)
    if not isinstance(doc, dict):
        raise ParseError(ctx.source, "expected a JSON object")
    if isinstance(doc.get("error"), dict):
        message = doc["error"].get("message", "no message")
        raise ParseError(ctx.source, f"a Graph API error response: {message}", field="error")
    return doc


def _data(doc: dict[str, Any], ctx: ParseContext) -> list[Any]:
    data = doc.get("data")
    if not isinstance(data, list):
        raise ParseError(ctx.source, "expected a list", field="data")
    return data


def _id(value: Any, label: str) -> str:
    # ids exceed float precision: keep them as the strings meta sends
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    if value is None or value == "":
        raise RowError(label, "required value is missing")
    raise RowError(label, f"expected an id string, got {type(value).__name__}")


def _account_id(node: dict[str, Any], ctx: ParseContext, label: str) -> str:
    try:
        return _id(node.get("id"), label)
    except RowError as exc:
        raise ParseError(ctx.source, f"the account has no usable id: {exc}", field=label) from exc


def _insight_owner(entry: Any) -> str | None:
    node_id = dig(entry, "id")
    if not isinstance(node_id, str) or "/insights/" not in node_id:
        return None
    return node_id.split("/insights/", 1)[0] or None


def _need_account(ctx: ParseContext, why: str) -> str:
    if not ctx.account:
        raise ParseError(ctx.source, f"{why}: pass --account")
    return ctx.account


def _note(ctx: ParseContext, what: str, names: set[str]) -> Iterator[Note]:
    if names:
        yield Note(f"{ctx.source}: {what}: {', '.join(sorted(names))}")
