"""A value read from a YAML document, with the field path that error messages name."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from surgeproof.scenario import units
from surgeproof.scenario.bounds import MAX_DURATION_S, MAX_LATENCY_MS, MAX_RATE
from surgeproof.scenario.errors import ScenarioError


@dataclass(frozen=True)
class Field:
    """One node of a parsed document: its value, its path (``timeline[2].mix``) and its file."""

    source: str
    path: str
    value: Any

    def error(self, message: str) -> ScenarioError:
        return ScenarioError(self.source, self.path, message)

    def expected(self, what: str) -> ScenarioError:
        return ScenarioError.expected(self.source, self.path, what, self.value)

    def child(self, key: str) -> Field:
        path = f"{self.path}.{key}" if self.path else key
        return Field(self.source, path, self.value[key])

    def fields(
        self, allowed: Iterable[str], required: Iterable[str] = (), noun: str = "key"
    ) -> dict[str, Field]:
        """The mapping's entries; unknown keys (with a suggestion) and missing ones refused."""
        if not isinstance(self.value, dict):
            raise self.expected("a mapping")
        allowed = tuple(allowed)
        for key in self.value:
            if not isinstance(key, str):
                raise self.error(f"expected text keys, got key {key!r}")
            if key not in allowed:
                close = difflib.get_close_matches(key[:100], allowed, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(allowed)}"
                shown = key if len(key) <= 40 else key[:37] + "..."
                where = Field(self.source, f"{self.path}.{shown}" if self.path else shown, None)
                raise where.error(f"unknown {noun}; {hint}")
        for key in required:
            if key not in self.value:
                path = f"{self.path}.{key}" if self.path else key
                raise ScenarioError(self.source, path, "required, missing")
        return {key: self.child(key) for key in self.value}

    def items(self) -> list[Field]:
        """The list's entries, as ``path[i]``."""
        if not isinstance(self.value, list):
            raise self.expected("a list")
        return [Field(self.source, f"{self.path}[{i}]", v) for i, v in enumerate(self.value)]

    def text(self) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            raise self.expected("text")
        return self.value.strip()

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.expected("true or false")
        return self.value

    def number(
        self,
        *,
        minimum: float | None = None,
        positive: bool = False,
        maximum: float | None = None,
    ) -> float:
        """A finite number, optionally ``>= minimum`` or ``> 0``, and ``<= maximum``."""
        v = self.value
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.expected("a number")
        try:
            number = float(v)
        except OverflowError:  # an integer beyond any float
            number = float("inf")
        return self._bounded(number, minimum, positive, "a number", maximum)

    def integer(self, *, minimum: int | None = None, maximum: int | None = None) -> int:
        v = self.value
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.expected("a whole number")
        if minimum is not None and v < minimum:
            raise self.expected(f"a whole number >= {minimum}")
        if maximum is not None and v > maximum:
            raise self.expected(f"a whole number <= {maximum}")
        return v

    def duration(self, *, positive: bool = True, maximum: float = MAX_DURATION_S) -> float:
        """Seconds, from ``90s``, ``5m``, ``1h30m`` or plain seconds; at most ``maximum``."""
        what = "a duration like 90s, 5m or 1h30m"
        value = self._parsed(units.parse_duration, what)
        return self._bounded(value, None, positive, what, maximum, units.format_duration)

    def latency_ms(self) -> float:
        what = "a latency like 800ms or 1.5s"
        value = self._parsed(units.parse_latency_ms, what)
        return self._bounded(value, None, True, what, MAX_LATENCY_MS, lambda v: f"{v:g} ms")

    def rate(self) -> float:
        what = "a rate like 500/s or 30000/min"
        value = self._parsed(units.parse_rate, what)
        return self._bounded(value, None, True, what, MAX_RATE, lambda v: f"{v:g}/s")

    def ratio(self) -> float:
        """A ratio in [0, 1], from ``0.01`` or ``1%``."""
        v = self._parsed(units.parse_ratio, "a ratio like 0.01 or 1%")
        if not 0.0 <= v <= 1.0:
            raise self.expected("a ratio between 0 and 1")
        return v

    def _parsed(self, parse: Callable[[Any], float], what: str) -> float:
        if not isinstance(self.value, str | int | float) or isinstance(self.value, bool):
            raise self.expected(what)
        try:
            return parse(self.value)
        except ValueError:
            raise self.expected(what) from None

    def _bounded(
        self,
        v: float,
        minimum: float | None,
        positive: bool,
        what: str,
        maximum: float | None = None,
        show: Callable[[float], str] = lambda v: f"{v:g}",
    ) -> float:
        if v != v or v in (float("inf"), float("-inf")):
            raise self.expected(f"{what} (finite)")
        if positive and v <= 0:
            raise self.expected(f"{what} greater than 0")
        if minimum is not None and v < minimum:
            raise self.expected(f"{what} >= {minimum:g}")
        if maximum is not None and v > maximum:
            raise self.expected(f"{what} of at most {show(maximum)}")
        return v
