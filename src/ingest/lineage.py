"""Metric lineage: which source field feeds which canonical metric on which day.

The registry is data: each platform package ships a TOML file its ``Platform.lineage`` names,
and :func:`registry` gathers them, platform by platform. Parsers ask it what a source field
observed on a day means (:func:`lookup`, :func:`canonical_for`); the marts and the report ask
it where a series changes definition (:func:`breaks`), through ``marts.metric_breaks`` once
:func:`sync` has copied it into the warehouse.

Keys of one ``[[metric]]`` entry:

- ``platform``: the platform; in a platform's own file it is that platform and may be left out.
- ``surface``: the response or file the field is read from (one field name can mean different
  things on different surfaces: per post in one response, per day in another).
- ``fields``: source field names (one entry may list spellings that share everything else).
- ``metric``: the canonical metric; a core column when ``entity`` is given.
- ``entity``: the core entity the metric lands in; absent when the canonical model has no
  column for it (the field is documented and deliberately not loaded).
- ``valid_from`` / ``valid_until``: first day (inclusive) the field feeds the metric, and the
  first day (exclusive) it no longer does; absent means since ever / still current.
- ``continuous``: false when the series is not comparable across this entry's change.
- ``break_date``: the day the series changes definition, when it is not ``valid_from`` (a
  field that could appear early for some API versions but became the only one later).
- ``rank``: when several fields feed one metric on one day, the lowest rank wins.
- ``note``, ``fact``: what changed and why the mapping is so; where the fact comes from.
- ``confidence``: D = platform documentation, C = third-party observation, U = uncertain.

The day a field is judged on is the day its value describes: the pull's day for snapshots and
lifetime counts, the series day for daily values.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import duckdb

from ingest.model import ENTITIES
from ingest.platforms import names as platform_names
from ingest.platforms import platforms

CONFIDENCE = frozenset({"D", "C", "U"})

_KEYS = frozenset(
    {
        "platform",
        "surface",
        "fields",
        "metric",
        "entity",
        "valid_from",
        "valid_until",
        "continuous",
        "break_date",
        "rank",
        "note",
        "fact",
        "confidence",
    }
)


class LineageError(ValueError):
    """The registry file is malformed or contradicts itself."""


@dataclass(frozen=True)
class Lineage:
    """One source field feeding one canonical metric over a stretch of days.

    Args:
        platform: the platform.
        surface: the response or export the field is read from.
        field: the source field name.
        metric: the canonical metric (a core column when ``entity`` is set).
        entity: the core entity the metric lands in; None when it is not loaded.
        valid_from: first day the mapping holds (inclusive); None since ever.
        valid_until: first day it no longer holds (exclusive); None while current.
        continuous: False when the series cannot be compared across this entry's change.
        break_date: the day this entry's definition takes over the series, if it is a change.
        rank: among fields feeding one metric on one day, the lowest wins.
        note: what changed and why.
        fact: where the fact comes from.
        confidence: D documented, C observed by others, U uncertain.
        entry: the position of its ``[[metric]]`` entry in the file; fields of one entry are
            spellings of one thing and never compete.
    """

    platform: str
    surface: str
    field: str
    metric: str
    entity: str | None
    valid_from: date | None
    valid_until: date | None
    continuous: bool
    break_date: date | None
    rank: int
    note: str
    fact: str
    confidence: str
    entry: int = 0

    @property
    def column(self) -> str | None:
        """The core column the field loads into, or None when the metric is not loaded."""
        return self.metric if self.entity is not None else None

    def holds_on(self, day: date) -> bool:
        """True when the mapping is valid on ``day``."""
        after_start = self.valid_from is None or day >= self.valid_from
        before_end = self.valid_until is None or day < self.valid_until
        return after_start and before_end


@dataclass(frozen=True)
class Break:
    """A day a canonical series changes its source or definition.

    Args:
        platform: the platform.
        surface: where the changed field is read.
        metric: the canonical metric whose series changes.
        entity: the core entity, None when the metric is not loaded.
        break_date: the day the new definition takes over.
        switch_from: the first day the new field could appear (some API versions got it
            early); equals ``break_date`` when there was no such window.
        continuous: True when the series stays comparable across the change.
        fields: the source fields of the new definition.
        note: what changed.
        fact: where the fact comes from.
        confidence: D, C or U as in :class:`Lineage`.
    """

    platform: str
    surface: str
    metric: str
    entity: str | None
    break_date: date
    switch_from: date
    continuous: bool
    fields: tuple[str, ...]
    note: str
    fact: str
    confidence: str


# ---- loading and validation


@dataclass(frozen=True)
class Source:
    """One registry file's text: ``platform`` owns its entries (None: each entry names its own)."""

    text: str
    platform: str | None = None
    name: str = "metric lineage"


