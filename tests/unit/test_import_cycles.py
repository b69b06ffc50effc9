"""The package ``lowincome`` has no import cycles.

A static reading of every module of ``include/lowincome``: each ``import``/``from ... import`` that
names a ``lowincome`` module, at module level or inside a function (an import inside a function is
still a dependency, only a later one), is an edge of the import graph. ``from lowincome.x import y``
where ``y`` is a submodule is an edge to ``lowincome.x.y``; a package's ``__init__`` importing its
own submodules is an edge like any other. The strongly connected components of more than one module
(or a module importing itself) are the cycles; the test lists each one. A module that calls
``importlib.import_module`` depends on every ``lowincome`` module it names in a string (the CLI's
``COMMAND_MODULES``).

``KNOWN_CYCLES`` may only shrink: a listed cycle that is gone fails the test too, so the list is
taken down when the cycle is.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "include"
PACKAGE = SOURCE / "lowincome"

# cycle (its modules, sorted) -> why it is still there
KNOWN_CYCLES: dict[tuple[str, ...], str] = {}


def _module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(SOURCE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _imports(module: str, path: Path, modules: set[str]) -> set[str]:
    """The lowincome modules this module imports, anywhere in it."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def known(name: str) -> str | None:
        # the module itself, or the nearest package above a name that is not a module
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    dynamic = any(isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
                  == "import_module" for node in ast.walk(tree))
    for node in ast.walk(tree):
        if dynamic and isinstance(node, ast.Constant) and node.value in modules:
            found.add(node.value)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "lowincome" and (target := known(alias.name)):
                    found.add(target)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                base_name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                base_name = node.module or ""
            if base_name.split(".")[0] != "lowincome":
                continue
            for alias in node.names:
                submodule = f"{base_name}.{alias.name}"
                if submodule in modules:
                    found.add(submodule)
                elif target := known(base_name):
                    found.add(target)
    found.discard(module)  # a module naming itself (its own package's attribute) is no cycle
    return found


def import_graph() -> dict[str, set[str]]:
    names = _module_names()
    modules = set(names)
    return {module: _imports(module, path, modules) for module, path in sorted(names.items())}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the components of more than one module, or of one importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    components.append(sorted(component))
    return sorted(components)


def _describe(component: list[str], graph: dict[str, set[str]]) -> str:
    members = set(component)
    edges = [f"    {a} -> {b}" for a in component for b in sorted(graph[a] & members)]
    return " <-> ".join(component) + "\n" + "\n".join(edges)


def test_the_graph_sees_imports_inside_functions_and_submodules(tmp_path):
    source = tmp_path / "__init__.py"
    source.write_text(
        "import json\n"
        "from lowincome.pkg import sub\n"            # a submodule named by from-import
        "from . import other\n"                      # relative, from a package's __init__
        "from lowincome.pkg.low import CONSTANT\n"   # a name of a module: the module
        "import lowincome.pkg.low.missing\n"         # not a module: the nearest one above it
        "def later():\n"
        "    from lowincome.pkg.lazy import thing\n"  # inside a function: still an edge
        "    importlib.import_module(name)\n"
        "NAMES = ('lowincome.pkg.dynamic', 'not.ours')\n"  # named for import_module
    )
    modules = {"lowincome.pkg", "lowincome.pkg.sub", "lowincome.pkg.other", "lowincome.pkg.low",
               "lowincome.pkg.lazy", "lowincome.pkg.dynamic", "lowincome.pkg.unused"}
    assert _imports("lowincome.pkg", source, modules) == {
        "lowincome.pkg.sub", "lowincome.pkg.other", "lowincome.pkg.low", "lowincome.pkg.lazy", "lowincome.pkg.dynamic"}
    graph = import_graph()
    assert "lowincome.transform.runs" in graph["lowincome.transform"]   # an __init__'s own submodule
    assert "lowincome.speedups" in graph["lowincome.ingest.pipeline"]     # from lowincome import speedups
    assert "lowincome.publish.sdmx" in graph["lowincome.cli"]           # COMMAND_MODULES


def test_tarjan_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}, "f": {"d"}}
    assert strongly_connected(graph) == [["a", "b", "c"], ["e"]]


def test_no_import_cycles():
    graph = import_graph()
    cycles = {tuple(component): component for component in strongly_connected(graph)}
    new = [_describe(component, graph) for key, component in cycles.items() if key not in KNOWN_CYCLES]
    gone = [" <-> ".join(key) for key in KNOWN_CYCLES if key not in cycles]
    assert not new, "import cycles in lowincome:\n" + "\n".join(new)
    assert not gone, "cycles listed in KNOWN_CYCLES that are gone (take them off the list):\n" + "\n".join(gone)
