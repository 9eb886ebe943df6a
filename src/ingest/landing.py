"""The landing zone: every input kept byte for byte, addressed by its SHA-256."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from ingest.redaction import redact

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
# files landed together: each holds two open files until their shared sync
FILES_PER_SYNC = 128
# fsyncs waiting side by side: they wait on the disk, not on a core
SYNC_THREADS = 16
_EXT_RE = re.compile(r"^[a-z0-9]{1,8}$")


@dataclass(frozen=True)
class LandedFile:
    """One file in the landing zone and what its manifest says of it."""

    path: Path
    sha256: str
    size: int
    platform: str
    day: date
    fetched_at: datetime
    source_name: str
    account: str | None
    format: str | None
    new: bool
    # when the pipeline itself asked the platform (API pulls); None for files handed in, whose
    # landing day is the user's statement of the day they describe
    observed_at: datetime | None = None
    # the snapshot grace the pull applied when it took the bytes (with ``observed_at``)
    snapshot_grace: timedelta | None = None

    @property
    def manifest_path(self) -> Path:
        return manifest_path(self.path)


MANIFEST_SUFFIX = ".manifest.json"


def manifest_path(landed: Path) -> Path:
    return landed.with_name(landed.name.split(".", 1)[0] + MANIFEST_SUFFIX)


def extension(name: str) -> str:
    """A safe file extension from a source name (``zip``, ``csv``, ``json``), else ``bin``."""
    suffix = Path(name).suffix.lower().lstrip(".")
    return suffix if _EXT_RE.match(suffix) else "bin"


@dataclass(frozen=True)
class Incoming:
    """Bytes on their way into the landing zone, and what their manifest will say of them.

    ``content`` is the bytes themselves (or a file's, read and hashed already), the local file
    holding them or a stream of them; the other fields are ``land_stream``'s.
    """

    content: bytes | HashedFile | Path | BinaryIO
    platform: str
    day: date
    source_name: str
    account: str | None = None
    format: str | None = None
    request: dict[str, Any] | None = None
    fetched_at: datetime | None = None
    observed_at: datetime | None = None
    snapshot_grace: timedelta | None = None


def land_stream(
    stream: BinaryIO,
    root: Path,
    *,
    platform: str,
    day: date,
    source_name: str,
    account: str | None = None,
    format: str | None = None,
    request: dict[str, Any] | None = None,
    fetched_at: datetime | None = None,
    observed_at: datetime | None = None,
    snapshot_grace: timedelta | None = None,
) -> LandedFile:
    """Copy a stream into ``<root>/<platform>/<day>/<sha256>.<ext>`` with a manifest.

    The bytes are hashed while they are written to a temporary file in the target folder,
    then renamed into place, so a crash never leaves a partial file under a real name.
    Landing bytes that are already there is a no-op, under any name or extension: the first
    file and its manifest are kept (the manifest is named by the hash alone). The manifest is
    made durable and renamed into place before the bytes are; each rename is made durable by
    an fsync of its folder, and new folders by an fsync of their parents.

    Args:
        stream: the bytes to keep.
        root: the landing zone root.
        platform: the platform the bytes came from.
        day: the day the bytes describe or were received on (the partition).
        source_name: the file's base name or the API endpoint, for people; never a local path.
        account: the account the bytes belong to, when known.
        format: the format name the bytes were detected as, so replays need not detect again.
        request: what was asked for (endpoint, parameters) with secrets already removed.
        fetched_at: when the bytes were received; now by default.
        observed_at: when the platform was asked, for bytes the pipeline fetched itself: the
            snapshot-day rule (``ingest.snapshots``) holds their snapshot rows to it.
        snapshot_grace: the grace that rule was applied with, kept so every replay decides
            as the pull did whatever the configuration says later.
    """
    (outcome,) = land_files(
        [
            Incoming(
                stream,
                platform=platform,
                day=day,
                source_name=source_name,
                account=account,
                format=format,
                request=request,
                fetched_at=fetched_at,
                observed_at=observed_at,
                snapshot_grace=snapshot_grace,
            )
        ],
        root,
    )
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def land_file(path: Path, root: Path, **kwargs: Any) -> LandedFile:
    """Land a local file (see ``land_stream``); its base name is kept, not its folder."""
    kwargs.setdefault("source_name", path.name)
    with path.open("rb") as stream:
        return land_stream(stream, root, **kwargs)


def land_files(items: Sequence[Incoming], root: Path) -> list[LandedFile | Exception]:
    """Land several inputs as ``land_stream`` lands one, sharing the syncs between them.

    Every file and its manifest are written to temporary names first; then all of them are
    made durable together (their fsyncs run side by side, and the filesystem commits them
    together); then the manifests are renamed into place and each folder is fsynced once; then
    the bytes, and each folder once more. So nothing is returned as landed before its renames
    are durable, no manifest reaches its name before it is durable, and no file reaches its
    name before its manifest has. The same bytes given twice for one platform and day land
    once: the later ones are reported as landed before (``new`` false), as if the files had
    landed one after the other.

    Returns:
        for each item, in order, its landed file, or the exception that kept it out (the
        others land all the same).
    """
    outcomes: list[LandedFile | Exception] = []
    for start in range(0, len(items), FILES_PER_SYNC):
        outcomes.extend(_land_some(items[start : start + FILES_PER_SYNC], root))
    return outcomes


@dataclass
class _Landing:
    """One file on its way into its folder: its temporary files until they are renamed."""

    folder: Path
    tmp: Path
    target: Path
    manifest: dict[str, Any]
    manifest_tmp: Path | None = None
    open_fds: list[int] = field(default_factory=list)
    error: Exception | None = None
    reported: bool = False

    def outcome(self) -> LandedFile | Exception:
        """The landed file the first time it is asked for; later ones repeat the same bytes."""
        if self.error is not None:
            return self.error
        first, self.reported = not self.reported, True
        return _landed_from(self.manifest, self.target, new=first)

    def close(self) -> None:
        for fd in self.open_fds:
            os.close(fd)
        self.open_fds.clear()

    def fail(self, error: Exception) -> None:
        self.error = self.error or error
        self.discard()

    def discard(self) -> None:
        self.close()
        self.tmp.unlink(missing_ok=True)
        if self.manifest_tmp is not None:
            self.manifest_tmp.unlink(missing_ok=True)


def _land_some(items: Sequence[Incoming], root: Path) -> list[LandedFile | Exception]:
    # the outcome of each item: landed before, its own landing, or the landing it repeats
    outcomes: list[LandedFile | Exception | _Landing | None] = [None] * len(items)
    landings: dict[tuple[Path, str], _Landing] = {}
    folders: dict[Path, Exception | None] = {}
    try:
        for at, item in enumerate(items):
            folder = root / item.platform / item.day.isoformat()
            try:
                if folder not in folders:
                    folders[folder] = None
                    _make_durable_dirs(folder)
            except Exception as exc:
                folders[folder] = exc
            if (folder_error := folders[folder]) is not None:
                outcomes[at] = folder_error
                continue
            try:
                outcomes[at] = _write(item, folder, landings)
            except Exception as exc:
                outcomes[at] = exc
        pending = [landing for landing in landings.values() if landing.error is None]
        _fsync_all(pending)
        _rename_all(pending, manifests=True)
        _rename_all(pending, manifests=False)
    except BaseException:
        for landing in landings.values():
            landing.discard()
        raise
    result: list[LandedFile | Exception] = []
    for outcome in outcomes:
        assert outcome is not None
        if isinstance(outcome, _Landing):
            result.append(outcome.outcome())
        else:
            result.append(outcome)
    return result


def _write(
    item: Incoming, folder: Path, landings: dict[tuple[Path, str], _Landing]
) -> LandedFile | _Landing:
    """Write one item's bytes and manifest to temporary files, not yet durable.

    Returns the landing under way, or the file or landing that already holds these bytes.
    """
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".landing-")
    landing = _Landing(folder, Path(tmp_name), folder, {}, open_fds=[fd])
    try:
        sha, size = _copy(item.content, fd)
        ext = extension(item.source_name)
        earlier = landings.get((folder, sha)) or _landed_copy(folder, sha, ext)
        if earlier is not None:
            landing.discard()
            return earlier if isinstance(earlier, _Landing) else _read_landed(earlier, new=False)
        landing.target = folder / f"{sha}.{ext}"
        landing.manifest = _manifest(item, sha, size)
        manifest_fd, manifest_tmp = tempfile.mkstemp(dir=folder, prefix=".manifest-")
        landing.open_fds.append(manifest_fd)
        landing.manifest_tmp = Path(manifest_tmp)
        _write_all(manifest_fd, json.dumps(landing.manifest, indent=2).encode())
    except BaseException:
        landing.discard()
        raise
    landings[(folder, sha)] = landing
    return landing


def _copy(content: bytes | HashedFile | Path | BinaryIO, fd: int) -> tuple[str, int]:
    """Write the bytes to ``fd``, hashing them on the way: their SHA-256 and size."""
    if isinstance(content, HashedFile):
        if content.data is None:
            raise ValueError("a hashed file lands from its bytes: its path is needed instead")
        _write_all(fd, content.data)
        return content.sha256, content.size
    if isinstance(content, bytes):
        _write_all(fd, content)
        return hashlib.sha256(content).hexdigest(), len(content)
    digest = hashlib.sha256()
    size = 0
    with content.open("rb") if isinstance(content, Path) else nullcontext(content) as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            _write_all(fd, chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _manifest(item: Incoming, sha: str, size: int) -> dict[str, Any]:
    received = (item.fetched_at or datetime.now(UTC)).astimezone(UTC)
    manifest = {
        "sha256": sha,
        "size": size,
        "platform": item.platform,
        "day": item.day.isoformat(),
        # a name saved from a URL can carry ?access_token=…; the manifest outlives the token
        "source_name": redact(Path(item.source_name).name),
        "account": item.account,
        "format": item.format,
        "request": item.request,
        "fetched_at": received.isoformat(),
    }
    if item.observed_at is not None:
        manifest["observed_at"] = item.observed_at.astimezone(UTC).isoformat()
    if item.snapshot_grace is not None:
        manifest["snapshot_grace_hours"] = item.snapshot_grace / timedelta(hours=1)
    return manifest


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_all(landings: list[_Landing]) -> None:
    """Make every temporary file durable; a file whose fsync fails fails alone."""
    if len(landings) <= 1:
        for landing in landings:
            _sync(landing)
        return
    # why: an fsync waits for a journal commit; fsyncs waiting side by side share commits
    futures = [_sync_pool().submit(_sync, landing) for landing in landings]
    try:
        for future in futures:
            future.result()
    except BaseException:
        # the files are closed and removed once no thread holds them any more
        for future in futures:
            future.cancel()
        wait(futures)
        raise


def _sync(landing: _Landing) -> None:
    try:
        for fd in landing.open_fds:
            os.fsync(fd)
        landing.close()
    except Exception as exc:
        landing.fail(exc)


_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _sync_pool() -> ThreadPoolExecutor:
    # why: starting threads for every batch costs more than the syncs save; a forked child
    # inherits the pool but not its threads, so it starts its own
    global _pool
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(SYNC_THREADS, "landing-sync"))
        return _pool[1]


def _rename_all(landings: list[_Landing], *, manifests: bool) -> None:
    """Rename the manifests (or the bytes) into place; then fsync each folder once."""
    renamed: dict[Path, list[_Landing]] = {}
    for landing in landings:
        if landing.error is not None:
            continue
        try:
            if manifests:
                assert landing.manifest_tmp is not None
                os.replace(landing.manifest_tmp, manifest_path(landing.target))
                landing.manifest_tmp = None
            else:
                os.replace(landing.tmp, landing.target)
        except Exception as exc:
            landing.fail(exc)
            continue
        renamed.setdefault(landing.folder, []).append(landing)
    for folder, done in renamed.items():
        try:
            _fsync_dir(folder)
        except Exception as exc:
            for landing in done:
                landing.fail(exc)


@dataclass(frozen=True)
class HashedFile:
    """A local file's SHA-256 and size, and its bytes when it was small enough to hold."""

    sha256: str
    size: int
    data: bytes | None


def hash_file(path: Path, *, hold: int = 0) -> HashedFile:
    """The SHA-256 of a local file's bytes, as its landed name would carry it.

    A file of at most ``hold`` bytes is kept in memory as well, so that one read serves to
    hash it, detect its format and land it.
    """
    with path.open("rb") as stream:
        if os.fstat(stream.fileno()).st_size <= hold:
            data = stream.read()
            return HashedFile(hashlib.sha256(data).hexdigest(), len(data), data)
        digest = hashlib.sha256()
        size = 0
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return HashedFile(digest.hexdigest(), size, None)


def already_landed(
    root: Path, platform: str, day: date, sha256: str, source_name: str = ""
) -> LandedFile | None:
    """The file landed with these bytes for (platform, day), if any: a replay needs no copy."""
    day_folder = os.path.join(root, platform, day.isoformat())
    if not os.path.exists(os.path.join(day_folder, sha256 + MANIFEST_SUFFIX)):
        return None  # why: the usual answer, asked for each platform a new file may be of
    earlier = _landed_copy(Path(day_folder), sha256, extension(source_name))
    return None if earlier is None else _read_landed(earlier, new=False)


# the folder, under staging, of the manifest indexes (``ManifestIndex``)
INDEX_FOLDER = "landed"


class ManifestIndex:
    """What the manifests of one landing day folder say, kept in one file beside staging.

    A replay of thousands of pages would otherwise open and parse a manifest per page, more
    than the rest of the replay costs. The index is only a cache, kept at
    ``<index root>/<platform>/<day>.jsonl``: an entry counts only while the manifest it was
    taken from is the same file (inode, size, times), so a purged and re-landed day is read
    again; entries are appended, one line each, so writers side by side lose nothing but
    each other's reads; a lost or damaged index costs the reads it saved.
    """

    def __init__(self, root: Path | None, platform: str, day: date) -> None:
        self.path = None if root is None else root / platform / f"{day.isoformat()}.jsonl"
        self._known: dict[str, tuple[list[int], dict[str, Any]]] | None = None
        self._new: list[str] = []

    def landed(self, target: Path) -> LandedFile:
        """``read_landed(target)``, from the index when the manifest is the one noted."""
        # why: plain strings; pathlib's parsing cost more than the lookup, thousands of times
        folder, name = os.path.split(target)
        sha = name.split(".", 1)[0]
        manifest = os.path.join(folder, sha + MANIFEST_SUFFIX)
        known = self._entries().get(sha)
        if known is not None and known[0] == _stamp(os.stat(manifest)):
            return _landed_from(known[1], target, new=False)
        with open(manifest, encoding="utf-8") as stream:
            stamp = _stamp(os.fstat(stream.fileno()))
            fields = json.load(stream)
        self._note(sha, stamp, fields)
        return _landed_from(fields, target, new=False)

    def add(self, landed: LandedFile) -> None:
        """Note a file just landed (its manifest is in place) without reading its manifest."""
        if landed.sha256 in self._entries():
            return
        try:
            stamp = _stamp(os.stat(landed.manifest_path))
        except OSError:
            return  # purged already: nothing to note
        self._note(landed.sha256, stamp, _manifest_fields(landed))

    def save(self) -> None:
        """Append what was read or landed since the index was read."""
        if self.path is None or not self._new:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # why: one write in append mode, so lines of writers side by side never interleave
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                _write_all(fd, "".join(self._new).encode())
            finally:
                os.close(fd)
        except OSError as exc:
            log.warning("could not note landed manifests in %s: %s", self.path, exc)
        self._new.clear()

    def _note(self, sha: str, stamp: list[int], fields: dict[str, Any]) -> None:
        self._entries()[sha] = (stamp, fields)
        if self.path is not None:
            entry = json.dumps({"stamp": stamp, "manifest": fields}, separators=(",", ":"))
            self._new.append(entry + "\n")

    def _entries(self) -> dict[str, tuple[list[int], dict[str, Any]]]:
        if self._known is None:
            self._known = {} if self.path is None else _read_index(self.path)
        return self._known


def _stamp(stat: os.stat_result) -> list[int]:
    # why: a manifest is never rewritten in place, so the same file means the same manifest;
    # a new file under its name (a purge, then the bytes landed again) has a new stamp
    return [stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]


def _read_index(path: Path) -> dict[str, tuple[list[int], dict[str, Any]]]:
    known: dict[str, tuple[list[int], dict[str, Any]]] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return known
    for line in text.splitlines():
        try:
            entry = json.loads(line)
            stamp, fields = entry["stamp"], entry["manifest"]
            known[str(fields["sha256"])] = (list(stamp), fields)
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a crash: that manifest is read again
    return known


def _manifest_fields(landed: LandedFile) -> dict[str, Any]:
    """What ``_landed_from`` reads of a landed file's manifest, from the file it made."""
    fields: dict[str, Any] = {
        "sha256": landed.sha256,
        "size": landed.size,
        "platform": landed.platform,
        "day": landed.day.isoformat(),
        "source_name": landed.source_name,
        "account": landed.account,
        "format": landed.format,
        "fetched_at": landed.fetched_at.isoformat(),
    }
    if landed.observed_at is not None:
        fields["observed_at"] = landed.observed_at.isoformat()
    if landed.snapshot_grace is not None:
        fields["snapshot_grace_hours"] = landed.snapshot_grace / timedelta(hours=1)
    return fields


class LandedListing:
    """``already_landed`` for the many files of one call, each day folder listed once.

    A pull or a replay gives thousands of files, and each may be of any platform: a few stats
    per file and platform cost more than one listing of each day folder, which names both a
    file's manifest and its bytes, so a file found is read without another stat, its
    manifest from the day's ``ManifestIndex`` under ``index`` when that has it. Bytes landed
    after a folder was listed and not ``add``-ed (by another process) are taken for new, and
    landing them finds the copy there (``land_files``); bytes gone since (a purge) are asked
    for as ``already_landed`` asks. ``save`` keeps what the indexes learnt.
    """

    def __init__(self, root: Path, index: Path | None = None) -> None:
        self.root = root
        self.index = index
        # (platform, day) -> the day folder, its manifest index and, for every file in it
        # with a manifest, its SHA-256 -> its name
        self._listed: dict[tuple[str, date], tuple[Path, ManifestIndex, dict[str, str]]] = {}

    def find(
        self, platform: str, day: date, sha256: str, source_name: str = ""
    ) -> LandedFile | None:
        folder, manifests, names = self._listing(platform, day)
        name = names.get(sha256)
        if name is None:
            return None
        try:
            return manifests.landed(folder / name)
        except FileNotFoundError:
            return already_landed(self.root, platform, day, sha256, source_name)

    def add(self, landed: LandedFile) -> None:
        """Count a file this call landed (or found) as listed."""
        listed = self._listed.get((landed.platform, landed.day))
        if listed is not None:
            listed[2][landed.sha256] = landed.path.name
        else:
            listed = self._listing(landed.platform, landed.day)
        listed[1].add(landed)

    def save(self) -> None:
        for _, manifests, _ in self._listed.values():
            manifests.save()

    def _listing(self, platform: str, day: date) -> tuple[Path, ManifestIndex, dict[str, str]]:
        key = (platform, day)
        if key not in self._listed:
            folder = self.root / platform / day.isoformat()
            index = ManifestIndex(self.index, platform, day)
            self._listed[key] = (folder, index, _manifested(folder))
        return self._listed[key]


def _manifested(folder: Path) -> dict[str, str]:
    """SHA-256 -> the landed file's name, for each file in ``folder`` that has its manifest."""
    manifests: set[str] = set()
    files: dict[str, str] = {}
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if name.endswith(MANIFEST_SUFFIX):
                    manifests.add(name[: -len(MANIFEST_SUFFIX)])
                elif not name.startswith("."):
                    files[name.split(".", 1)[0]] = name
    except FileNotFoundError:
        return {}
    return {sha: name for sha, name in files.items() if sha in manifests}


def read_landed(target: Path) -> LandedFile:
    """A file already in the landing zone, as its manifest describes it."""
    return _read_landed(target, new=False)


def landed_files(
    root: Path, platform: str, day: date, index: Path | None = None
) -> list[LandedFile]:
    """Everything landed for one platform and day, oldest first: what a replay of D reads.

    ``index``: where the day's ``ManifestIndex`` is kept, to read the manifests from.
    """
    folder = root / platform / day.isoformat()
    if not folder.is_dir():
        return []
    manifests = ManifestIndex(index, platform, day)
    files = [
        manifests.landed(p)
        for p in folder.iterdir()
        if not p.name.startswith(".") and not p.name.endswith(MANIFEST_SUFFIX)
    ]
    manifests.save()
    return sorted(files, key=lambda f: (f.fetched_at, f.sha256))


def _read_landed(target: Path, *, new: bool) -> LandedFile:
    with open(manifest_path(target), encoding="utf-8") as stream:
        manifest = json.load(stream)
    return _landed_from(manifest, target, new=new)


def _landed_from(manifest: dict[str, Any], target: Path, *, new: bool = True) -> LandedFile:
    return LandedFile(
        path=target,
        sha256=manifest["sha256"],
        size=manifest["size"],
        platform=manifest["platform"],
        day=date.fromisoformat(manifest["day"]),
        fetched_at=datetime.fromisoformat(manifest["fetched_at"]),
        source_name=manifest["source_name"],
        account=manifest.get("account"),
        format=manifest.get("format"),
        new=new,
        observed_at=datetime.fromisoformat(observed)
        if (observed := manifest.get("observed_at"))
        else None,
        snapshot_grace=timedelta(hours=grace)
        if (grace := manifest.get("snapshot_grace_hours")) is not None
        else None,
    )


def _landed_copy(folder: Path, sha: str, likely: str = "bin") -> Path | None:
    """The file already landed with these bytes, whatever its extension, if its manifest is."""
    # why: plain string paths; this runs for every file given, once per platform it may be of
    named = os.path.join(folder, sha)
    if not os.path.exists(named + MANIFEST_SUFFIX):
        return None
    if os.path.isfile(f"{named}.{likely}"):
        return folder / f"{sha}.{likely}"  # why: a glob reads the whole day folder
    for path in folder.glob(f"{sha}.*"):
        if not path.name.endswith(MANIFEST_SUFFIX):
            return path
    return None


def _fsync_dir(folder: Path) -> None:
    # a rename is in the folder's entries: without this a power cut can undo it after the
    # file's own fsync, leaving the landing zone without a file it reported as kept
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_durable_dirs(folder: Path) -> None:
    missing = []
    for parent in (folder, *folder.parents):
        if parent.is_dir():
            break
        missing.append(parent)
    folder.mkdir(parents=True, exist_ok=True)
    for created in reversed(missing):
        _fsync_dir(created.parent)
