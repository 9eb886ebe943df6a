"""The repository stands alone: its docs name files that exist and cite no notes kept elsewhere."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
# notes that live outside the repository; a maintainer who has only the repository cannot
# follow a citation of them
OUTSIDE_NOTES = re.compile(
    r"DESIGN\.md|design\s+notes|platforms\.md|\.\./shared|shared/reference", re.IGNORECASE
)
# applied migrations are checksummed and may not change: these first lines predate the rule
FROZEN = {
    "sql/migrations/V002__core.sql",
    "sql/migrations/V004__marts.sql",
}
# a path in backticks that names a file or folder of the repository
REPO_PATH = re.compile(r"`((?:src|sql|dags|plugins|tests|docs|bench)/[^`*<> ]+)`")
# a module of the package in backticks: `ingest.pipeline`
MODULE = re.compile(r"`(ingest(?:\.[a-z_]+)+)`")


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [ROOT / name for name in listed.split("\0") if name]


def test_no_file_cites_notes_outside_the_repository():
    citing = []
    for path in tracked_files():
        name = str(path.relative_to(ROOT))
        if name in FROZEN or name == "uv.lock" or path == Path(__file__) or not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for match in OUTSIDE_NOTES.finditer(text):
            number = text.count("\n", 0, match.start()) + 1
            citing.append(f"{name}:{number}: {match.group(0)!r}")
    assert not citing, "\n".join(citing)


def test_the_frozen_migrations_are_the_only_exception():
    # were one of them free to change, its citation should go rather than stay excused
    for name in FROZEN:
        assert OUTSIDE_NOTES.search((ROOT / name).read_text().splitlines()[0]), name


def test_the_architecture_page_names_files_and_modules_that_exist():
    text = ARCHITECTURE.read_text()
    named = {m.group(1).rstrip("/") for m in REPO_PATH.finditer(text)}
    # V0NN__name.sql is the migrations' naming pattern, not a file
    named = {p for p in named if "V0NN" not in p}
    assert len(named) > 5, named
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, missing
    modules = set(MODULE.findall(text))
    assert len(modules) > 10, modules
    for module in sorted(modules):
        base = ROOT / "src" / Path(*module.split("."))
        assert base.with_suffix(".py").is_file() or (base / "__init__.py").is_file(), module


def test_the_readme_points_at_the_architecture_page():
    readme = (ROOT / "README.md").read_text()
    assert "docs/architecture.md" in readme
