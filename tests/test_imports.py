"""deepclust's imports form no circle: read statically (every import statement, those inside functions too), the
graph of its packages is acyclic, so nothing below imports what stands above it and no lazy import hides a circle."""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).parents[1] / "src" / "deepclust"
#: Imports that close a circle, each awaiting its fix; the tests below ignore these edges and no other. Delete an
#: entry when its import goes (a circle it leaves behind then fails the tests).
KNOWN_BACK_EDGES: dict[tuple[str, str], str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(ignore=KNOWN_BACK_EDGES) -> dict[str, set[str]]:
    """Module → the deepclust modules it imports anywhere in its text (``from . import x`` counts as ``pkg.x``),
    the edges in ``ignore`` left out."""
    modules = {_module_name(p): p for p in SOURCE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t.split(".")[0] == "deepclust" and t != name
                            and (name, t) not in ignore}
    return graph


def _unit(module: str) -> str:
    """The package a module belongs to: ``deepclust.run._write`` → ``deepclust.run``; top-level modules
    (``deepclust.pipeline``) and the facade (``deepclust``) are their own."""
    return ".".join(module.split(".")[:2])


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read():
    """The graph holds the edges every version of deepclust has (a parser that found nothing would pass below)."""
    graph = import_graph(ignore=())
    assert "deepclust.datasets" in graph["deepclust.pipeline"], graph["deepclust.pipeline"]
    assert "deepclust.run" in graph["deepclust.explore"], graph["deepclust.explore"]
    assert "deepclust.report" in graph["deepclust.run._write"], graph["deepclust.run._write"]


def test_modules_import_no_circle():
    """No module imports, through any chain, a module that imports it."""
    assert cycles(import_graph()) == []


def test_packages_import_no_circle():
    """Between packages (a subpackage counts as one) the imports point one way: no package imports, through any
    chain, a package that imports it. The facade ``deepclust/__init__.py`` counts too: nothing inside may import
    from it (``__version__`` comes from ``deepclust._version``)."""
    packages: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        packages.setdefault(_unit(module), set()).update(_unit(t) for t in targets if _unit(t) != _unit(module))
    assert cycles(packages) == []


def private_imports_across_packages() -> list[tuple[str, str]]:
    """(module, target) where a module imports a private module of another package (``deepclust.features._cache``
    from ``deepclust.cli``): a package is used through its ``__init__``. deepclust's own top-level private modules
    (``deepclust._atomic``) serve every package."""
    found = []
    for module, targets in import_graph().items():
        for target in targets:
            inner = target.split(".")[2:]
            if _unit(target) != _unit(module) and any(part.startswith("_") for part in inner):
                found.append((module, target))
    return sorted(found)


def test_no_package_imports_another_ones_private_module():
    """Every package is reached through its public names (the graph is checked to see private modules at all)."""
    assert "deepclust.run._record" in import_graph()["deepclust.run._folder"]
    assert private_imports_across_packages() == []
