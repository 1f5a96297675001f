"""No import cycle anywhere in ``src/petridish``.

Every module is parsed with ``ast``; every import counts, wherever it is written: at the top,
inside a function (a lazy import), or under ``if TYPE_CHECKING:``. The graph's edges:

* ``import a.b.c`` / ``from a.b import c``: an edge to the module named (``a.b.c`` when it is
  a module, else the package ``a.b``, i.e. its ``__init__``), and, because Python runs every
  package ``__init__`` on the way, to each enclosing package that does not also enclose the
  importer (a module inside ``a.b`` runs inside an ``a.b`` already being imported, so a
  package's ``__init__`` importing its submodules and submodules importing siblings is not
  a cycle). A package named explicitly (``from a.b import name`` with ``name`` not a
  submodule) is always an edge, from inside the package too: that reads the package's
  namespace while it may still be half built.
* Relative imports are resolved against the importer's package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def module_names(root: Path) -> dict[str, Path]:
    """``dotted name -> file`` for every module under ``root`` (a package's name -> __init__)."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imports_of(name: str, source: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """The modules in ``known`` that importing module ``name`` (its ``source``) imports."""
    modules = set(known)
    package = name if is_package else name.rpartition(".")[0]
    targets: set[str] = set()  # named explicitly
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                targets.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts)
                origin = f"{base}.{node.module}" if node.module else base
            else:
                origin = node.module or ""
            for alias in node.names:
                sub = f"{origin}.{alias.name}"
                # ``from pkg import sub`` imports the submodule; any other name is read
                # from the package's namespace.
                targets.add(sub if sub in modules else origin)
    edges: set[str] = set()
    mine = set(_ancestors(name)) | ({name} if is_package else set())
    for target in targets:
        # ``import a.b.c`` where only ``a.b`` is ours as a module: the nearest known one.
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if not target:
            continue
        edges.add(target)
        edges.update(a for a in _ancestors(target) if a in modules and a not in mine)
    edges.discard(name)
    return edges


def import_graph(root: Path) -> dict[str, set[str]]:
    names = module_names(root)
    return {
        name: imports_of(name, path.read_text(), path.name == "__init__.py", names)
        for name, path in names.items()
    }


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The graph's strongly connected components that hold a cycle (more than one module,
    or a module importing itself), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def strongconnect(v: str) -> None:  # Tarjan; graphs here are small, recursion is fine
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in set(graph.get(v, ())):
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return components


def find_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One shortest cycle per strongly connected component, as a closed path
    ``[a, b, ..., a]`` starting at the component's first module."""
    components = strongly_connected(graph)
    cycles: list[list[str]] = []
    for component in components:
        members = set(component)
        start = component[0]
        # A shortest closed path through ``start`` inside the component (breadth first).
        parents: dict[str, str] = {}
        frontier = [start]
        found = None
        while frontier and found is None:
            nxt = []
            for v in frontier:
                for w in sorted(graph.get(v, ())):
                    if w not in members:
                        continue
                    if w == start:
                        found = v
                        break
                    if w not in parents:
                        parents[w] = v
                        nxt.append(w)
                if found is not None:
                    break
            frontier = nxt
        assert found is not None
        path = [found]
        while path[-1] != start:
            path.append(parents[path[-1]])
        cycles.append([start, *reversed(path[:-1]), start] if found != start else [start, start])
    return cycles


# -- the detector on small graphs ------------------------------------------------------------


def test_detector_finds_a_two_module_cycle() -> None:
    graph = {"p.cli": {"p.search.commands"}, "p.search.commands": {"p.cli"}, "p.x": set()}
    assert find_cycles(graph) == [["p.cli", "p.search.commands", "p.cli"]]


def test_detector_finds_a_longer_cycle_and_self_import() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    cycles = find_cycles(graph)
    assert ["a", "b", "c", "a"] in cycles and ["e", "e"] in cycles and len(cycles) == 2


def test_detector_accepts_a_dag() -> None:
    assert find_cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def _graph_of(sources: dict[str, str]) -> dict[str, set[str]]:
    """A graph from ``{relative path: source}`` of a synthetic package ``p``."""
    names: dict[str, tuple[str, bool]] = {}
    for rel, source in sources.items():
        parts = rel.removesuffix(".py").split("/")
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        names[".".join(parts)] = (source, is_package)
    return {n: imports_of(n, s, pkg, names) for n, (s, pkg) in names.items()}


def test_lazy_and_type_checking_imports_count() -> None:
    """The shape of the old ``cli.py`` <-> ``search/commands.py`` cycle: one side imports at
    the top, the other inside a function and under TYPE_CHECKING."""
    graph = _graph_of(
        {
            "p/__init__.py": "",
            "p/cli.py": "from p.search.commands import add_commands\n",
            "p/search/__init__.py": "",
            "p/search/commands.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from p.store import Store\n"
                "def error():\n    from p.cli import CliError\n    return CliError\n"
            ),
            "p/store.py": "",
        }
    )
    assert graph["p.search.commands"] == {"p.cli", "p.store"}
    assert find_cycles(graph) == [["p.cli", "p.search.commands", "p.cli"]]


def test_packages_and_relative_imports() -> None:
    graph = _graph_of(
        {
            "p/__init__.py": "from p.dish import Dish\n",
            "p/dish/__init__.py": "from .core import Dish\nfrom . import io\n",
            "p/dish/core.py": "from p import metrics\nfrom .config import Config\n",
            "p/dish/config.py": "",
            "p/dish/io.py": "from .core import Dish\n",
            "p/metrics.py": "import numpy\n",
            "p/cli/__init__.py": "from p.cli.search import main\n",
            "p/cli/common.py": "from p.dish.config import Config\n",
            "p/cli/search.py": "from p.cli.common import x\n",
            "p/other.py": "from p.cli.common import x\n",
        }
    )
    # A package __init__ importing its submodules, submodules importing siblings: no cycle.
    assert graph["p.dish"] == {"p.dish.core", "p.dish.io"}
    assert graph["p.dish.core"] == {"p.metrics", "p.dish.config"}
    assert graph["p.cli.search"] == {"p.cli.common"}
    # From outside a package, importing its submodule runs the package's __init__ first.
    assert graph["p.other"] == {"p.cli.common", "p.cli"}
    assert graph["p.cli.common"] == {"p.dish.config", "p.dish"}
    assert find_cycles(graph) == []
    # The dish cycle: core importing io (lazily) while io imports core.
    graph["p.dish.core"].add("p.dish.io")
    assert find_cycles(graph) == [["p.dish.core", "p.dish.io", "p.dish.core"]]
    # Reading a name from a package's own __init__ from inside it is an edge to it.
    inner = _graph_of({"q/__init__.py": "from q.a import f\n", "q/a.py": "from q import g\n"})
    assert find_cycles(inner) == [["q", "q.a", "q"]]


# -- the package -----------------------------------------------------------------------------


def test_the_graph_sees_the_package() -> None:
    graph = import_graph(SRC / "petridish")
    assert len(graph) > 50
    assert "petridish.dish.config" in graph["petridish.dish.core"]
    assert "petridish.cli" in graph and graph["petridish.cli"]


def test_no_import_cycle_in_petridish() -> None:
    graph = import_graph(SRC / "petridish")
    cycles = find_cycles(graph)
    report = [
        f"{' -> '.join(cycle)}  (modules in this cycle's component: {', '.join(component)})"
        for cycle, component in zip(cycles, strongly_connected(graph), strict=True)
    ]
    assert not cycles, "import cycles in src/petridish:\n" + "\n".join(report)
