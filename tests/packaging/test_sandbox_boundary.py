"""The sandbox is a tool beside the product, never part of it, and its imports form no cycle.

Read from the source (AST), so an import inside a function or under ``TYPE_CHECKING`` counts as
much as one at the top: the daemon reaches the sandbox only through its process entry point
(``python -m sandbox``), and its wheel could not import it anyway.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("config", "cards", "clients", "prongs", "daemon")
IMPORT_CALLS = {"import_module", "__import__"}


def _modules(package: str) -> Iterator[tuple[str, Path]]:
    base = ROOT / package
    for path in sorted(base.rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        if "build" in relative.parts:
            continue
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        yield ".".join(parts), path


def _statements(module: str, path: Path) -> Iterator[tuple[str, str | None, int]]:
    """``(module, name, line)`` for every import in ``path``, wherever the statement sits:
    ``import a.b`` is ``("a.b", None)``, ``from a import b`` is ``("a", "b")`` (``b`` a module
    or a name in ``a``); literal ``import_module("...")`` calls count too."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield base, alias.name, node.lineno
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name in IMPORT_CALLS and node.args and isinstance(node.args[0], ast.Constant):
                yield str(node.args[0].value), None, node.lineno


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every module or name ``path`` imports, dotted (``from a import b`` yields ``a.b``)."""
    for base, name, line in _statements(module, path):
        yield (f"{base}.{name}" if name else base), line


def _is_sandbox(name: str) -> bool:
    return name == "sandbox" or name.startswith("sandbox.")


def test_no_product_module_imports_the_sandbox() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for package in PRODUCT
        for module, path in _modules(package)
        for name, line in _imports(module, path)
        if _is_sandbox(name)
    ]
    assert offenders == [], "the daemon starts the sandbox as a process only:\n" + "\n".join(
        offenders
    )


def _sandbox_graph() -> dict[str, set[str]]:
    """Module -> the sandbox modules it imports. ``from pkg import sub`` is an edge to the
    module ``pkg.sub`` alone (Python imports the submodule, whatever ``pkg/__init__`` holds);
    ``from pkg import name`` is an edge to ``pkg``."""
    modules = dict(_modules("sandbox"))
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        edges = graph[module] = set()
        for base, name, _ in _statements(module, path):
            target = f"{base}.{name}" if name and f"{base}.{name}" in modules else base
            if target in modules and target != module:
                edges.add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_sandbox_has_no_import_cycle() -> None:
    graph = _sandbox_graph()
    assert "sandbox.shopify.views" in graph and "sandbox.demo" in graph  # the scan sees them
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_every_cycle_and_nothing_else() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "e"}, "e": {"d"}, "f": set()}
    assert _cycles(graph) == [["a", "b", "c"], ["d", "e"]]


def test_the_scan_reads_imports_inside_functions_and_type_checking(tmp_path: Path) -> None:
    path = tmp_path / "mod.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from sandbox.stack import Sandbox\n"
        "def f():\n    import sandbox.runner\n"
        "def g():\n    importlib.import_module('sandbox.demo')\n"
        "from . import sibling\n",
        "utf-8",
    )
    names = {name for name, _ in _imports("daemon.mod", path)}
    assert {"sandbox.stack.Sandbox", "sandbox.runner", "sandbox.demo", "daemon.sibling"} <= names
