"""Streaming reads of the platforms' CSV exports: encodings, BOMs, preambles, delimiters."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from ingest.errors import ParseError

# longest field we accept; a multi-megabyte cell is a broken file, not data
FIELD_LIMIT = 16 * 1024 * 1024
csv.field_size_limit(FIELD_LIMIT)


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]
    raw: list[str]


def detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    # UTF-16 without BOM shows as every other byte NUL in ASCII text
    if len(head) >= 4 and head[1] == 0 and head[3] == 0:
        return "utf-16-le"
    return "utf-8"


def read_csv(
    stream: IO[bytes], source: str, *, required: tuple[str, ...] = ()
) -> tuple[list[str], Iterator[CsvRow]]:
    """Open a CSV export and return its header and an iterator of rows.

    Handles a UTF-8 or UTF-16 BOM, Excel's ``sep=`` first line and a title line above the
    header (Meta exports), and comma, semicolon or tab delimiters. Line numbers are physical
    lines of the file, so messages point where a user's editor does.
    """
    head = stream.read(4096)
    buffered = io.BufferedReader(_Prepend(head, stream))
    encoding = detect_encoding(head)
    text = io.TextIOWrapper(buffered, encoding=encoding, newline="", errors="strict")
    try:
        first_lines = _peek_lines(head, encoding)
    except UnicodeDecodeError as exc:
        # the bad byte is within the head: count the lines before it
        line = head[: exc.start].count(b"\n") + 1
        raise ParseError(source, f"not valid {encoding} text", line=line) from exc
    if not first_lines:
        raise ParseError(source, "the file is empty")
    delimiter, header_index = _layout(first_lines)

    reader = csv.reader(text, delimiter=delimiter)
    try:
        for _ in range(header_index):
            next(reader)
        header = next(reader)
    except StopIteration as exc:
        raise ParseError(source, "the file has no header line") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ParseError(source, f"unreadable CSV: {exc}", line=reader.line_num) from exc
    header = [h.strip().lstrip("\ufeff").strip() for h in header]
    header_line = reader.line_num
    seen: set[str] = set()
    for name in header:
        if name in seen and name:
            raise ParseError(source, "duplicate column in header", line=header_line, field=name)
        seen.add(name)
    for name in required:
        if name not in header:
            raise ParseError(source, f"required column {name!r} is missing", line=header_line)

    def rows() -> Iterator[CsvRow]:
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise ParseError(
                    source, f"not valid {encoding} text", line=reader.line_num + 1
                ) from exc
            except csv.Error as exc:
                raise ParseError(source, f"unreadable CSV: {exc}", line=reader.line_num) from exc
            if not any(c.strip() for c in cells):
                continue
            values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)}
            yield CsvRow(line=reader.line_num, values=values, raw=cells)

    return header, rows()


@dataclass(frozen=True)
class CsvLayout:
    """How ``read_csv`` reads a file: its encoding, delimiter and the lines above the header."""

    encoding: str
    delimiter: str
    header_index: int


def csv_layout(head: bytes) -> CsvLayout | None:
    """The layout ``read_csv`` finds in a file starting with ``head``; None where it would fail."""
    encoding = detect_encoding(head)
    try:
        first_lines = _peek_lines(head, encoding)
    except UnicodeDecodeError:
        return None
    if not first_lines:
        return None
    delimiter, header_index = _layout(first_lines)
    return CsvLayout(encoding, delimiter, header_index)


def _layout(first_lines: list[str]) -> tuple[str, int]:
    skip = 0
    if first_lines[0].lower().startswith("sep="):
        delimiter = first_lines[0][4:5] or ","
        skip = 1
    else:
        # the header is the busiest of the first lines; a title line above it has one cell
        delimiter = _sniff_delimiter(max(first_lines[:2], key=_separator_count))
    header_index = skip
    if (
        len(first_lines) > skip + 1
        and _cells(first_lines[skip], delimiter) == 1
        and (_cells(first_lines[skip + 1], delimiter) > 1)
    ):
        header_index = skip + 1
    return delimiter, header_index


def _peek_lines(head: bytes, encoding: str) -> list[str]:
    decoded = codecs.getincrementaldecoder(encoding)(errors="strict").decode(head[:4000])
    lines = decoded.lstrip("\ufeff").splitlines()[:4]
    return lines if any(line.strip() for line in lines) else []


def _cells(line: str, delimiter: str) -> int:
    return len(next(csv.reader([line], delimiter=delimiter), []))


def _separator_count(line: str) -> int:
    return max(line.count(d) for d in (",", ";", "\t"))


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


class _Prepend(io.RawIOBase):
    """A raw stream that replays bytes already read before continuing with the source."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._head.nbytes:
            size = min(len(buffer), self._head.nbytes)
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        chunk = self._rest.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)
