"""What pyproject.toml declares matches what the code imports.

The base install is what a file-only user gets (`pip install creator-metrics-ingest`): every
module the package imports must come from it, and nothing from the optional stacks (Airflow,
the DuckLake extension wheels, the BI drivers), which are extras. Each declared dependency is
used somewhere, or says here why it is needed without an import.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
# declared yet never imported by name, and why
NEEDED_WITHOUT_IMPORT = {
    # duckdb turns TIMESTAMPTZ values into datetimes with pytz, and fails without it
    "pytz": "runtime need of duckdb",
    # the extension wheels are found by their package folders (ingest.backends), not imported
    "duckdb-extension-ducklake": "found with importlib.util.find_spec",
    "duckdb-extension-postgres": "found with importlib.util.find_spec",
    # the release that installs apache-airflow-core and the task SDK, which provide `airflow`
    "apache-airflow": "installs the distributions that provide airflow",
    # SQLAlchemy's dialect for DuckDB, loaded by create_engine("duckdb:///...")
    "duckdb-engine": "a SQLAlchemy dialect entry point",
    # tools and pytest plugins
    "pytest-timeout": "pytest plugin (timeout in pytest options)",
    "ruff": "linter",
    "mypy": "type checker",
    "types-requests": "type stubs",
    # the real-Airflow tests' metadata database drivers, loaded by Airflow
    "psycopg2-binary": "Airflow's sync PostgreSQL driver",
    "asyncpg": "Airflow's async PostgreSQL driver",
}


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
    assert match, spec
    return normalized(match.group(0))


def names(specs: Iterable[str]) -> set[str]:
    return {requirement_name(spec) for spec in specs}


BASE = names(PROJECT["dependencies"])
EXTRAS = {extra: names(specs) for extra, specs in PROJECT["optional-dependencies"].items()}
DEV = names(PYPROJECT["dependency-groups"]["dev"])


def third_party_imports(folders: Iterable[str]) -> dict[str, set[str]]:
    """Top-level modules imported anywhere (function bodies too), with the files importing."""
    found: dict[str, set[str]] = {}
    local = {"ingest", "creator_metrics", "tests", "bench", "gen", "history", "mastodon_metrics"}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in sys.stdlib_module_names or top in local or top == "__future__":
                        continue
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


@cache
def distributions_of(module: str) -> set[str]:
    return {normalized(d) for d in packages_distributions().get(module, [])}


def test_python_311_to_313_and_a_lock_resolved_for_all_three():
    assert PROJECT["requires-python"] == ">=3.11,<3.14"
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    assert lock["requires-python"] == ">=3.11, <3.14"
    markers = " ".join(lock.get("resolution-markers", []))
    assert "3.12" in markers and "3.13" in markers, markers


def test_the_optional_stacks_are_extras_and_make_installs_them_all():
    assert {"apache-airflow", "apache-airflow-providers-duckdb"} <= EXTRAS["airflow"]
    assert {"duckdb-extension-ducklake", "duckdb-extension-postgres"} <= EXTRAS["lake"]
    assert {"duckdb-engine", "sqlalchemy"} <= EXTRAS["bi"]
    for extra in EXTRAS.values():
        assert not extra & BASE, extra & BASE
    assert "duckdb" in BASE and "pandas" in BASE
    makefile = (ROOT / "Makefile").read_text()
    assert "sync --frozen --all-extras" in makefile


def test_the_lake_extra_ships_the_wheels_the_lake_backend_looks_for():
    from ingest.backends import _EXTENSIONS

    for _, package in _EXTENSIONS:
        assert normalized(package) in EXTRAS["lake"], package


def test_every_module_the_package_imports_comes_from_the_base_install():
    imported = third_party_imports(["src/ingest"])
    assert "pandas" in imported and "duckdb" in imported
    for module, files in sorted(imported.items()):
        dists = distributions_of(module)
        assert dists, f"{module} (imported by {sorted(files)}) is not installed"
        assert dists & BASE, (
            f"{module} imported by {sorted(files)} comes from {sorted(dists)}, "
            "which is not a base dependency"
        )


@pytest.mark.parametrize(
    ("folders", "allowed"),
    [
        (["dags", "plugins"], lambda: BASE | EXTRAS["airflow"]),
        (["tests", "bench"], lambda: BASE | DEV | set().union(*EXTRAS.values())),
    ],
    ids=["airflow-side", "tests-and-bench"],
)
def test_every_other_import_is_declared(folders, allowed):
    for module, files in sorted(third_party_imports(folders).items()):
        dists = distributions_of(module)
        assert dists & allowed(), f"{module} (imported by {sorted(files)}) is not declared"


def test_every_declared_dependency_is_used():
    imported = third_party_imports(["src/ingest", "dags", "plugins", "tests", "bench"])
    provided = set().union(*(distributions_of(module) for module in imported))
    for name in sorted(BASE | DEV | set().union(*EXTRAS.values())):
        if name in NEEDED_WITHOUT_IMPORT:
            continue
        assert name in provided, f"{name} is declared but nothing imports it"
