"""Reading zip exports safely: declared limits, no path tricks, nothing written to disk.

Platform exports often arrive as zip archives (a creator studio's download, a "download your
data" archive). An archive is untrusted input, so every parser opens it through
``SafeZip``, which checks the whole central directory before any member is read:

- at most ``ZipLimits.max_members`` entries;
- each member at most ``max_member_size`` bytes uncompressed, all of them at most
  ``max_total_size``;
- no member that expands more than ``max_ratio`` times (a zip bomb), once it is larger than
  ``ratio_floor`` (small text files compress very well and are harmless);
- no member whose name is absolute, has a drive letter, a ``..`` step or a NUL byte (zip-slip);
- no symbolic links, no encrypted members, only stored/deflate/bzip2/lzma compression.

One bad member refuses the whole archive with a ``ParseError`` naming the file and member:
a crafted entry says the archive as a whole is not a genuine export. Members are streamed
from the archive, never extracted under their own names, and the declared sizes are enforced
again while reading, so a lying header cannot make a member expand past its limit.
"""

from __future__ import annotations

import io
import lzma
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

from ingest.errors import ParseError
from ingest.redaction import redact

# what the standard library can decompress; anything else is refused up front
SUPPORTED_COMPRESSION = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)
# everything zipfile and its decompressors raise on damaged or unsupported data
_READ_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    struct.error,
    ValueError,
    OSError,
)
MiB = 1024 * 1024


@dataclass(frozen=True)
class ZipLimits:
    """The most an archive may hold; beyond any of these it is refused.

    Args:
        max_members: entries in the central directory (files and folders).
        max_member_size: uncompressed bytes of one member.
        max_total_size: uncompressed bytes of all members together.
        max_ratio: uncompressed size / compressed size of one member.
        ratio_floor: members up to this many uncompressed bytes skip the ratio check.
        max_directory_size: bytes of the central directory, read whole to list the members.
    """

    max_members: int = 10_000
    max_member_size: int = 1024 * MiB
    max_total_size: int = 4096 * MiB
    max_ratio: float = 200.0
    ratio_floor: int = 1 * MiB
    max_directory_size: int = 16 * MiB


DEFAULT_LIMITS = ZipLimits()


def is_zip(path: Path) -> bool:
    """True when the file has a zip central directory (never raises)."""
    try:
        return zipfile.is_zipfile(path)
    except (OSError, ValueError):
        return False


def member_names(
    path: Path, source: str | None = None, limits: ZipLimits = DEFAULT_LIMITS
) -> tuple[str, ...]:
    """The member names of an archive for format detection; empty when it is not readable.

    The end record is checked against ``limits`` before the central directory is read, so
    an archive of a million entries is refused without a million ``ZipInfo`` objects.

    Raises:
        ParseError: the archive declares more entries or a larger directory than allowed.
    """
    shown = source if source is not None else path.name
    try:
        with path.open("rb") as handle:
            check_directory(handle, shown, limits)
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except _READ_ERRORS:
        return ()
    _check_count(len(infos), shown, limits)
    return tuple(info.filename for info in infos)


# the end of central directory record, and the zip64 locator and record it may point to
_EOCD = struct.Struct("<4s4H2LH")
_EOCD_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_EOCD_SIGNATURE = b"PK\x06\x06"
# the end record sits in the last 22 bytes plus an archive comment of at most 65,535
_EOCD_SEARCH = _EOCD.size + 0xFFFF


def check_directory(handle: IO[bytes], source: str, limits: ZipLimits = DEFAULT_LIMITS) -> None:
    """Refuse an archive whose end record declares too many entries or too large a directory.

    Reads at most the last 64 KiB (and a zip64 record); nothing else is read or allocated.
    A file without an end record is left to ``zipfile`` to report as unreadable.

    Raises:
        ParseError: the declared entry count or directory size breaks ``limits``.
    """
    size = handle.seek(0, io.SEEK_END)
    start = max(0, size - _EOCD_SEARCH)
    handle.seek(start)
    tail = handle.read(size - start)
    at = tail.rfind(_EOCD_SIGNATURE)
    if at < 0 or len(tail) - at < _EOCD.size:
        return
    fields = _EOCD.unpack_from(tail, at)
    entries, directory = fields[4], fields[5]
    locator_at = start + at - _ZIP64_LOCATOR.size
    if (entries == 0xFFFF or directory == 0xFFFFFFFF) and locator_at >= 0:
        handle.seek(locator_at)
        locator = handle.read(_ZIP64_LOCATOR.size)
        if len(locator) == _ZIP64_LOCATOR.size and locator.startswith(_ZIP64_LOCATOR_SIGNATURE):
            handle.seek(_ZIP64_LOCATOR.unpack(locator)[2])
            record = handle.read(_ZIP64_EOCD.size)
            if len(record) == _ZIP64_EOCD.size and record.startswith(_ZIP64_EOCD_SIGNATURE):
                zip64 = _ZIP64_EOCD.unpack(record)
                entries, directory = zip64[7], zip64[8]
    _check_count(entries, source, limits)
    if directory > limits.max_directory_size:
        raise ParseError(
            source,
            f"the archive's central directory is {directory} bytes, more than the limit of "
            f"{limits.max_directory_size}",
        )


