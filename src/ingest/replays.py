"""Bytes already published are not parsed again: the writer notes what it published.

The landing zone is content-addressed and ``meta.loads`` records, per load, the bytes, the
landing day, the account and the parser version that read them. A replay of a day (a rerun,
a backfill, ``ingest load`` of the same pages) whose bytes the same parser version already
published would change no row, so staging does not read them: it stages an empty batch that
names the earlier load (``StagedBatch.replay_of``), and the writer reports it as ``unchanged``
once ``meta.loads`` confirms it. Asking to reprocess, or a new parser version (``Format.version``
or ``parsing.PARSERS_VERSION``), reads them again.

The stage step never opens the warehouse, so it learns what was published from an index per
platform and landing day under ``<staging>/published/``, appended by the writer after each
publish. The index is only a cache: the writer checks every replay against ``meta.loads``, and
a replay it cannot confirm (a warehouse rebuilt from landing, an index from another warehouse)
is read and published after all; a lost index costs one more parse.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from ingest.config import Settings

log = logging.getLogger(__name__)

FOLDER = "published"


class _Outcome(Protocol):
    status: str
    load_id: str | None


class _Published(Protocol):
    load_id: str
    platform: str
    format: str
    source_sha256: str
    account: str | None
    parser_version: str | None
    landing_day: str | None
    replay_of: str | None
    rows_read: int
    rows_quarantined: int


@dataclass(frozen=True)
class Published:
    """What the index says of one published load of some bytes."""

    load_id: str
    format: str
    account: str | None
    parser_version: str
    rows_read: int
    rows_quarantined: int


def index_path(settings: Settings, platform: str, day: str) -> Path:
    return _index_path(settings.staging, platform, day)


@lru_cache(maxsize=64)
def _index_path(staging: Path, platform: str, day: str) -> Path:
    # why: asked for every file staged; joining the parts each time cost more than the lookup
    return staging / FOLDER / platform / f"{day}.jsonl"


def note_published(settings: Settings, done: Sequence[tuple[_Published, _Outcome]]) -> None:
    """Append the loads now known to hold their bytes (published, or unchanged) to the index."""
    lines: dict[tuple[str, str], list[str]] = {}
    for batch, result in done:
        if result.status not in ("published", "unchanged") or not result.load_id:
            continue
        if batch.replay_of == result.load_id:
            continue  # found in the index: noted already
        if batch.landing_day is None or batch.parser_version is None:
            continue
        entry = {
            "sha256": batch.source_sha256,
            "load_id": result.load_id,
            "format": batch.format,
            "account": batch.account,
            "parser_version": batch.parser_version,
            "rows_read": batch.rows_read,
            "rows_quarantined": batch.rows_quarantined,
        }
        lines.setdefault((batch.platform, batch.landing_day), []).append(json.dumps(entry))
    for (platform, day), entries in lines.items():
        path = index_path(settings, platform, day)
        with _cache_lock:
            _cache.pop(path, None)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as out:
                out.write("".join(f"{e}\n" for e in entries))
        except OSError as exc:
            # only a cache: without it the next replay parses the bytes again
            log.warning("could not note published loads in %s: %s", path, exc)


# an index read is believed this long before its file is looked at again
RECHECK_SECONDS = 1.0
# index file -> (its time and size, when they were last looked at, what it says)
_cache: dict[Path, tuple[tuple[int, int], float, dict[str, list[Published]]]] = {}
_cache_lock = threading.Lock()


def _read_index(path: Path) -> dict[str, list[Published]]:
    # why: asked for every file staged; a stat each time cost more than the lookup. What
    # another process appended meanwhile is found a second later (until then, a parse);
    # what this one appends drops the entry (note_published)
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(path)
    if cached is not None and now - cached[1] < RECHECK_SECONDS:
        return cached[2]
    try:
        stat = path.stat()
    except OSError:
        return {}
    signature = (stat.st_mtime_ns, stat.st_size)
    if cached is not None and cached[0] == signature:
        with _cache_lock:
            _cache[path] = (signature, now, cached[2])
        return cached[2]
    found: dict[str, list[Published]] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    for line in text.splitlines():
        try:
            entry: dict[str, Any] = json.loads(line)
            published = Published(
                load_id=str(entry["load_id"]),
                format=str(entry["format"]),
                account=entry.get("account"),
                parser_version=str(entry["parser_version"]),
                rows_read=int(entry["rows_read"]),
                rows_quarantined=int(entry["rows_quarantined"]),
            )
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a crash: that file is parsed again
        found.setdefault(str(entry["sha256"]), []).append(published)
    with _cache_lock:
        _cache[path] = (signature, now, found)
    return found


def published_load(
    settings: Settings,
    *,
    platform: str,
    day: str,
    sha256: str,
    format: str,
    account: str | None,
    parser_version: str,
) -> Published | None:
    """The latest noted load of these bytes read the same way, if the index has one."""
    for entry in reversed(_read_index(index_path(settings, platform, day)).get(sha256, [])):
        if (entry.format, entry.account, entry.parser_version) == (format, account, parser_version):
            return entry
    return None
