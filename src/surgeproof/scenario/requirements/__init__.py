"""Requirement kinds: the one list of them, found in this package's files.

Each module here (but ``kind``) defines ``KIND``, one :class:`RequirementKind`; adding a rule is
adding a file. A requirement is written ``NAME: VALUE`` (``sebi: peak``, or the YAML mapping
``{sebi: peak}``); a bare figure expression (``peak * 1.2``) is the default kind's.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import WRITERS, Requirement
from surgeproof.scenario.requirements.kind import (
    Evidence,
    FaultSessions,
    Judged,
    OrderLookups,
    Recovery,
    RequirementKind,
    SessionsToll,
    Status,
)


def _discover() -> tuple[RequirementKind, ...]:
    found = []
    for module in pkgutil.iter_modules(__path__):
        if module.name == "kind" or module.name.startswith("_"):
            continue
        kind = getattr(importlib.import_module(f"{__name__}.{module.name}"), "KIND", None)
        if isinstance(kind, RequirementKind):
            found.append(kind)
    return tuple(sorted(found, key=lambda k: (k.order, k.name)))


#: Every requirement kind, in listing order; the first is the default (a bare expression).
KINDS: tuple[RequirementKind, ...] = _discover()
NAMES: tuple[str, ...] = tuple(k.name for k in KINDS)
#: The kinds that are recovery objectives (a scenario's ``objectives:`` names them).
OBJECTIVES: tuple[str, ...] = tuple(k.name for k in KINDS if k.objective)
_BY_NAME = {k.name: k for k in KINDS}
_EXAMPLES = tuple(k.example for k in KINDS if k.objective)
_NAMED = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_.-]*)\s*:\s*(.*?)\s*$", re.DOTALL)


def kind_of(req: Requirement | str) -> RequirementKind:
    """The kind of ``req`` (or the kind called so); KeyError when no kind is."""
    return _BY_NAME[req if isinstance(req, str) else req.kind]


def parse_requirement(f: Field) -> Requirement:
    """A requirement from ``NAME: VALUE`` text, a one-entry mapping, or a bare expression of the
    default kind; an unknown name is one line naming ``f`` and the known ones."""
    value = f.value
    if isinstance(value, dict):
        if len(value) != 1 or not isinstance(next(iter(value)), str):
            raise f.expected("one rule per entry (NAME: VALUE)")
        name, given = next(iter(value.items()))
        return _kind_named(f, name).parse(Field(f.source, f"{f.path}.{name}", given))
    m = _NAMED.match(value) if isinstance(value, str) else None
    if m is None:
        return KINDS[0].parse(f)
    return _kind_named(f, m.group(1)).parse(Field(f.source, f.path, m.group(2)))


def parse_objectives(f: Field) -> tuple[Requirement, ...]:
    """A scenario's ``objectives:`` mapping (``{rto: 5m, orders-lost: 0}``): each entry a
    requirement of the objective kind it names; an unknown one is one line naming it and the
    known ones."""
    if not isinstance(f.value, dict):
        raise f.expected(f"a mapping of objectives like {{{', '.join(_EXAMPLES)}}}")
    for key in f.value:
        if key not in OBJECTIVES:
            shown = repr(key[:40]) if isinstance(key, str) else type(key).__name__
            also = (
                f" ({key!r} is a requirement: list it under requirements:)"
                if isinstance(key, str) and key in _BY_NAME
                else ""
            )
            raise ScenarioError(
                f.source,
                f"{f.path}.{key}" if isinstance(key, str) and len(key) <= 40 else f.path,
                f"unknown objective {shown}; known: {', '.join(OBJECTIVES)}{also}",
            )
    return tuple(_BY_NAME[name].parse(f.child(name)) for name in f.value)


def requirement_text(req: Requirement) -> str:
    """``req`` as written (``sebi: peak``; the default kind's bare: ``peak * 1.2``)."""
    return kind_of(req).text(req)


WRITERS[Requirement] = requirement_text


def settings_of(req: Requirement) -> dict[str, Any]:
    """``req``'s JSON form in analysis.json's settings."""
    return kind_of(req).settings(req)


def from_settings(d: dict[str, Any]) -> Requirement:
    """The requirement of a settings form (no ``kind``: the default kind's)."""
    return kind_of(str(d.get("kind", KINDS[0].name))).from_settings(d)


def _kind_named(f: Field, name: str) -> RequirementKind:
    if name not in _BY_NAME:
        raise ScenarioError(
            f.source,
            f.path,
            f"unknown requirement {name[:40]!r}; known: {', '.join(NAMES)} (a bare "
            f"{KINDS[0].example!r} is {NAMES[0]})",
        )
    return _BY_NAME[name]


__all__ = [
    "KINDS",
    "NAMES",
    "OBJECTIVES",
    "Evidence",
    "FaultSessions",
    "Judged",
    "OrderLookups",
    "Recovery",
    "RequirementKind",
    "SessionsToll",
    "Status",
    "from_settings",
    "kind_of",
    "parse_objectives",
    "parse_requirement",
    "requirement_text",
    "settings_of",
]