def parse_registry(text: str, platform: str | None = None) -> tuple[Lineage, ...]:
    """Parse and validate registry TOML text; raise LineageError listing every problem."""
    return parse_sources([Source(text, platform)])


def parse_sources(sources: Sequence[Source]) -> tuple[Lineage, ...]:
    """Parse and validate several registry files as one registry, in the order given."""
    problems: list[str] = []
    entries: list[Lineage] = []
    number = 0
    for source in sources:
        for item in _items(source):
            number += 1
            try:
                entries.extend(_entries(item, number, source.platform))
            except LineageError as exc:
                problems.append(f"{source.name}, entry {number}: {exc}")
    problems.extend(validate(entries))
    if problems:
        raise LineageError("metric lineage is inconsistent:\n  " + "\n  ".join(problems))
    return tuple(entries)


def _items(source: Source) -> list[dict[str, Any]]:
    try:
        data = tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:
        raise LineageError(f"{source.name} is not valid TOML: {exc}") from exc
    items = data.get("metric")
    if not isinstance(items, list) or not items:
        raise LineageError(f"{source.name} has no [[metric]] entries")
    return items


def _entries(item: dict[str, Any], number: int, owner: str | None = None) -> list[Lineage]:
    unknown = set(item) - _KEYS
    if unknown:
        raise LineageError(f"unknown keys {sorted(unknown)}")
    if owner is not None:
        named = item.setdefault("platform", owner)
        if named != owner:
            raise LineageError(f"platform: {named!r} in the file of {owner!r}")
    fields = item.get("fields")
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        raise LineageError("fields: expected a non-empty list of names")
    common = {
        "platform": _text(item, "platform"),
        "surface": _text(item, "surface"),
        "metric": _text(item, "metric"),
        "entity": _text(item, "entity") if "entity" in item else None,
        "valid_from": _day(item, "valid_from"),
        "valid_until": _day(item, "valid_until"),
        "continuous": item.get("continuous", True),
        "break_date": _day(item, "break_date"),
        "rank": item.get("rank", 1),
        "note": _text(item, "note"),
        "fact": _text(item, "fact"),
        "confidence": _text(item, "confidence"),
    }
    if not isinstance(common["continuous"], bool):
        raise LineageError("continuous: expected true or false")
    if not isinstance(common["rank"], int) or isinstance(common["rank"], bool):
        raise LineageError("rank: expected an integer")
    return [Lineage(field=f, entry=number, **common) for f in fields]


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise LineageError(f"{key}: expected a non-empty string")
    return value


def _day(item: dict[str, Any], key: str) -> date | None:
    value = item.get(key)
    # a toml datetime is a date too: only a bare local date is a day
    if value is None or (isinstance(value, date) and type(value) is date):
        return value
    raise LineageError(f"{key}: expected a date like 2025-04-21, got {value!r}")


def validate(entries: Iterable[Lineage]) -> list[str]:
    """Every contradiction in a set of entries (empty when the registry is consistent)."""
    entries = list(entries)
    problems: list[str] = []
    for e in entries:
        where = f"{e.platform}/{e.surface}/{e.field}"
        if e.platform not in platform_names():
            problems.append(f"{where}: unknown platform")
        if e.entity is not None:
            if e.entity not in ENTITIES:
                problems.append(f"{where}: unknown entity {e.entity!r}")
            elif e.metric not in ENTITIES[e.entity].column_names:
                problems.append(f"{where}: {e.entity} has no column {e.metric!r}")
        if e.valid_from and e.valid_until and e.valid_from >= e.valid_until:
            problems.append(f"{where}: valid_from {e.valid_from} is not before {e.valid_until}")
        if not e.continuous and e.valid_from is None and e.break_date is None:
            problems.append(f"{where}: a break needs valid_from or break_date")
        if e.break_date and not e.holds_on(e.break_date):
            problems.append(f"{where}: break_date {e.break_date} is outside its validity")
        if e.confidence not in CONFIDENCE:
            problems.append(f"{where}: confidence must be one of D, C, U")
    for i, a in enumerate(entries):
        for b in entries[i + 1 :]:
            if (a.platform, a.surface) != (b.platform, b.surface) or not _overlap(a, b):
                continue
            where = f"{a.platform}/{a.surface}"
            if a.field == b.field:
                problems.append(
                    f"{where}/{a.field}: validity ranges overlap "
                    f"({_span(a)} -> {a.metric} and {_span(b)} -> {b.metric})"
                )
            elif a.metric == b.metric and a.rank == b.rank and a.entry != b.entry:
                problems.append(
                    f"{where}: {a.field} and {b.field} both feed {a.metric} with rank {a.rank}"
                    f" on overlapping days; give one a lower rank"
                )
    return problems


