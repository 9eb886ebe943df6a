"""Files that cannot be used: each one is that file's problem only, recorded once, then skipped.

Any exception while a landed file is detected, parsed or staged rejects that file alone; the
run's other files go on. The writer records the rejection in ``meta.loads`` (status
``rejected``, the reason as message, the parser version that judged it). Later replays of the
day skip a file already rejected by the same parser version, unless asked to retry it; a new
parser version tries it again by itself.

The stage step never opens the warehouse, so it learns of earlier rejections from a small note
per file under ``<staging>/rejected/``, which the writer keeps after recording. The note is
only a cache: ``meta.loads`` decides what is new, and a lost note costs one more parse.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb

from ingest.backends import retry_on_conflict, transaction
from ingest.config import Settings
from ingest.errors import IngestError, ParseError
from ingest.landing import LandedFile
from ingest.parsing import Format, parser_version
from ingest.platforms import registry
from ingest.sqlfiles import run_sql

log = logging.getLogger(__name__)


@dataclass
class Rejection:
    """One landed file that could not be used, in plain JSON types (it travels as an XCom).

    Args:
        reason: the message for the user; it names the file, and the line and field where
            known.
        skipped: not parsed this time: an earlier run rejected it with this parser version.
        retried: parsed again because the user asked to retry rejected files.
    """

    source: str
    platform: str
    format: str | None
    sha256: str
    account: str | None
    landing_day: str
    parser_version: str
    reason: str
    skipped: bool = False
    retried: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rejection:
        return cls(**dict(data))


class FileRejected(IngestError):
    """A landed file was rejected; ``rejection`` says which and why."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.reason)
        self.rejection = rejection


def landed_format(landed: LandedFile) -> Format | None:
    """The format a landed file is read with, or None when it cannot be told."""
    formats = registry((landed.platform,))
    try:
        if landed.format:
            return formats.get(landed.platform, landed.format, landed.source_name)
        return formats.detect(landed.path, landed.source_name, landed.platform)
    except Exception:  # whatever detection fails with, the format is unknown
        return None


def reason_for(shown: str, error: Exception) -> str:
    """The user's message for a file that failed with ``error``, naming the file.

    The project's own errors already name the file (and line and field); anything else is a
    failure of the code on this input, told with its type so it can be reported.
    """
    if isinstance(error, IngestError):
        text = str(error)
        return text if shown in text else f"{shown}: {text}"
    return str(ParseError(shown, f"cannot be read ({type(error).__name__}: {error})"))


def reject(
    landed: LandedFile,
    shown: str,
    error: Exception,
    *,
    account: str | None = None,
    retried: bool = False,
) -> FileRejected:
    """The rejection of a landed file that failed with ``error``, ready to raise."""
    if not isinstance(error, IngestError):
        log.warning("%s: rejected after an unexpected error", shown, exc_info=error)
    fmt = landed_format(landed)
    return FileRejected(
        Rejection(
            source=shown,
            platform=landed.platform,
            format=fmt.name if fmt else landed.format,
            sha256=landed.sha256,
            account=account or landed.account,
            landing_day=landed.day.isoformat(),
            parser_version=parser_version(fmt),
            reason=reason_for(shown, error),
            retried=retried,
        )
    )


def _note_path(settings: Settings, platform: str, day: str, sha256: str) -> Path:
    return _notes(settings.staging, platform, day) / f"{sha256}.json"


@lru_cache(maxsize=64)
def _notes(staging: Path, platform: str, day: str) -> Path:
    # why: asked for every file staged; joining four parts each time cost more than the read
    return staging / "rejected" / platform / day


# a folder's listing is kept once it has not changed for this long (see ``_noted``)
SETTLED_NS = 2_000_000_000
# a notes folder -> its modification time when listed, and the SHA-256 of each note in it
_listed: dict[Path, tuple[int, frozenset[str]]] = {}


