"""One package per platform, each with the same modules: exports (parsers) and api (client)."""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache

from ingest.model import PLATFORMS
from ingest.parsing import Registry


@cache
def registry(platforms: tuple[str, ...] = PLATFORMS) -> Registry:
    """The formats of the given platforms (all by default), platform by platform.

    Each platform package exposes ``FORMATS``; a platform whose package is not present
    simply contributes nothing.
    """
    formats = Registry()
    for platform in platforms:
        name = f"ingest.platforms.{platform}"
        if importlib.util.find_spec(name) is None:
            continue
        formats.register(*importlib.import_module(name).FORMATS)
    return formats
