"""Templates in dialect files: YAML values whose strings may hold ``{variable|filter}`` slots.

A template is compiled once into a function of the variables, so rendering on the request
path is a few dict lookups and joins. A string that is exactly one slot keeps the variable's
own value (``"{price|number}"`` renders a number, not text); ``{{`` and ``}}`` are literal
braces. A mapping or list whose parts are all constant is rendered once, at compile time.

A variable's value may be a :class:`~surgeproof.secret.Secret` (a password, an API key, a
session token): filters see its value, and whatever a secret went into — the one slot, or the
text it was joined into — comes out a Secret again, so a rendered request never shows one. A
filter that cannot take a value raises :class:`RenderError` naming the template and the
variable, never the value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from surgeproof.secret import Secret

#: Filters a slot may apply, left to right: ``{base|lower}``, ``{price|number}``.
FILTERS: dict[str, Callable[[Any], Any]] = {
    "lower": lambda v: str(v).lower(),
    "upper": lambda v: str(v).upper(),
    "number": lambda v: _number(v),
}

_SLOT = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

Render = Callable[[Mapping[str, Any]], Any]


class TemplateError(ValueError):
    """A template that cannot be compiled; the message says what is wrong with it."""


class RenderError(ValueError):
    """A value a slot's filter cannot take; the message names the slot and its template only."""


Filters = tuple[tuple[str, Callable[[Any], Any]], ...]


@dataclass(frozen=True)
class Template:
    """A compiled template: its variables, and ``render(vars)``."""

    source: Any
    variables: frozenset[str]
    render: Render
    constant: bool

    def __call__(self, values: Mapping[str, Any]) -> Any:
        return self.render(values)


def compile_template(value: Any, allowed: frozenset[str] | None = None) -> Template:
    """Compile a YAML value; a TemplateError names an unknown variable, filter or bad brace."""
    names: set[str] = set()
    render = _compile(value, names, allowed)
    constant = not names
    if constant:
        fixed = render({})
        render = _const(fixed)
    return Template(value, frozenset(names), render, constant)


def _const(value: Any) -> Render:
    return lambda _v: value


def _compile(value: Any, names: set[str], allowed: frozenset[str] | None) -> Render:
    if isinstance(value, str):
        return _compile_text(value, names, allowed)
    if isinstance(value, dict):
        items = [(str(k), _compile(v, names, allowed)) for k, v in value.items()]
        return lambda v: {k: r(v) for k, r in items}
    if isinstance(value, list):
        parts = [_compile(item, names, allowed) for item in value]
        return lambda v: [r(v) for r in parts]
    if value is None or isinstance(value, bool | int | float):
        return _const(value)
    raise TemplateError(f"expected text, a number, a list or a mapping, got {type(value).__name__}")


def _compile_text(text: str, names: set[str], allowed: frozenset[str] | None) -> Render:
    parts: list[str | tuple[str, tuple[Callable[[Any], Any], ...]]] = []
    pos = 0
    for m in _SLOT.finditer(text):
        if m.start() > pos:
            parts.append(text[pos : m.start()])
        token = m.group(0)
        if token in ("{{", "}}"):
            parts.append(token[0])
        elif m.group(1) is None:
            raise TemplateError(f"unmatched {token!r} in {text!r} (write {token * 2} for a brace)")
        else:
            parts.append(_slot(m.group(1), text, names, allowed))
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    if not parts:
        return _const("")
    if len(parts) == 1 and isinstance(parts[0], tuple):
        name, filters = parts[0]
        return _slot_value(name, filters, text)
    if all(isinstance(p, str) for p in parts):
        return _const("".join(p for p in parts if isinstance(p, str)))
    pieces = [_slot_value(*p, text) if isinstance(p, tuple) else _const(p) for p in parts]

    def join(v: Mapping[str, Any]) -> Any:
        out = []
        secret = False
        for r in pieces:
            piece = r(v)
            if type(piece) is Secret:
                secret = True
                piece = piece.reveal()
            out.append(piece if type(piece) is str else str(piece))
        joined = "".join(out)
        return Secret(joined) if secret else joined

    return join


def _slot(
    body: str, text: str, names: set[str], allowed: frozenset[str] | None
) -> tuple[str, Filters]:
    name, *filter_names = (part.strip() for part in body.split("|"))
    if not _NAME.match(name):
        raise TemplateError(f"bad slot {{{body}}} in {text!r}: expected {{variable}}")
    if allowed is not None and name not in allowed:
        known = ", ".join(sorted(allowed)) or "none here"
        raise TemplateError(f"unknown variable {{{name}}} in {text!r} (known: {known})")
    filters = []
    for f in filter_names:
        if f not in FILTERS:
            raise TemplateError(f"unknown filter |{f} in {text!r} (known: {', '.join(FILTERS)})")
        filters.append((f, FILTERS[f]))
    names.add(name)
    return name, tuple(filters)


def _slot_value(name: str, filters: Filters, text: str) -> Render:
    def value(v: Mapping[str, Any]) -> Any:
        try:
            return v[name]
        except KeyError:  # e.g. {session_token} in a call made before any login
            raise RenderError(f"{{{name}}} in {text!r}: {name} has no value in this call") from None

    if not filters:
        return value

    def render(v: Mapping[str, Any]) -> Any:
        out = value(v)
        secret = type(out) is Secret
        if secret:
            out = out.reveal()
        for label, f in filters:
            try:
                out = f(out)
            except (ValueError, TypeError, ArithmeticError):
                # ``from None``: the filter's own message (and its context) may hold the value.
                raise RenderError(
                    f"{{{name}|{label}}} in {text!r}: the value of {name} cannot go through "
                    f"|{label}"
                ) from None
        return Secret(out) if secret else out

    return render


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("true/false is not a number")
    if isinstance(value, int | float):
        number = value
    else:
        text = str(value)
        try:
            number = int(text)
        except ValueError:
            number = float(text)
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError("not a finite number")
    return number
