"""The platform registry: the ``Platform`` each installed platform package publishes.

Platforms are found through the ``creator_metrics.platforms`` entry point group (see
``ingest.plugin``); the built-in ones live in the sub-packages of this package.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib.metadata import entry_points

from ingest.errors import IngestError
from ingest.parsing import Registry
from ingest.plugin import ENTRY_POINT_GROUP, Platform, load_object


@cache
def platforms() -> dict[str, Platform]:
    """Every installed platform by name, in ``(order, name)`` order."""
    found: dict[str, Platform] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        platform = entry.load()
        if not isinstance(platform, Platform):
            raise IngestError(
                f"entry point {entry.name} = {entry.value} in {ENTRY_POINT_GROUP}"
                " is not an ingest.plugin.Platform"
            )
        if platform.name in found:
            raise IngestError(f"platform {platform.name!r} is published twice ({entry.value})")
        found[platform.name] = platform
    return dict(sorted(found.items(), key=lambda item: (item[1].order, item[0])))


def names() -> tuple[str, ...]:
    """The installed platforms' names, in registry order."""
    return tuple(platforms())


def get(name: str) -> Platform:
    """One platform; an unknown name is an error that lists the known ones."""
    try:
        return platforms()[name]
    except KeyError:
        raise IngestError(f"unknown platform {name!r} (one of {', '.join(names())})") from None


@cache
def _registry(selected: tuple[str, ...]) -> Registry:
    formats = Registry()
    for name in selected:
        formats.register(*load_object(get(name).formats))
    return formats


def registry(selected: Sequence[str] | None = None) -> Registry:
    """The formats of the given platforms (all by default), platform by platform."""
    return _registry(tuple(selected) if selected is not None else names())
