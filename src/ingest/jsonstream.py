"""Streaming JSON: the top-level parts of a large document, without building all of it.

A "Download your information" export can hold a followers list of hundreds of megabytes,
of which the parser needs the length only. ``top_level`` walks such a document as ijson
events: it says what each top-level value is and hands over the elements of the top-level
arrays one at a time, built only where the caller asks. Memory stays bounded whatever the
size: no string, number or run of whitespace may be longer than ``MAX_SPAN`` bytes (the
parser buffers a token whole), nesting stops at ``MAX_DEPTH`` and a built element at
``MAX_ELEMENT_EVENTS`` parse events.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal

import ijson

from ingest.errors import ParseError

MiB = 1024 * 1024
MAX_SPAN = 1 * MiB
MAX_DEPTH = 512
MAX_ELEMENT_EVENTS = 100_000
_READ_SIZE = 64 * 1024

Kind = Literal["array", "object", "scalar"]


@dataclass(frozen=True)
class Value:
    """A top-level value starts: the document itself (``key`` None) or one under a key."""

    key: str | None
    kind: Kind


@dataclass(frozen=True)
class Element:
    """One element of the top-level array (``key`` None) or of an array under a key.

    ``value`` is the element built as ``json.loads`` would (floats for fractions), or None
    when the caller did not ask for it.
    """

    key: str | None
    value: Any


Part = Value | Element


def top_level(
    stream: IO[bytes], source: str, build: Callable[[str | None], bool] = lambda _: False
) -> Iterator[Part]:
    """The parts of one JSON document, in order (see the module docstring).

    Args:
        stream: the document's bytes (UTF-8, a byte order mark allowed).
        source: the name every message gives.
        build: whether the elements of the array under a key (None: the top-level array)
            are wanted as values; others are only counted as they pass.

    Raises:
        ParseError: the bytes are not one JSON document, or break a bound.
    """
    events = ijson.basic_parse(_Guarded(stream, source), use_float=True, buf_size=_READ_SIZE)
    try:
        yield from _walk(iter(events), source, build)
    except ijson.JSONError as exc:
        raise ParseError(source, f"not valid JSON: {_first_line(exc)}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        # an integer past Python's digit limit, bytes that are not UTF-8
        raise ParseError(source, f"not valid JSON: {_first_line(exc)}") from exc


_STARTS = {"start_map": "object", "start_array": "array"}
_ENDS = frozenset({"end_map", "end_array"})


def _kind(event: str) -> Kind:
    return "object" if event == "start_map" else "array" if event == "start_array" else "scalar"


def _walk(
    events: Iterator[tuple[str, Any]], source: str, build: Callable[[str | None], bool]
) -> Iterator[Part]:
    first = next(events, None)
    if first is None:
        raise ParseError(source, "the file is empty")
    event, _ = first
    yield Value(None, _kind(event))
    if event == "start_array":
        yield from _elements(events, source, None, build(None))
    elif event == "start_map":
        for event, value in events:
            if event == "end_map":
                break
            key = value  # a map_key: the object's next member
            start, _ = next(events, ("end", None))
            yield Value(key, _kind(start))
            if start == "start_array":
                yield from _elements(events, source, key, build(key))
            elif start == "start_map":
                _skip(events, source, depth=2)
    for _ in events:
        pass  # the parser reports trailing garbage at the end of the stream


def _elements(
    events: Iterator[tuple[str, Any]], source: str, key: str | None, wanted: bool
) -> Iterator[Element]:
    depth = 1 if key is None else 2
    for event, value in events:
        if event == "end_array":
            return
        if wanted:
            yield Element(key, _build(events, source, event, value, depth + 1))
        else:
            if event in _STARTS:
                _skip(events, source, depth + 1)
            yield Element(key, None)


def _skip(events: Iterator[tuple[str, Any]], source: str, depth: int) -> None:
    """Pass over one container whose start event was just read."""
    _descend(events, source, depth, None)


def _build(
    events: Iterator[tuple[str, Any]], source: str, event: str, value: Any, depth: int
) -> Any:
    """The value that starts with ``event``: a scalar, or a container built whole (bounded)."""
    builder = ijson.ObjectBuilder()
    builder.event(event, value)
    if event in _STARTS:
        _descend(events, source, depth, builder)
    return builder.value


def _descend(
    events: Iterator[tuple[str, Any]], source: str, depth: int, builder: Any | None
) -> None:
    """Read to the end of the container just started, feeding ``builder`` when there is one.

    Nesting is bounded either way; a built element is also bounded in its number of values.
    """
    level, count = 1, 1
    for event, value in events:
        if builder is not None:
            count += 1
            if count > MAX_ELEMENT_EVENTS:
                raise ParseError(
                    source, f"an element has more than {MAX_ELEMENT_EVENTS} JSON values"
                )
            builder.event(event, value)
        if event in _STARTS:
            level += 1
            if depth + level > MAX_DEPTH:
                raise ParseError(source, f"JSON nested more than {MAX_DEPTH} levels deep")
        elif event in _ENDS:
            level -= 1
            if level == 0:
                return
    raise ParseError(source, "not valid JSON: the document ends inside an element")


class _Guarded(io.RawIOBase):
    """The document's bytes, refused once a stretch between two quotes passes ``MAX_SPAN``.

    Every string lies between two quotes, and any long number or whitespace run between
    them too, so this bounds what the parser may have to buffer as one token.
    """

    def __init__(self, raw: IO[bytes], source: str) -> None:
        self._raw = raw
        self._source = source
        self._run = 0  # bytes since the last quote
        self._first = True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._raw.read(len(buffer))
        if self._first and chunk:
            self._first = False
            if chunk.startswith(b"\xef\xbb\xbf"):
                # the parser takes UTF-8 without a byte order mark; an empty read means the end
                chunk = chunk[3:] or self._raw.read(len(buffer))
        first = chunk.find(b'"')
        if first < 0:
            longest = self._run = self._run + len(chunk)
        else:
            longest = self._run + first
            if len(chunk) > MAX_SPAN:
                # a stretch between two quotes of this chunk could pass the bound by itself
                longest = max([longest, *map(len, chunk.split(b'"'))])
            self._run = len(chunk) - chunk.rfind(b'"') - 1
            longest = max(longest, self._run)
        if longest > MAX_SPAN:
            raise ParseError(
                self._source,
                f"refused: a JSON string, number or blank run longer than {MAX_SPAN} bytes",
            )
        buffer[: len(chunk)] = chunk
        return len(chunk)


def _first_line(exc: BaseException) -> str:
    # yajl appends the offending text and a pointer on further lines
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
