"""The step-to-break search as a pure function: given the levels judged so far, the next one.

Coarse steps (× step_factor) up to the first failing level, then bisection between the highest
passing level below the lowest failing one, until the bracket is narrower than the resolution
(or one user wide). Inconclusive levels count as not passing: a search never climbs on a level
it could not judge, so it cannot hammer far past the ceiling.

One exception: a level *cut short* (a generator worker was lost during its window, so it did
not offer the load it says) is held again, at most ``max_reholds`` times in a row; a level held
again no longer counts. When the search gives up on it, the last hold stays inconclusive and
counts as not passing, as above.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: How many times a level cut short is held again before the search gives up on it.
MAX_REHOLDS = 2


@dataclass(frozen=True)
class JudgedLevel:
    users: int
    verdict: str  # "pass" | "fail" | "inconclusive"
    #: Offered load fell short during the window (a lost worker): it measured less than it says.
    cut_short: bool = False


@dataclass(frozen=True)
class Bracket:
    """The ceiling lies in (last_pass, first_fail]; either end may be unknown (None)."""

    last_pass: int | None
    first_fail: int | None

    @property
    def width(self) -> float | None:
        if self.last_pass is None or self.first_fail is None:
            return None
        return (self.first_fail - self.last_pass) / self.last_pass


def holds_in_a_row(levels: Sequence[JudgedLevel]) -> int:
    """How many of the last levels were the same users, each cut short (0: the last was not)."""
    n = 0
    for lv in reversed(levels):
        if not lv.cut_short or lv.users != levels[-1].users:
            break
        n += 1
    return n


def rehold_due(levels: Sequence[JudgedLevel], max_reholds: int = MAX_REHOLDS) -> bool:
    """The last level was cut short and may be held again (held at most 1 + max_reholds times)."""
    return 0 < holds_in_a_row(levels) <= max_reholds


def counted(levels: Sequence[JudgedLevel]) -> list[JudgedLevel]:
    """The levels a bracket counts: a cut-short level that was held again later is superseded."""
    return [
        lv
        for i, lv in enumerate(levels)
        if not (lv.cut_short and any(later.users == lv.users for later in levels[i + 1 :]))
    ]


def bracket_of(levels: Sequence[JudgedLevel]) -> Bracket:
    """Lowest non-passing level, and the highest passing level below it (superseded skipped)."""
    levels = counted(levels)
    fails = [lv.users for lv in levels if lv.verdict != "pass"]
    first_fail = min(fails) if fails else None
    passes = [
        lv.users
        for lv in levels
        if lv.verdict == "pass" and (first_fail is None or lv.users < first_fail)
    ]
    return Bracket(max(passes) if passes else None, first_fail)


def next_level(
    levels: Sequence[JudgedLevel],
    start: float,
    maximum: float,
    step_factor: float,
    resolution: float,
    max_reholds: int = MAX_REHOLDS,
) -> int | None:
    """The next level (users) to hold, or None when the search is done."""
    start_i = max(1, round(start))
    max_i = max(start_i, round(maximum))
    if not levels:
        return start_i
    if rehold_due(levels, max_reholds):
        return levels[-1].users
    b = bracket_of(levels)
    if b.first_fail is None:
        top = max(lv.users for lv in levels)
        if top >= max_i:
            return None  # held everything up to the cap: the ceiling is above the search range
        return min(max_i, max(top + 1, math.floor(top * step_factor)))
    if b.last_pass is None:
        lower = math.floor(b.first_fail / step_factor)
        if lower < 1 or lower >= b.first_fail:
            return None  # even one user fails
        return lower
    if b.first_fail - b.last_pass <= 1 or (b.width or 0) <= resolution:
        return None
    mid = (b.last_pass + b.first_fail) // 2
    return mid if b.last_pass < mid < b.first_fail else None