def _overlap(a: Lineage, b: Lineage) -> bool:
    a_first = (
        a.valid_until is not None and b.valid_from is not None and a.valid_until <= b.valid_from
    )
    b_first = (
        b.valid_until is not None and a.valid_from is not None and b.valid_until <= a.valid_from
    )
    return not (a_first or b_first)


def _span(e: Lineage) -> str:
    return f"[{e.valid_from or '...'}, {e.valid_until or '...'})"


@cache
def registry() -> tuple[Lineage, ...]:
    """Every installed platform's entries, validated together (read once per process)."""
    sources = [
        Source(read_resource(declared.lineage), name, declared.lineage)
        for name, declared in platforms().items()
        if declared.lineage is not None
    ]
    return parse_sources(sources)


def read_resource(reference: str) -> str:
    """The text of a ``"package:resource"`` file shipped inside an installed package."""
    package, _, name = reference.partition(":")
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")


# ---- questions parsers ask


def lookup(platform: str, field: str, on_date: date, *, surface: str) -> Lineage | None:
    """The entry mapping ``field`` read from ``surface`` on ``on_date``, or None.

    None means the field feeds no canonical metric on that day: unknown, not yet introduced,
    or retired.
    """
    for e in registry():
        if (e.platform, e.surface, e.field) == (platform, surface, field) and e.holds_on(on_date):
            return e
    return None


def canonical_for(platform: str, field: str, on_date: date, *, surface: str) -> str | None:
    """The canonical metric ``field`` (read from ``surface``) means on ``on_date``, or None."""
    found = lookup(platform, field, on_date, surface=surface)
    return found.metric if found else None


def column_for(platform: str, field: str, on_date: date, *, surface: str) -> str | None:
    """The core column ``field`` loads into on ``on_date``; None when it is not loaded then."""
    found = lookup(platform, field, on_date, surface=surface)
    return found.column if found else None


def loads(platform: str, field: str, *, surface: str) -> bool:
    """True when ``field`` feeds a core column on some day (a field the parser knows)."""
    return any(
        (e.platform, e.surface, e.field) == (platform, surface, field) and e.entity is not None
        for e in registry()
    )


def retired_on(platform: str, field: str, on_date: date, *, surface: str) -> date | None:
    """The day ``field`` stopped feeding its metric, when it had by ``on_date``; else None."""
    ends = [
        e.valid_until
        for e in registry()
        if (e.platform, e.surface, e.field) == (platform, surface, field)
        and e.valid_until is not None
        and e.valid_until <= on_date
    ]
    if not ends or lookup(platform, field, on_date, surface=surface) is not None:
        return None
    return max(ends)


def outranked(platform: str, names: Iterable[str], *, surface: str) -> set[str]:
    """Of the fields present together, those a better-ranked present field replaces.

    Where a response carries both an old and a new field for one metric (``impressions`` and
    ``views`` during Meta's migration window), the new one is loaded and the old one is not.
    """
    present = set(names)
    best: dict[str, int] = {}
    feeds: dict[str, set[tuple[str, int]]] = {}
    for e in registry():
        if (e.platform, e.surface) == (platform, surface) and e.field in present:
            feeds.setdefault(e.field, set()).add((e.metric, e.rank))
            best[e.metric] = min(best.get(e.metric, e.rank), e.rank)
    return {
        name for name, pairs in feeds.items() if all(rank > best[metric] for metric, rank in pairs)
    }


# ---- questions the marts and the report ask


def changes(platform: str | None = None, metric: str | None = None) -> list[Break]:
    """Every day a series changes source or definition, continuous or not, by date."""
    found: dict[tuple[str, str, str, date], Break] = {}
    for e in registry():
        when = e.break_date or e.valid_from
        if when is None:
            continue
        if (platform and e.platform != platform) or (metric and e.metric != metric):
            continue
        key = (e.platform, e.surface, e.metric, when)
        if key in found:
            # spellings of one field in one entry share the change
            prior = found[key]
            found[key] = replace(prior, fields=(*prior.fields, e.field))
            continue
        found[key] = Break(
            platform=e.platform,
            surface=e.surface,
            metric=e.metric,
            entity=e.entity,
            break_date=when,
            switch_from=e.valid_from or when,
            continuous=e.continuous,
            fields=(e.field,),
            note=e.note,
            fact=e.fact,
            confidence=e.confidence,
        )
    return sorted(found.values(), key=lambda b: (b.platform, b.metric, b.break_date, b.surface))


