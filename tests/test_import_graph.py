"""The import graph of ``src/surgeproof``: no module imports itself back through others, and no
package imports one above it. Every import counts, at a module's top or inside a function (an
import hidden in a function still makes the circle, it only defers it), and so does a module named
by a string for ``importlib`` (the command line's registry of subcommands). A process started with
``python -m`` is a boundary, not an import.
Imports under ``if TYPE_CHECKING:`` never run: they count for the layering, not for circles."""

from __future__ import annotations

import ast
from pathlib import Path

import surgeproof

PACKAGE = Path(surgeproof.__file__).parent

#: Base modules, below every package: the version, the error type, secrets, confined paths and
#: printable terminal output.
BASE = frozenset({"", "errors", "secret", "confine", "terminal"})

#: What each package may import beside itself and the base modules: the run directory is the
#: contract between the halves (load writes it, analysis reads it), and the command line sits on
#: top. A package not listed here is a new one: say where it belongs.
ALLOWED = {
    "scenario": frozenset(),
    "exchange": None,  # the system under test: nothing else of the package, not even the base
    "dialect": frozenset({"scenario"}),
    "rundir": frozenset(),
    "analysis": frozenset({"scenario", "dialect", "rundir"}),
    "load": frozenset({"scenario", "dialect", "rundir", "analysis", "exchange"}),
    "report": frozenset({"scenario", "dialect", "rundir", "analysis"}),
    "cli": frozenset({"scenario", "dialect", "rundir", "analysis", "load", "report", "exchange"}),
}

#: Circles being taken apart elsewhere; each must stay inside its set until it is gone. None:
#: the last one (analysis/levels.py with saturation.py and shortfall.py) went with its split.
KNOWN_CIRCLES: tuple[frozenset[str], ...] = ()


def modules() -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its ``__init__``)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = modules()


def _known(name: str) -> str:
    """The module ``name`` lives in: itself, else the nearest package or module above it."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _type_checking(test: ast.expr) -> bool:
    return "TYPE_CHECKING" in ast.unparse(test)


def _imports_by_name(call: ast.Call) -> bool:
    func = call.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return called in ("import_module", "__import__")


def _names_modules(node: ast.Tuple | ast.List) -> bool:
    """A registry of modules by name (``COMMAND_MODULES``): every item names one of ours.

    A process's argument list (``[python, "-m", "surgeproof.cli", "worker"]``) is not one: a
    process started is a boundary, not an import.
    """
    return bool(node.elts) and all(
        isinstance(item, ast.Constant) and item.value in MODULES for item in node.elts
    )


def imports(name: str) -> dict[str, bool]:
    """The ``surgeproof`` modules ``name`` imports, each with whether one import of it runs."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    here = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: dict[str, bool] = {}

    def add(target: str, runs: bool) -> None:
        if target == "surgeproof" or target.startswith("surgeproof."):
            target = _known(target)
            out[target] = out.get(target, False) or runs

    def visit(node: ast.AST, runs: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child.test):
                for item in child.body:
                    visit_one(item, False)
                for item in child.orelse:
                    visit_one(item, runs)
            else:
                visit_one(child, runs)

    def visit_one(node: ast.AST, runs: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, runs)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = here.split(".")[: len(here.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                add(full if full in MODULES else base, runs)
        elif isinstance(node, ast.Call) and _imports_by_name(node):
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    add(arg.value, runs)
            visit(node, runs)
        elif isinstance(node, (ast.Tuple, ast.List)) and _names_modules(node):
            for item in node.elts:
                add(item.value, runs)
        else:
            visit(node, runs)

    visit(tree, True)
    out.pop(name, None)
    return out


GRAPH = {name: imports(name) for name in MODULES}


def package_of(name: str) -> str:
    """``analysis`` for ``surgeproof.analysis.levels``; ``errors`` for ``surgeproof.errors``."""
    return name.split(".")[1] if "." in name else ""


def test_every_package_has_its_place_in_the_layering():
    packages = {package_of(name) for name in MODULES} - BASE
    assert packages == set(ALLOWED)


def test_the_layering_itself_has_no_circle():
    order: list[str] = []
    while len(order) < len(ALLOWED):
        ready = [
            p for p, below in ALLOWED.items() if p not in order and set(below or ()) <= set(order)
        ]
        assert ready, f"circle among {sorted(set(ALLOWED) - set(order))}"
        order.extend(ready)


def test_no_package_imports_one_above_it():
    wrong = []
    for name, targets in GRAPH.items():
        mine = package_of(name)
        for target in targets:
            theirs = package_of(target)
            if theirs == mine:
                continue
            if mine in BASE:
                ok = theirs in BASE
            elif ALLOWED[mine] is None:
                ok = False
            else:
                ok = theirs in BASE or theirs in ALLOWED[mine]
            if not ok:
                wrong.append(f"{name} -> {target}")
    assert not wrong, "upward imports:\n" + "\n".join(sorted(wrong))


def _circles() -> list[list[str]]:
    """Strongly connected sets of two or more modules, over the imports that run (Tarjan)."""
    runs = {name: [t for t, r in targets.items() if r] for name, targets in GRAPH.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in runs[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for name in MODULES:
        if name not in index:
            connect(name)
    return found


def _one_loop(group: list[str]) -> str:
    """A shortest way round the circle from its first module, for the failure message."""
    members = set(group)
    start = group[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w, runs in GRAPH[v].items():
            if not runs or w not in members:
                continue
            if w == start:
                return " -> ".join([*paths[v], start])
            if w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    return " <-> ".join(group)


def test_no_import_circles():
    circles = [
        _one_loop(group)
        for group in _circles()
        if not any(set(group) <= known for known in KNOWN_CIRCLES)
    ]
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_the_walk_sees_imports_inside_functions_and_by_name():
    # The check above is only as good as this walk: the command line names its subcommands by
    # string and imports inside functions; both must show up.
    cli = GRAPH["surgeproof.cli"]
    assert any(package_of(t) == "cli" and t != "surgeproof.cli" for t in cli)
    assert cli.get("surgeproof.terminal") is True
