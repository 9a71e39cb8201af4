"""The import graph of the product packages: layers point one way and nothing forms a cycle.

Read from the source with ``ast`` (imports inside functions and under TYPE_CHECKING count too):
``cards`` (the domain) <- ``config`` <- ``clients`` (adapters behind ports) <- ``prongs`` (use
cases) <- ``daemon`` (the process). A module imports only from its own layer or below; the use
cases speak the domain and the ports, never a concrete adapter, the base layout or settings; no
module reaches into another package's private (``_name``) module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("cards", "config", "clients", "prongs", "daemon")
#: What the use cases may import from clients/: the ports and the values that cross them.
PORT_VOCABULARY = frozenset(
    {
        "clients.ports",
        "clients.records",
        "clients.commands",
        "clients.errors",
        "clients.report_records",
    }
)


def _modules() -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _imported(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def _graph() -> dict[str, set[str]]:
    """Module -> the product modules it imports (``from pkg import mod`` counts as ``pkg.mod``)."""
    return {
        name: {t for t in _imported(path) if t in MODULES and t != name}
        for name, path in MODULES.items()
    }


GRAPH = _graph()


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def test_the_graph_covers_every_layer() -> None:
    assert {m.split(".")[0] for m in GRAPH} == set(LAYERS)
    assert "prongs.redemptions" in GRAPH["prongs.store_transactions"]


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_point_down_the_layers(module: str) -> None:
    upward = sorted(t for t in GRAPH[module] if _layer(t) > _layer(module))
    assert upward == [], f"{module} imports a higher layer"


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m.startswith("prongs")))
def test_use_cases_speak_the_domain_and_the_ports(module: str) -> None:
    outside = sorted(
        t
        for t in GRAPH[module]
        if t.startswith("config") or (t.startswith("clients") and t not in PORT_VOCABULARY)
    )
    assert outside == [], f"{module} imports adapters, the layout or settings"


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_module_reaches_into_another_packages_private_module(module: str) -> None:
    package = module.split(".")[0]
    private = sorted(
        t
        for t in GRAPH[module]
        if t.split(".")[0] != package and any(p.startswith("_") for p in t.split(".")[1:])
    )
    assert private == []


def test_there_is_no_import_cycle() -> None:
    cycles = _cycles(GRAPH)
    assert cycles == [], f"import cycles: {cycles}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
