"""Imports inside the package run one way: no cycle, and the core never imports a platform.

The graph is read from the source with ``ast``, every ``import`` statement counted wherever it
stands: at module level, inside a function (a deferred import still makes the two modules
depend on each other) and under ``TYPE_CHECKING`` (mypy follows it like any import). Platforms
are reached only through the registry's entry points, which load them by name at run time and
so are no edge here.

A deferred import that closes a cycle would have to be named in ``DEFERRED_CYCLE_EDGES`` with
its reason (none is today); the list only shrinks, since an entry that is gone fails the test.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import ingest

PACKAGE_ROOT = Path(ingest.__file__).parent
PLATFORMS = "ingest.platforms"
# core modules that still import a platform's modules, and why; a name here whose module no
# longer does so fails the test below, so the list only shrinks
CORE_IMPORTS_OF_PLATFORMS: dict[str, str] = {}
# (importer, imported) edges left out of the cycle check, and why
DEFERRED_CYCLE_EDGES: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE_ROOT.rglob("*.py"))}


def import_nodes(tree: ast.AST, deferred: bool = False) -> Iterator[tuple[ast.stmt, bool]]:
    """Every import statement, and whether it stands inside a function (runs only when called)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, deferred
        inner = deferred or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from import_nodes(node, inner)


def imported(name: str, path: Path, known: set[str]) -> Iterator[tuple[str, bool]]:
    """The package's modules that module ``name`` imports, each with whether it is deferred."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node, deferred in import_nodes(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from package import module`` imports the module; ``from module import name``
            # the module itself
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]  # ``import a.b.c`` of a name inside a.b
            if target and target != name:
                yield target, deferred


def import_edges() -> dict[tuple[str, str], bool]:
    """Every (importer, imported) pair of the package, and whether all its imports are deferred."""
    found = modules()
    known = set(found)
    edges: dict[tuple[str, str], bool] = {}
    for name, path in found.items():
        for target, deferred in imported(name, path, known):
            edges[name, target] = edges.get((name, target), True) and deferred
    return edges


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in modules()}
    for importer, target in import_edges():
        graph[importer].add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as the list of modules along it (first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: explored, no cycle through it
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def platform_of(module: str) -> str | None:
    """The platform package a module belongs to (``ingest.platforms.<p>``), or None (core)."""
    parts = module.split(".")
    if module.startswith(PLATFORMS + ".") and len(parts) >= 3:
        return ".".join(parts[:3])
    return None


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    for importer, target in DEFERRED_CYCLE_EDGES:
        graph[importer].discard(target)
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_edges_left_out_of_the_cycle_check_exist_and_are_deferred():
    edges = import_edges()
    assert {edge: edges.get(edge) for edge in DEFERRED_CYCLE_EDGES} == dict.fromkeys(
        DEFERRED_CYCLE_EDGES, True
    )


def test_the_core_imports_no_platform_module():
    offenders = {
        name: sorted(t for t in targets if platform_of(t))
        for name, targets in import_graph().items()
        if platform_of(name) is None and any(platform_of(t) for t in targets)
    }
    assert set(offenders) == set(CORE_IMPORTS_OF_PLATFORMS), offenders


def test_a_platform_imports_no_other_platform():
    crossing = {
        name: sorted(t for t in targets if platform_of(t) not in (None, platform_of(name)))
        for name, targets in import_graph().items()
        if platform_of(name)
    }
    assert {name: found for name, found in crossing.items() if found} == {}


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
        ({"a": {"b", "c"}, "b": set(), "c": {"c2"}, "c2": {"c"}}, ["c", "c2", "c"]),
    ],
)
def test_find_cycle_reports_the_modules_along_a_cycle(graph, cycle):
    assert find_cycle(graph) == cycle


def test_the_graph_sees_deferred_and_type_checking_imports(tmp_path: Path):
    # the original cycle: parsing imported the stager type only under TYPE_CHECKING, and the
    # stagers imported the platforms' parsers inside functions; both count as edges
    graph = import_graph()
    assert "ingest.parsing" in graph["ingest.staging"]
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ingest.b import X\n"
    source += "def f():\n    from ingest.c import y\n"
    (tmp_path / "ingest").mkdir()
    module = tmp_path / "ingest" / "a.py"
    module.write_text(source)
    known = {"ingest.a", "ingest.b", "ingest.c"}
    assert set(imported("ingest.a", module, known)) == {("ingest.b", False), ("ingest.c", True)}