def breaks(platform: str, column: str) -> list[Break]:
    """The days the ``column`` series of ``platform`` cannot be compared across, by date."""
    return [b for b in changes(platform, column) if not b.continuous]


# ---- the warehouse copy


def _merge_by(table: str, key: str, columns: tuple[str, ...]) -> str:
    """Insert a row, or replace the one with its key (merge: DuckLake has no primary keys)."""
    source = ", ".join(f"${c} as {c}" for c in columns)
    assign = ", ".join(f"{c} = s.{c}" for c in columns if c != key)
    names = ", ".join(columns)
    values = ", ".join(f"s.{c}" for c in columns)
    return (
        f"merge into {table} t using (select {source}) s on t.{key} = s.{key}"
        f" when matched then update set {assign}"
        f" when not matched then insert ({names}) values ({values})"
    )


# column names are fixed here, never taken from input
_UPSERT_LINEAGE = _merge_by(
    "meta.metric_lineage",
    "lineage_id",
    (
        "lineage_id",
        "platform",
        "surface",
        "source_field",
        "metric",
        "entity",
        "valid_from",
        "valid_until",
        "continuous",
        "break_date",
        "rank",
        "note",
        "fact",
        "confidence",
    ),
)
_UPSERT_BREAK = _merge_by(
    "meta.metric_breaks",
    "break_id",
    (
        "break_id",
        "platform",
        "surface",
        "metric",
        "entity",
        "break_date",
        "switch_from",
        "continuous",
        "source_fields",
        "note",
        "fact",
        "confidence",
    ),
)


def sync(conn: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Make ``meta.metric_lineage`` and ``meta.metric_breaks`` hold the registry.

    Merge by a key derived from the entry, then drop rows the registry no longer
    has, so running it twice changes nothing. It opens no transaction of its own: called in
    the caller's (the marts rebuild), the copy changes atomically with the marts. Returns the
    row counts (lineage, breaks).
    """
    lineage_rows = [
        {
            "lineage_id": _lineage_id(e),
            "platform": e.platform,
            "surface": e.surface,
            "source_field": e.field,
            "metric": e.metric,
            "entity": e.entity,
            "valid_from": e.valid_from,
            "valid_until": e.valid_until,
            "continuous": e.continuous,
            "break_date": e.break_date,
            "rank": e.rank,
            "note": e.note,
            "fact": e.fact,
            "confidence": e.confidence,
        }
        for e in registry()
    ]
    break_rows = [
        {
            "break_id": f"{b.platform}/{b.surface}/{b.metric}/{b.break_date.isoformat()}",
            "platform": b.platform,
            "surface": b.surface,
            "metric": b.metric,
            "entity": b.entity,
            "break_date": b.break_date,
            "switch_from": b.switch_from,
            "continuous": b.continuous,
            "source_fields": ", ".join(b.fields),
            "note": b.note,
            "fact": b.fact,
            "confidence": b.confidence,
        }
        for b in changes()
    ]
    for sql, table, key, rows in (
        (_UPSERT_LINEAGE, "meta.metric_lineage", "lineage_id", lineage_rows),
        (_UPSERT_BREAK, "meta.metric_breaks", "break_id", break_rows),
    ):
        # every marts rebuild calls this, and the registry rarely changes: write only the
        # difference (one statement per row would cost more than the rebuild of a day)
        columns = list(rows[0]) if rows else [key]
        stored = {
            row[0]: row
            for row in conn.execute(
                f"select {key}, {', '.join(columns)} from {table}"  # names from this module
            ).fetchall()
        }
        changed = [r for r in rows if stored.get(r[key]) != (r[key], *r.values())]
        if changed:
            conn.executemany(sql, changed)
        keep = {r[key] for r in rows}
        if stored.keys() - keep:
            conn.execute(
                f"delete from {table} where not list_contains($keep, {key})", {"keep": list(keep)}
            )
    return len(lineage_rows), len(break_rows)


def _lineage_id(e: Lineage) -> str:
    start = e.valid_from.isoformat() if e.valid_from else "-"
    return f"{e.platform}/{e.surface}/{e.field}/{start}"