def _check_count(entries: int, source: str, limits: ZipLimits) -> None:
    if entries > limits.max_members:
        raise ParseError(
            source,
            f"the archive has {entries} entries, more than the limit of {limits.max_members}",
        )


def unsafe_name(name: str) -> str | None:
    """Why a member name could escape an extraction folder, or None when it is harmless."""
    if "\x00" in name:
        return "has a NUL byte in its name"
    unified = name.replace("\\", "/")
    if unified.startswith("/"):
        return "has an absolute path"
    if len(unified) >= 2 and unified[1] == ":" and unified[0].isalpha():
        return "has a drive letter"
    if ".." in unified.split("/"):
        return "has a '..' step in its path"
    return None


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    # unix mode bits live in the high 16 bits of external_attr, whatever system wrote them
    return stat.S_ISLNK(info.external_attr >> 16)


class SafeZip:
    """A zip archive checked against ``ZipLimits``; members are read as bounded streams.

    Raises:
        ParseError: the file is not a readable archive or breaks a limit or rule.
    """

    def __init__(self, path: Path, source: str, limits: ZipLimits = DEFAULT_LIMITS) -> None:
        self.source = source
        self.limits = limits
        self._read_total = 0
        try:
            with path.open("rb") as handle:
                check_directory(handle, source, limits)
            self._zip = zipfile.ZipFile(path)
        except _READ_ERRORS as exc:
            raise ParseError(source, f"not a readable zip archive ({_why(exc)})") from exc
        try:
            self._infos = self._check(self._zip.infolist())
        except BaseException:
            self._zip.close()
            raise

    def _check(self, infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
        limits = self.limits
        # the end record can understate the count: the directory as read is checked again
        _check_count(len(infos), self.source, limits)
        files: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            where = redact(f"{self.source}!{info.filename!r}")
            problem = unsafe_name(info.filename)
            if problem is not None:
                raise ParseError(where, f"refused: the member {problem}")
            if _is_symlink(info):
                raise ParseError(where, "refused: the member is a symbolic link")
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                raise ParseError(where, "refused: the member is encrypted")
            if info.compress_type not in SUPPORTED_COMPRESSION:
                raise ParseError(where, f"unsupported compression method {info.compress_type}")
            if info.file_size > limits.max_member_size:
                raise ParseError(
                    where,
                    f"refused: {info.file_size} bytes uncompressed, more than the limit of "
                    f"{limits.max_member_size}",
                )
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
                raise ParseError(
                    where,
                    f"refused as a zip bomb: it expands {ratio:.0f} times "
                    f"(limit {limits.max_ratio:.0f})",
                )
            total += info.file_size
            if total > limits.max_total_size:
                raise ParseError(
                    self.source,
                    f"refused: members add up to more than the limit of "
                    f"{limits.max_total_size} bytes uncompressed",
                )
            if info.filename in files:
                raise ParseError(where, "refused: the archive holds this member twice")
            files[info.filename] = info
        return files

    def names(self) -> list[str]:
        """The file members (folders left out), in archive order."""
        return list(self._infos)

    def open(self, name: str) -> IO[bytes]:
        """A member as a binary stream that stops at the limits and reports damage clearly."""
        info = self._infos.get(name)
        if info is None:
            raise ParseError(self.source, redact(f"the archive has no member {name!r}"))
        where = redact(f"{self.source}!{name}")
        try:
            raw = self._zip.open(info)
        except _READ_ERRORS as exc:
            raise ParseError(where, f"cannot read the member ({_why(exc)})") from exc
        return io.BufferedReader(_BoundedMember(raw, where, info.file_size, self), 64 * 1024)

    def read(self, name: str) -> bytes:
        """A whole member (bounded by ``max_member_size``)."""
        with self.open(name) as stream:
            return stream.read()

    def _account(self, size: int, where: str) -> None:
        self._read_total += size
        if self._read_total > self.limits.max_total_size:
            raise ParseError(where, "refused: the archive expands past its total size limit")

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class _BoundedMember(io.RawIOBase):
    """One member's bytes, never more than it declared, with read errors as ParseErrors."""

    def __init__(self, raw: IO[bytes], where: str, declared: int, owner: SafeZip) -> None:
        self._raw = raw
        self._where = where
        self._left = min(declared, owner.limits.max_member_size)
        self._owner = owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        # one byte past the declared size is enough to catch a header that lies
        want = min(len(buffer), self._left + 1)
        try:
            chunk = self._raw.read(want)
        except _READ_ERRORS as exc:
            raise ParseError(self._where, f"damaged archive member ({_why(exc)})") from exc
        if len(chunk) > self._left:
            raise ParseError(self._where, "refused: the member is larger than it declares")
        self._left -= len(chunk)
        self._owner._account(len(chunk), self._where)
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def open_zip(path: Path, source: str, limits: ZipLimits = DEFAULT_LIMITS) -> SafeZip:
    """Open an archive for reading under ``limits`` (see ``SafeZip``)."""
    return SafeZip(path, source, limits)


def _why(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
