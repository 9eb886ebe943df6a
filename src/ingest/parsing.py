"""What every parser takes and yields, and the registry that picks a parser for a file.

A format may also name a native stager (``NativeStager``): a faster reader of the same file
that writes the staged batch itself and returns a ``NativeStaged``, and a group stager
(``NativeGroupStager``) doing that for many files of the format in one pass. Their types live
here, with the rest of the parsing contract, so that the stagers (in their platforms' packages) and
staging depend on this module and never on each other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from ingest.archives import member_names
from ingest.errors import ParseError, UnknownFormatError
from ingest.limits import read_file_capped
from ingest.snapshots import SNAPSHOT, Dating

SNIFF_BYTES = 64 * 1024
# the version of the code every parser shares (detection, coercions, row rules); raise it when
# that code reads some file differently, so files it rejected are tried again on replay
PARSERS_VERSION = 1


@dataclass(frozen=True)
class ParseContext:
    """What a parser knows besides the file.

    Args:
        source: the file's name as the user gave it; every message names it.
        platform: the platform the file belongs to.
        account: the account id the user supplied, for files that do not name it.
        observed_at: when the bytes were fetched or received (UTC).
        day: the calendar day a snapshot file describes (API pulls, exports without dates).
    """

    source: str
    platform: str
    account: str | None
    observed_at: datetime
    day: date


@dataclass(slots=True)
class Record:
    """One canonical row; ``values`` holds exactly the columns this source provides."""

    entity: str
    line: int
    values: dict[str, Any]


@dataclass(slots=True)
class Reject:
    """A row that cannot be used, with the reason it goes to quarantine."""

    line: int
    reason: str
    raw: str
    field: str | None = None


@dataclass(slots=True)
class Note:
    """Something the user should hear about once (an unknown column), not fatal."""

    message: str


Item = Record | Reject | Note
Parser = Callable[[Path, ParseContext], Iterator[Item]]


# the columns of a staging pass's shared file that say which load a row is of, and its
# position among that load's rows (what ``file_row_number`` is in a file of its own)
SHARED_LOAD_COLUMN = "_load_id"
SHARED_ROW_COLUMN = "_row"


@dataclass
class StagedEntity:
    """One entity's staged Parquet file in a batch: its path, the columns the source gave.

    ``shared``: the file is a staging pass's, holding the rows of several batches; this
    batch's are those whose ``SHARED_LOAD_COLUMN`` is its load id. A pass of 500 API pages
    writes one file per entity instead of one per page and entity, and every reader opens
    it once instead of 500 files (``staging.staged_rows_sql``).
    """

    entity: str
    path: str
    columns: list[str]
    rows: int
    shared: bool = False


@dataclass
class NativeStaged:
    """A native stager's result for ``staging.stage``: entities settled, quarantine written."""

    rows_read: int
    rows_quarantined: int
    entities: dict[str, StagedEntity]
    notes: list[str] = field(default_factory=list)


# (landed file, context, batch folder) -> the staged batch, or None to leave the file to the
# format's parser
NativeStager = Callable[[Path, ParseContext, Path], NativeStaged | None]


@dataclass(frozen=True)
class NativeMember:
    """One file of a group staged together: the landed file, its context, its batch folder.

    With ``shared`` (the pass's folder) and ``load_id`` given, a group stager may write the
    rows of several members to one file per entity there (``StagedEntity.shared``).
    """

    path: Path
    ctx: ParseContext
    folder: Path
    load_id: str = ""
    shared: Path | None = None


# the members of a group -> per member its staged batch, or None to leave that file to the
# per-file way (``NativeStager``, then the parser); the other members are unaffected
NativeGroupStager = Callable[[Sequence[NativeMember]], list[NativeStaged | None]]


@dataclass(frozen=True)
class Sample:
    """The start of a file, for format detection without reading all of it."""

    name: str
    head: bytes
    members: tuple[str, ...] = ()

    def json_head(self) -> str:
        """The head as text with whitespace removed, for cheap key checks on JSON."""
        return self._json_head

    @cached_property
    def _json_head(self) -> str:
        # every JSON sniffer asks for it: made once per sample, not once per format tried
        text = self.head.decode("utf-8", errors="replace").lstrip("\ufeff")
        return "".join(text.split())


@dataclass(frozen=True)
class Format:
    """A file format one parser understands.

    Args:
        platform: the platform whose data it is.
        name: short format name shown to users (``channels_list``).
        parse: the parser.
        sniff: True when a sample looks like this format.
        needs_account: the file does not name its account; ``--account`` must.
        native: an optional DuckDB stager for high-volume files (built on ``ingest.native``);
            it gives the same staged rows and rejects as ``parse``, or ``None`` to leave the
            file to it.
        native_group: an optional stager of many files of this format at once; per file it
            gives what ``native`` gives, with one pass over the group instead of one per file
            (an API pull is thousands of small pages).
        dating: ``snapshot`` when some of its values are the state at the moment the file was
            fetched (dated by that moment), ``series`` when every value carries its own date
            (``ingest.snapshots``). A past day's pull asks only the series endpoints.
        version: the parser's own version; raise it when the parser reads some file
            differently, so replays try again the files it rejected and republish the others.
    """

    platform: str
    name: str
    parse: Parser
    sniff: Callable[[Sample], bool]
    needs_account: bool = False
    native: NativeStager | None = None
    native_group: NativeGroupStager | None = None
    dating: Dating = SNAPSHOT
    version: int = 1


