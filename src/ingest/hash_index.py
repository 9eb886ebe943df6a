"""What the files handed in hashed to, so a replay of unchanged files need not read them.

A replay (``ingest load`` of the same pages again, the inbox picked up again) hashes every
file to find its landed copy: reading and hashing the bytes cost more than the rest of
finding it. Like git's index, this notes each file's SHA-256 with its stat (device, inode,
size, modification and change times) and believes it while the stat is the same. The change
time cannot be set by a program, so bytes rewritten in place, copied over or restored with
their old modification time all show a new stat. A file changed within the clock's
granularity of its last change could keep its stat, so a file changed less than
``SETTLED_NS`` before it was hashed is not noted (git's racy-entry rule).

The index is only a cache, one JSON file per source folder under ``<staging>/hashed/``: a
lost or damaged one costs the hashing it saved; two runs side by side keep the notes of the
one that saved last. Landing never trusts it: a file that lands is hashed as it is copied.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

from ingest.landing import HashedFile, hash_file

log = logging.getLogger(__name__)

FOLDER = "hashed"
# a file's stat is believed only for bytes that had not changed for this long when hashed
SETTLED_NS = 2_000_000_000


def stamp(status: os.stat_result) -> list[int]:
    return [
        status.st_dev,
        status.st_ino,
        status.st_size,
        status.st_mtime_ns,
        status.st_ctime_ns,
    ]


class HashIndex:
    """The SHA-256 of files handed in, by folder and name, with the stat they were read at."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        # source folder -> name -> [*stamp, sha256]
        self._folders: dict[str, dict[str, list[Any]]] = {}
        self._changed: set[str] = set()

    def hashed(self, path: Path, status: os.stat_result, *, hold: int = 0) -> HashedFile:
        """``hash_file(path, hold=hold)``, or the noted hash while ``status`` is the noted one.

        ``status`` is the file's stat taken before this call: bytes changed after it show a
        new stat the next time. A noted hash comes without the bytes.
        """
        folder, name = os.path.split(os.path.abspath(path))
        notes = self._notes(folder)
        found = notes.get(name)
        now = stamp(status)
        if found is not None and found[:-1] == now:
            return HashedFile(found[-1], status.st_size, None)
        hashed = hash_file(path, hold=hold)
        if self.root is not None and stat.S_ISREG(status.st_mode):
            settled = time.time_ns() - max(status.st_mtime_ns, status.st_ctime_ns)
            if settled >= SETTLED_NS:
                notes[name] = [*now, hashed.sha256]
                self._changed.add(folder)
            elif found is not None:
                del notes[name]
                self._changed.add(folder)
        return hashed

    def save(self) -> None:
        """Write the notes of every folder that changed (each file replaced whole)."""
        if self.root is None:
            return
        for folder in self._changed:
            path = self._path(folder)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                data = json.dumps({"folder": folder, "files": self._folders[folder]})
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".hashes-")
                try:
                    with os.fdopen(fd, "w", encoding="utf-8") as out:
                        out.write(data)
                    os.replace(tmp, path)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
            except OSError as exc:
                log.warning("could not note file hashes in %s: %s", path, exc)
        self._changed.clear()

    def _notes(self, folder: str) -> dict[str, list[Any]]:
        notes = self._folders.get(folder)
        if notes is None:
            notes = self._folders[folder] = self._read(folder)
        return notes

    def _read(self, folder: str) -> dict[str, list[Any]]:
        if self.root is None:
            return {}
        try:
            data = json.loads(self._path(folder).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # none yet, or damaged: the files are hashed again
        if not isinstance(data, dict) or data.get("folder") != folder:
            return {}  # why: another folder's notes under a colliding name are not ours
        files = data.get("files")
        if not isinstance(files, dict):
            return {}
        return {
            name: note
            for name, note in files.items()
            if isinstance(note, list) and len(note) == 6 and isinstance(note[-1], str)
        }

    def _path(self, folder: str) -> Path:
        assert self.root is not None
        key = hashlib.sha256(os.fsencode(folder)).hexdigest()[:32]
        return self.root / f"{key}.json"
