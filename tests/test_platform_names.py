"""A platform's knowledge lives in its own package: nothing else in the shipped code names it.

The names looked for are those of the installed platforms (``name`` and ``title``), so a new
platform is held to the same rule without editing this test.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingest.platforms import platforms

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ("src", "dags", "plugins", "sql")
PLATFORM_PACKAGES = REPO / "src" / "ingest" / "platforms"
# files that still name platforms, and why; an entry whose file no longer does fails the test,
# so the list only shrinks
STILL_NAMING: dict[str, str] = {
    # an applied migration is checksummed and never edited; a later one replaces its columns
    "sql/migrations/V006__creators_and_anomalies.sql": "per-platform columns of creator_daily",
}


def platform_words() -> re.Pattern[str]:
    words = {w.lower() for p in platforms().values() for w in (p.name, p.title)}
    return re.compile("|".join(sorted(map(re.escape, words))), re.IGNORECASE)


def files_naming_a_platform() -> dict[str, list[str]]:
    pattern = platform_words()
    found: dict[str, list[str]] = {}
    for top in SHIPPED:
        for path in sorted((REPO / top).rglob("*")):
            if not path.is_file() or path.is_relative_to(PLATFORM_PACKAGES):
                continue
            if "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo"):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            hits = [
                f"{n}: {line.strip()}"
                for n, line in enumerate(text.splitlines(), 1)
                if pattern.search(line)
            ]
            if hits:
                found[str(path.relative_to(REPO))] = hits
    return found


def test_no_shipped_file_outside_the_platform_packages_names_a_platform():
    found = files_naming_a_platform()
    new = {name: hits for name, hits in found.items() if name not in STILL_NAMING}
    assert new == {}
    cleaned = sorted(set(STILL_NAMING) - set(found))
    assert cleaned == [], "these files no longer name a platform: drop them from STILL_NAMING"


def test_the_search_finds_a_platform_named_in_any_case():
    pattern = platform_words()
    title = next(iter(platforms().values())).title
    assert pattern.search(f"# read from the {title.upper()} export")
    assert not pattern.search("# read from the platform's export")