def parser_version(fmt: Format | None) -> str:
    """The version recorded with a load: the shared code's, then the format's own.

    A file whose format is unknown is judged by the shared code (detection) alone.
    """
    return str(PARSERS_VERSION) if fmt is None else f"{PARSERS_VERSION}.{fmt.version}"


@dataclass
class Registry:
    """All known formats, in detection order."""

    formats: list[Format] = field(default_factory=list)

    def register(self, *formats: Format) -> None:
        self.formats.extend(formats)

    def get(self, platform: str, name: str, source: str) -> Format:
        """The format a manifest names; ``source`` is the file, for the error."""
        for fmt in self.formats:
            if fmt.platform == platform and fmt.name == name:
                return fmt
        known = ", ".join(sorted(f.name for f in self.formats if f.platform == platform))
        raise UnknownFormatError(
            source,
            f"its manifest names the format {platform}/{name}, which this version does not"
            f" know (known {platform} formats: {known or 'none'})",
        )

    def detect(
        self, path: Path, source: str, platform: str | None = None, *, sample: Sample | None = None
    ) -> Format:
        """Pick the format of a file from its content (and name), optionally within a platform.

        ``sample`` is the file's sample when the caller has already read its start.
        """
        sample = sample or take_sample(path, source)
        candidates = [f for f in self.formats if platform is None or f.platform == platform]
        for fmt in candidates:
            if fmt.sniff(sample):
                return fmt
        if not sample.head.strip():
            raise UnknownFormatError(source, "the file is empty")
        scope = f"{platform} " if platform else ""
        known = ", ".join(sorted({f"{f.platform}/{f.name}" for f in candidates}))
        raise UnknownFormatError(
            source, f"not a recognised {scope}export or API response (known formats: {known})"
        )


def source_base_name(source: str) -> str:
    """The file name in a shown source (a path, ``<platform>/<day>/<name>`` or a bare name).

    Whatever a parser reads from a name must come from this part only, so the same bytes give
    the same rows whether loaded from any folder or replayed from landing.
    """
    return source.replace("\\", "/").rsplit("/", 1)[-1]


def take_sample(path: Path, source: str | None = None, *, head: bytes | None = None) -> Sample:
    """The sample detection reads; ``head`` is the file's start when it is already in memory."""
    if head is None:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    else:
        head = head[:SNIFF_BYTES]
    members: tuple[str, ...] = ()
    if head.startswith(b"PK\x03\x04"):
        members = member_names(path, source)
    return Sample(name=path.name, head=head, members=members)


def load_json(path: Path, source: str) -> Any:
    """Read a whole JSON document, turning every decoding problem into a ParseError."""
    return decode_json(read_file_capped(path, source), source)


def decode_json(raw: bytes, source: str) -> Any:
    """Parse one JSON document held in memory (see ``load_json``)."""
    if not raw.strip():
        raise ParseError(source, "the file is empty")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(source, f"not valid UTF-8 at byte {exc.start}") from exc
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        raise ParseError(source, f"invalid JSON: {exc.msg}", line=exc.lineno) from exc
    except RecursionError as exc:
        raise ParseError(source, "JSON nested too deeply") from exc
    except _DuplicateKeyError as exc:
        raise ParseError(
            source, f"the key {exc.key!r} appears twice in one object", field=exc.key
        ) from exc


# no count or id of ours has more digits; longer numbers are kept as their text, for the field's
# converter to refuse with a reason (int() would raise past 4,300 digits and fail the file)
_MAX_JSON_INT_DIGITS = 40


def _json_int(text: str) -> int | str:
    return int(text) if len(text) <= _MAX_JSON_INT_DIGITS else text


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of repeated keys silently; which one the exporter meant is
    # unknowable, so a document with a repeated key is refused
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return result


def raw_json(value: Any, limit: int = 4000) -> str:
    """A compact JSON rendering of a rejected record, bounded in size."""
    text = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    if not text.isascii():
        # lone surrogates from JSON escapes cannot be stored as UTF-8: keep them as escapes
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[:limit] + "…"


class RowError(Exception):
    """Raised inside a parser while building one record: the record goes to quarantine."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def guarded(line: int, source_record: Any, build: Callable[[], list[Item]]) -> list[Item]:
    """Build the rows of one source record, or one Reject if any field is unusable.

    All rows of a record are built before any is yielded, so a record is loaded whole or
    quarantined whole. ``source_record`` is kept as the quarantined raw text (a string as it
    is, anything else as JSON).
    """
    try:
        items = build()
    except RowError as exc:
        reason = f"{exc.field}: {exc.reason}" if exc.field else exc.reason
        raw = source_record if isinstance(source_record, str) else raw_json(source_record)
        return [Reject(line=line, reason=reason, raw=raw, field=exc.field)]
    for item in items:
        if isinstance(item, Record):
            item.line = line
    return items


_ABSENT = object()


def dig(obj: Any, path: str, default: Any = None) -> Any:
    """``obj["a"]["b"]`` for path ``a.b``; default where any step is absent or not an object."""
    current = obj
    for key in path.split("."):
        if not isinstance(current, dict) or key not in current:
            return default
        current = current[key]
    return current


def has(obj: Any, path: str) -> bool:
    return dig(obj, path, _ABSENT) is not _ABSENT


def convert(value: Any, converter: Callable[[Any], Any], label: str) -> Any:
    """Apply a coerce function, reporting failures as a RowError on ``label``."""
    from ingest.coerce import CoercionError

    try:
        return converter(value)
    except CoercionError as exc:
        raise RowError(label, str(exc)) from exc


def require(value: Any, label: str) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise RowError(label, "required value is missing")
    return value
