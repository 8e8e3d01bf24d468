"""Load programs: the one list of them, found in this package's files.

Each module here (but ``program``) defines ``KIND``, one :class:`ProgramKind`; adding a program is
adding a file. A scenario writes exactly one program, under its kind's key.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from typing import Any

from surgeproof.scenario.programs.program import (
    Judge,
    Judgement,
    LoadState,
    Program,
    ProgramKind,
    ResolvedProgram,
    Stretch,
)


def _discover() -> tuple[ProgramKind, ...]:
    found = []
    for module in pkgutil.iter_modules(__path__):
        if module.name == "program" or module.name.startswith("_"):
            continue
        kind = getattr(importlib.import_module(f"{__name__}.{module.name}"), "KIND", None)
        if isinstance(kind, ProgramKind):
            found.append(kind)
    return tuple(sorted(found, key=lambda k: (k.order, k.name)))


#: Every program kind, in listing order.
KINDS: tuple[ProgramKind, ...] = _discover()
#: The scenario keys programs are written under.
KEYS: tuple[str, ...] = tuple(k.key for k in KINDS)
_BY_NAME = {k.name: k for k in KINDS}


def kind_of(program: Any) -> ProgramKind:
    """The kind of a config or resolved program (or the kind of that name)."""
    return _BY_NAME[program if isinstance(program, str) else program.kind]


def kind_of_run(scenario: Mapping[str, Any] | None) -> ProgramKind | None:
    """The kind of program a run played, from run.json's ``scenario``: its ``program``, else (a
    run directory from before programs were named) the kind whose part it holds."""
    if not scenario:
        return None
    name = scenario.get("program")
    if isinstance(name, str) and name in _BY_NAME:
        return _BY_NAME[name]
    return next((k for k in KINDS if scenario.get(k.plan_key)), None)


__all__ = [
    "KEYS",
    "KINDS",
    "Judge",
    "Judgement",
    "LoadState",
    "Program",
    "ProgramKind",
    "ResolvedProgram",
    "Stretch",
    "kind_of",
    "kind_of_run",
]