def _noted(folder: Path) -> frozenset[str]:
    """The SHA-256 of every file with a note in ``folder``, listed again when it changed.

    Asked for every file staged: one stat of the folder costs less than failing to open a
    note per file. A note written in the same tick of the clock as a listing would leave the
    folder's time as it was, so a folder changed less than ``SETTLED_NS`` ago is listed anew
    each time.
    """
    try:
        changed = os.stat(folder).st_mtime_ns
    except OSError:
        return frozenset()
    listed = _listed.get(folder)
    if listed is not None and listed[0] == changed:
        return listed[1]
    try:
        names = frozenset(n[: -len(".json")] for n in os.listdir(folder) if n.endswith(".json"))
    except OSError:
        return frozenset()
    if time.time_ns() - changed >= SETTLED_NS:
        _listed[folder] = (changed, names)
    return names


def earlier_rejection(
    landed: LandedFile, settings: Settings, shown: str, account: str | None = None
) -> Rejection | None:
    """The rejection noted for this landed file by the current parser version, if any."""
    notes = _notes(settings.staging, landed.platform, landed.day.isoformat())
    if landed.sha256 not in _noted(notes):
        return None
    try:
        noted = Rejection.from_dict(
            json.loads((notes / f"{landed.sha256}.json").read_text(encoding="utf-8"))
        )
    except (OSError, ValueError, TypeError):
        return None
    if noted.parser_version != parser_version(landed_format(landed)):
        return None  # judged by another parser version: it gets a new try
    if noted.account != (account or landed.account):
        return None
    return Rejection(**{**noted.to_dict(), "source": shown, "skipped": True, "retried": False})


def forget_rejection(landed: LandedFile, settings: Settings) -> None:
    """Drop the note of a file that staged fine this time."""
    _note_path(settings, landed.platform, landed.day.isoformat(), landed.sha256).unlink(
        missing_ok=True
    )


def _note(settings: Settings, rejection: Rejection) -> None:
    path = _note_path(settings, rejection.platform, rejection.landing_day, rejection.sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    kept = {**rejection.to_dict(), "skipped": False, "retried": False}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".note-")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(kept, out)
    os.replace(tmp, path)


@dataclass(frozen=True)
class Recorded:
    """How the writer answered one rejection: its load, and whether it is news."""

    rejection: Rejection
    load_id: str
    new: bool


def record_rejections(
    conn: duckdb.DuckDBPyConnection,
    rejections: list[Rejection],
    settings: Settings,
    *,
    new_load_id: Callable[[str], str],
) -> list[Recorded]:
    """Record each rejection in ``meta.loads`` once, in one transaction; note it for replays.

    A rejection of the same bytes (platform, landing day, account) by the same parser version
    is already recorded: it is not recorded again and is not new.
    """
    if not rejections:
        return []
    recorded = retry_on_conflict(
        conn,
        lambda: _record_once(conn, rejections, new_load_id),
        what="recording rejected files",
    )
    for done in recorded:
        _note(settings, done.rejection)
    return recorded


def _record_once(
    conn: duckdb.DuckDBPyConnection,
    rejections: list[Rejection],
    new_load_id: Callable[[str], str],
) -> list[Recorded]:
    recorded: list[Recorded] = []
    with transaction(conn):
        for rejection in rejections:
            params: dict[str, Any] = {
                "platform": rejection.platform,
                "source_sha256": rejection.sha256,
                "landing_day": date.fromisoformat(rejection.landing_day),
                "account_id": rejection.account,
                "parser_version": rejection.parser_version,
            }
            row = run_sql(conn, "rejections/earlier_rejection", params).fetchone()
            if row is not None:
                recorded.append(Recorded(rejection, str(row[0]), new=False))
                continue
            load_id = new_load_id(rejection.sha256)
            # no rows of the file are published; the reason is the load's message
            load = {
                **params,
                "load_id": load_id,
                "format": rejection.format,
                "source_file": rejection.source,
                "status": "rejected",
                "rows_read": 0,
                "rows_loaded": 0,
                "rows_quarantined": 0,
                "message": rejection.reason,
                "notes": None,
                "started_at": datetime.now(UTC),
            }
            run_sql(conn, "publish/record_load", load)
            run_sql(conn, "publish/record_load_identity", load)
            recorded.append(Recorded(rejection, load_id, new=True))
    return recorded
