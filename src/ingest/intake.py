"""Taking given files into the landing zone: the files of ``ingest load`` and of an inbox.

Each file is read once (hashed, detected and copied from memory); bytes that landed before are
found by their hash, without detection or copy; the others land in batches sharing their
syncs (``landing.land_files``).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from ingest.config import Settings
from ingest.errors import IngestError, ParseError
from ingest.hash_index import FOLDER as HASH_FOLDER
from ingest.hash_index import HashIndex
from ingest.landing import (
    INDEX_FOLDER,
    HashedFile,
    Incoming,
    LandedFile,
    LandedListing,
    already_landed,
    land_files,
)
from ingest.parsing import Format, take_sample
from ingest.platforms import names as platform_names
from ingest.platforms import registry
from ingest.progress import emit
from ingest.redaction import redact
from ingest.stops import stopped_by

log = logging.getLogger(__name__)

# files landed together, sharing one round of syncs, and the bytes held for them at most
LAND_BATCH_FILES = 128
LAND_BATCH_BYTES = 32 * 1024 * 1024
# a file up to this size is read once: hashed, detected and landed from memory
HOLD_BYTES = 4 * 1024 * 1024
# what a person does about a file whose format does not name its account, on the command line
PASS_ACCOUNT = "pass --account"
# from this many files on, a call lists each day folder once to find what landed before
LIST_FROM_FILES = 32


@dataclass(frozen=True)
class GivenFile:
    """A file handed in to land: where it is, the name it is shown by, its account if known."""

    path: Path
    shown: str
    account: str | None


@dataclass(frozen=True)
class _Rules:
    """How the files of one call land: the platform and day given, and what a file lacks."""

    platform: str | None
    day: date | None
    # a file of no known format lands all the same (under ``platform``), for staging to reject
    keep_unknown: bool = False
    # what to do about a file whose format does not name its account and that has none
    account_hint: str = PASS_ACCOUNT


# the files of the batch under way, as if landed already: (platform, day, sha256) -> format
_Pending = dict[tuple[str, date, str], Format | None]
# what landed before with some bytes: (platform, day, sha256, source name) -> the landed file
_Find = Callable[[str, date, str, str], LandedFile | None]


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files as given, and the files inside given folders (sorted, hidden ones skipped).

    Only the parts below a given folder decide what is hidden: the folder itself may well be
    ``~/.cache/exports`` or ``../exports``.
    """
    for path in paths:
        if path.is_dir():
            yield from _files_below(path)
        else:
            yield path


def _files_below(folder: Path) -> list[Path]:
    """The files below ``folder`` but hidden ones, in path order (``sorted(rglob("*"))``'s).

    Folders reached by a symbolic link are not entered; files reached by one are files.
    """
    # why: rglob, a Path per entry and a stat for each cost 25 µs a file, more than finding
    # the file's landed copy; the listing's entries tell a file or folder without a stat
    found: list[tuple[tuple[str, ...], str]] = []

    def walk(at: str, parts: tuple[str, ...]) -> None:
        try:
            with os.scandir(at) as entries:
                listed = list(entries)
        except PermissionError:
            return  # as rglob: a folder that cannot be listed holds nothing to load
        for entry in listed:
            if entry.name.startswith("."):
                continue
            below = (*parts, entry.name)
            if entry.is_dir(follow_symlinks=False):
                walk(entry.path, below)
            elif entry.is_file():
                found.append((below, entry.path))

    walk(os.fspath(folder), ())
    return [Path(path) for _, path in sorted(found)]


def land_input(
    path: Path,
    settings: Settings,
    *,
    platform: str | None,
    account: str | None,
    day: date | None,
    shown: str,
) -> LandedFile:
    """Detect a file's format and keep its bytes in the landing zone (a no-op if already there).

    Raises:
        ParseError: not a file, not a known format, or an account is needed and not given.
    """
    incoming = _incoming(
        GivenFile(path, shown, account),
        settings,
        _Rules(platform, day),
        {},
        _finder(settings),
        HashIndex(None),
    )
    if isinstance(incoming, LandedFile):
        return incoming
    (landed,) = land_files([incoming], settings.landing)
    if isinstance(landed, Exception):
        raise landed
    return landed


