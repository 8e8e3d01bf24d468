"""The values every part of a scenario writes alike: users (``peak * 1.2``), user mixes, delays."""

from __future__ import annotations

import math
import re

from surgeproof.scenario.bounds import MAX_FACTOR, MAX_USERS
from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import BEHAVIOURS, UsersExpr
from surgeproof.scenario.numbers import is_number_text

_FIGURE_FIRST = re.compile(
    r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\*\s*(\d+(?:\.\d+)?(?:e-?\d+)?))?$", re.ASCII
)
_FACTOR_FIRST = re.compile(
    r"^(\d+(?:\.\d+)?(?:e-?\d+)?)\s*\*\s*([A-Za-z_][A-Za-z0-9_]*)$", re.ASCII
)


def parse_users(f: Field) -> UsersExpr:
    """``540000``, ``peak``, ``peak * 1.2`` or ``1.2 * peak``; at most MAX_USERS users and a
    factor of at most MAX_FACTOR, both finite."""
    what = "a number of users or a figure expression like 'peak * 1.2'"
    v = f.value
    if isinstance(v, bool):
        raise f.expected(what)
    if isinstance(v, int | float):
        return UsersExpr(_user_count(f, v))
    if not isinstance(v, str):
        raise f.expected(what)
    text = v
    if text != text.strip():  # " 5": no number, no figure expression either
        raise f.expected(what)
    if is_number_text(text):  # plain ASCII decimal only: not "١٢٣", "1_000" or "nan"
        return UsersExpr(_user_count(f, float(text)))
    m = _FIGURE_FIRST.match(text)
    if m:
        return UsersExpr(_factor(f, m.group(2)) if m.group(2) else 1.0, m.group(1))
    m = _FACTOR_FIRST.match(text)
    if m:
        return UsersExpr(_factor(f, m.group(1)), m.group(2))
    raise f.expected(what)


def _user_count(f: Field, value: float) -> float:
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or not 0 <= number <= MAX_USERS:
        raise f.expected(f"a number of users between 0 and {MAX_USERS:,.0f}")
    return number


def _factor(f: Field, text: str) -> float:
    factor = float(text)
    if not math.isfinite(factor) or factor > MAX_FACTOR:
        raise f.expected(f"a figure expression with a factor of at most {MAX_FACTOR:g}")
    return factor


def parse_mix(f: Field) -> dict[str, float]:
    """Behaviour → share; known behaviours only, shares summing to 1."""
    entries = f.fields(BEHAVIOURS, noun="behaviour") if isinstance(f.value, dict) else None
    if entries is None:
        raise f.expected(f"a mapping of behaviour to share ({', '.join(BEHAVIOURS)})")
    if not entries:
        raise f.expected("at least one behaviour")
    mix = {name: e.number(minimum=0.0) for name, e in entries.items()}
    total = sum(mix.values())
    if abs(total - 1.0) > 1e-6:
        raise f.error(f"shares must sum to 1, got {total:g}")
    return mix


def parse_delay(f: Field) -> float:
    """A duration that may be 0 (a backoff, a settling time)."""
    seconds = f.duration(positive=False)
    if seconds < 0:
        raise f.expected("a duration >= 0")
    return seconds


def mix_text(mix: dict[str, float]) -> str:
    """A mix as people read it: ``app_user 0.5, market_watcher 0.5``."""
    return ", ".join(f"{k} {v:g}" for k, v in mix.items())
