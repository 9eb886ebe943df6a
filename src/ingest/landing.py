"""The landing zone: every input kept byte for byte, addressed by its SHA-256."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from ingest.redaction import redact

CHUNK = 1024 * 1024
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


def manifest_path(landed: Path) -> Path:
    return landed.with_name(landed.name.split(".", 1)[0] + ".manifest.json")


def extension(name: str) -> str:
    """A safe file extension from a source name (``zip``, ``csv``, ``json``), else ``bin``."""
    suffix = Path(name).suffix.lower().lstrip(".")
    return suffix if _EXT_RE.match(suffix) else "bin"


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
    file and its manifest are kept (the manifest is named by the hash alone). Each rename is
    made durable by an fsync of its folder, and new folders by an fsync of their parents.

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
    folder = root / platform / day.isoformat()
    _make_durable_dirs(folder)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".landing-")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha = digest.hexdigest()
        target = folder / f"{sha}.{extension(source_name)}"
        earlier = _landed_copy(folder, sha, extension(source_name))
        if earlier is not None:
            tmp.unlink()
            return _read_landed(earlier, new=False)
        received = (fetched_at or datetime.now(UTC)).astimezone(UTC)
        manifest = {
            "sha256": sha,
            "size": size,
            "platform": platform,
            "day": day.isoformat(),
            # a name saved from a URL can carry ?access_token=…; the manifest outlives the token
            "source_name": redact(Path(source_name).name),
            "account": account,
            "format": format,
            "request": request,
            "fetched_at": received.isoformat(),
        }
        if observed_at is not None:
            manifest["observed_at"] = observed_at.astimezone(UTC).isoformat()
        if snapshot_grace is not None:
            manifest["snapshot_grace_hours"] = snapshot_grace / timedelta(hours=1)
        _write_atomic(manifest_path(target), json.dumps(manifest, indent=2).encode())
        os.replace(tmp, target)
        _fsync_dir(folder)
        return _read_landed(target, new=True)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def land_file(path: Path, root: Path, **kwargs: Any) -> LandedFile:
    """Land a local file (see ``land_stream``); its base name is kept, not its folder."""
    kwargs.setdefault("source_name", path.name)
    with path.open("rb") as stream:
        return land_stream(stream, root, **kwargs)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a local file's bytes, as its landed name would carry it."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def already_landed(
    root: Path, platform: str, day: date, sha256: str, source_name: str = ""
) -> LandedFile | None:
    """The file landed with these bytes for (platform, day), if any: a replay needs no copy."""
    earlier = _landed_copy(root / platform / day.isoformat(), sha256, extension(source_name))
    return None if earlier is None else _read_landed(earlier, new=False)


def read_landed(target: Path) -> LandedFile:
    """A file already in the landing zone, as its manifest describes it."""
    return _read_landed(target, new=False)


def landed_files(root: Path, platform: str, day: date) -> list[LandedFile]:
    """Everything landed for one platform and day, oldest first: what a replay of D reads."""
    folder = root / platform / day.isoformat()
    if not folder.is_dir():
        return []
    files = [
        read_landed(p)
        for p in folder.iterdir()
        if not p.name.startswith(".") and not p.name.endswith(".manifest.json")
    ]
    return sorted(files, key=lambda f: (f.fetched_at, f.sha256))


def _read_landed(target: Path, *, new: bool) -> LandedFile:
    manifest = json.loads(manifest_path(target).read_text(encoding="utf-8"))
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
    if not manifest_path(folder / f"{sha}.bin").exists():
        return None
    if (folder / f"{sha}.{likely}").is_file():
        return folder / f"{sha}.{likely}"  # why: a glob reads the whole day folder
    for path in folder.glob(f"{sha}.*"):
        if not path.name.endswith(".manifest.json"):
            return path
    return None


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".manifest-")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp_name, path)
    _fsync_dir(path.parent)


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