def land_inputs(
    paths: Iterable[Path],
    settings: Settings,
    *,
    platform: str | None,
    account: str | None,
    day: date | None,
    refuse: Callable[[str, IngestError], None],
    rehash: bool = False,
) -> list[tuple[str, LandedFile]]:
    """``land_input`` for each file (folders expanded): the landed ones, as shown, in order.

    A file that cannot be landed goes to ``refuse`` with its error, in its turn; the others go
    on. See ``land_given``.
    """
    files = [GivenFile(path, redact(str(path)), account) for path in expand_paths(paths)]
    return land_given(files, settings, platform=platform, day=day, refuse=refuse, rehash=rehash)


def land_given(
    files: Sequence[GivenFile],
    settings: Settings,
    *,
    platform: str | None,
    day: date | None,
    refuse: Callable[[str, IngestError], None],
    keep_unknown: bool = False,
    account_hint: str = PASS_ACCOUNT,
    rehash: bool = False,
) -> list[tuple[str, LandedFile]]:
    """Land files, each with its account: the landed ones, as shown, in order.

    A file that cannot be landed goes to ``refuse`` with its error, in its turn; the others go
    on. Each file is read once (hashed, detected and copied from memory), and files land in
    batches sharing their syncs (``landing.land_files``). Of the same bytes given twice, the
    first keeps its manifest, as when files landed one after the other.

    Args:
        platform: the platform every file is of; any platform detection finds when None.
        day: the day the files land under; today (UTC) when None.
        keep_unknown: a file of no known format lands too, without a format (under
            ``platform``, which it needs), for staging to reject once; else it is refused.
        account_hint: what the refusal of a file that needs an account and has none says to do.
        rehash: hash every file, even those whose stat says they are the bytes hashed before
            (``ingest.hash_index``, used from ``LIST_FROM_FILES`` files on).
    """
    if keep_unknown and platform is None:
        raise ValueError("a file of no known format lands under a platform given for it")
    rules = _Rules(platform, day, keep_unknown, account_hint)
    listing: LandedListing | None = None
    hashes = HashIndex(None)
    if len(files) >= LIST_FROM_FILES:
        listing = LandedListing(settings.landing, settings.staging / INDEX_FOLDER)
        if not rehash:
            hashes = HashIndex(settings.staging / HASH_FOLDER)
    find = listing.find if listing is not None else _finder(settings)
    landed: list[tuple[str, LandedFile]] = []
    batch: list[tuple[str, LandedFile | Incoming | IngestError]] = []
    pending: _Pending = {}
    done = 0

    def land_batch() -> None:
        nonlocal done
        outcomes = iter(
            land_files([i for _, i in batch if isinstance(i, Incoming)], settings.landing)
        )
        for shown, item in batch:
            outcome = next(outcomes) if isinstance(item, Incoming) else item
            if isinstance(outcome, LandedFile):
                landed.append((shown, outcome))
                if listing is not None:
                    listing.add(outcome)
            elif isinstance(outcome, IngestError):
                refuse(shown, outcome)
            else:
                if stopped_by(outcome):
                    raise outcome
                refuse(shown, _named(shown, outcome))
            done += 1
            emit("land", done=done, total=len(files), detail=shown)
        batch.clear()
        pending.clear()

    held = 0
    for file in files:
        try:
            item: LandedFile | Incoming | IngestError = _incoming(
                file, settings, rules, pending, find, hashes
            )
        except Exception as exc:
            if stopped_by(exc):
                raise
            item = exc if isinstance(exc, IngestError) else _named(file.shown, exc)
        batch.append((file.shown, item))
        if isinstance(item, Incoming) and isinstance(item.content, HashedFile):
            held += item.content.size
        if len(batch) >= LAND_BATCH_FILES or held >= LAND_BATCH_BYTES:
            land_batch()
            held = 0
    land_batch()
    hashes.save()
    if listing is not None:
        listing.save()
    return landed


def _finder(settings: Settings) -> _Find:
    def find(platform: str, day: date, sha256: str, source_name: str) -> LandedFile | None:
        return already_landed(settings.landing, platform, day, sha256, source_name)

    return find


