"""scenario/ imports nothing else of the package (but its error type): the kinds and programs
that live here (SLOs, requirements, load programs) keep it so, whatever they are asked."""

from __future__ import annotations

import ast
from pathlib import Path

import surgeproof.scenario

SCENARIO = Path(surgeproof.scenario.__file__).parent
#: The package's top-level base modules (errors, terminal output) sit below every package.
ALLOWED = ("surgeproof.scenario", "surgeproof.errors", "surgeproof.terminal")


def imported(path: Path) -> set[str]:
    """Every ``surgeproof`` module a file imports, at its top or inside functions."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return {m for m in out if m == "surgeproof" or m.startswith("surgeproof.")}


def test_scenario_imports_nothing_else_of_the_package():
    outside = {
        f"{path.relative_to(SCENARIO)}: {module}"
        for path in sorted(SCENARIO.rglob("*.py"))
        for module in imported(path)
        if not module.startswith(ALLOWED)
    }
    assert outside == set()
