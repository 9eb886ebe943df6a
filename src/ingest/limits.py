"""Size caps on whole-document inputs, checked before their bytes are read.

Most inputs are streamed (CSV files and members, landing copies, DuckDB scans) and need no
cap beyond the archive limits of ``ingest.archives``. A JSON document that a parser needs as
one object is different: ``json.loads`` builds every node at once, about ten times the text in
memory. Such a document (a file, an archive member or an API response body) is read only when
it is at most ``JSON_DOCUMENT_LIMIT`` bytes; a larger one is refused with a message naming it
and the limit, before anything of its size is allocated. Export files whose JSON grows with an
account (a followers list) are streamed instead, by their parsers (``ingest.jsonstream``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

from ingest.errors import ParseError

MiB = 1024 * 1024
# far above any API page the platforms serve (under 1 MiB) or any saved response
JSON_DOCUMENT_LIMIT = 32 * MiB


class TooLargeError(ParseError):
    """An input is larger than the cap for reading it whole."""


def too_large(source: str, size: int | None, limit: int) -> TooLargeError:
    """The refusal of ``source`` (``size`` bytes, when known) against ``limit``."""
    told = f"{size} bytes" if size is not None else "more bytes"
    return TooLargeError(
        source,
        f"refused: {told}, more than the limit of {limit} bytes ({limit // MiB} MiB) for a"
        " JSON document read whole",
    )


def read_capped(
    stream: IO[bytes], source: str, limit: int = JSON_DOCUMENT_LIMIT, declared: int | None = None
) -> bytes:
    """Read a whole stream, refusing it once it passes ``limit`` bytes.

    Args:
        stream: the bytes (a file, an archive member).
        source: the name every message gives.
        limit: the most bytes accepted.
        declared: the size the stream says it has (a stat, a zip header), checked first so
            an oversized input is refused without reading it.

    Raises:
        TooLargeError: the declared size or the bytes read pass ``limit``.
    """
    if declared is not None and declared > limit:
        raise too_large(source, declared, limit)
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise too_large(source, declared, limit)
    return data


def read_file_capped(path: Path, source: str, limit: int = JSON_DOCUMENT_LIMIT) -> bytes:
    """A whole file of at most ``limit`` bytes (see ``read_capped``)."""
    with path.open("rb") as handle:
        return read_capped(handle, source, limit, declared=os.fstat(handle.fileno()).st_size)