def _incoming(
    file: GivenFile,
    settings: Settings,
    rules: _Rules,
    pending: _Pending,
    find: _Find,
    hashes: HashIndex,
) -> LandedFile | Incoming:
    """A file as it is to land, or its landed copy when its bytes are there already.

    ``pending`` holds what is about to land, which counts as landed; a file to land is added.
    ``find`` tells what landed before; ``hashes`` hashes the file.
    """
    path, shown, account, platform = file.path, file.shown, file.account, rules.platform
    try:
        status = os.stat(path)
    except (OSError, ValueError):  # as Path.is_file: a name with a NUL is no file either
        status = None
    if status is None or not stat.S_ISREG(status.st_mode):
        raise ParseError(shown, "no such file")
    day = rules.day or datetime.now(UTC).date()
    hashed = hashes.hashed(path, status, hold=HOLD_BYTES)
    landed = _landed_before(
        hashed.sha256, path.name, find, platform=platform, account=account, day=day
    )
    if landed is not None:
        return landed
    content = path if hashed.data is None else hashed
    before = _pending_before(hashed.sha256, pending, platform=platform, account=account, day=day)
    if before is not None:
        # the same bytes as a file of this batch: landing them again finds that file
        name, fmt_name = before
        return Incoming(content, platform=name, day=day, source_name=path.name, format=fmt_name)
    fmt = _detect(path, shown, hashed, rules)
    if fmt is not None and fmt.needs_account and not account:
        problem = f"{fmt.platform} {fmt.name} files do not name their account"
        raise ParseError(shown, f"{problem}: {rules.account_hint}")
    landing_platform = fmt.platform if fmt is not None else platform
    assert landing_platform is not None  # _Rules keep no unknown file without a platform
    pending[(landing_platform, day, hashed.sha256)] = fmt
    return Incoming(
        content,
        platform=landing_platform,
        day=day,
        source_name=path.name,
        account=account,
        format=fmt.name if fmt is not None else None,
    )


def _detect(path: Path, shown: str, hashed: HashedFile, rules: _Rules) -> Format | None:
    """The file's format; None for a file of no known format when such files land too."""
    platform = rules.platform
    try:
        sample = None if hashed.data is None else take_sample(path, shown, head=hashed.data)
        return registry((platform,) if platform else None).detect(
            path, shown, platform, sample=sample
        )
    except Exception as exc:
        if not rules.keep_unknown or stopped_by(exc):
            raise
        # kept like any input: staging rejects it once with its reason, and later runs of the
        # day skip it (a parser that learns the format reads it from landing)
        return None


def _landed_before(
    sha: str,
    name: str,
    find: _Find,
    *,
    platform: str | None,
    account: str | None,
    day: date,
) -> LandedFile | None:
    """The landed copy of a file's bytes for its day, when its manifest names the format.

    A replay (the same pages loaded again) then costs one read to hash the bytes: no
    detection, no copy, no fsync. The checks ``land_input`` makes on a new file still hold.
    """
    for candidate in (platform,) if platform else platform_names():
        landed = find(candidate, day, sha, name)
        if landed is None or not landed.format:
            continue
        fmt = registry((candidate,)).get(candidate, landed.format, landed.source_name)
        if fmt.needs_account and not account:
            return None  # detection says so, naming the file as given
        return landed
    return None


def _pending_before(
    sha: str, pending: _Pending, *, platform: str | None, account: str | None, day: date
) -> tuple[str, str | None] | None:
    """``_landed_before`` for the files of the batch under way: their platform and format.

    The account check holds here too: the same bytes may come from an account's subfolder
    and from outside it.
    """
    for candidate in (platform,) if platform else platform_names():
        key = (candidate, day, sha)
        if key not in pending:
            continue
        fmt = pending[key]
        if fmt is not None and fmt.needs_account and not account:
            return None  # detection says so, naming the file as given
        return candidate, None if fmt is None else fmt.name
    return None


def _named(shown: str, error: Exception) -> IngestError:
    log.warning("%s: refused after an unexpected error", shown, exc_info=error)
    return ParseError(shown, f"cannot be read ({type(error).__name__}: {error})")
