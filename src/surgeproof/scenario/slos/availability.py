"""Availability (``availability: 99.9% within 2s``): at least a share of seconds in which the group
answered within a latency.

A second (a whole second of the window by intended send time) is *up* for a group when every
call the group made in it was answered within the latency, without a capacity error (the causes
``error_ratio`` counts: 429, 418, 5xx, timeouts, connection errors, backlogged calls); a second
in which the group made no call proves nothing and is not counted. The value is up seconds over
counted seconds. Where no per-second breakdown exists (a series window, one second of a level, a
Locust CSV step) the stretch counts as one such second.

An objective A is judged on at least ``tail_samples / (1 - A)`` seconds (99%: 100 s, 99.9%:
1,000 s), so that one bad second alone cannot break it; with fewer, more down seconds than
``1 - A`` times that minimum break it anyway, whatever the missing seconds would show.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import Slo
from surgeproof.scenario.slos.kind import GroupFigures, SloKind

_FORM = re.compile(r"^\s*(\S+)\s+within\s+(\S+)\s*$")


class Availability(SloKind):
    name = "availability"
    metrics = ("availability",)
    order = 20
    unit = "share"
    example = "{group: orders, availability: 99.9% within 2s}"
    options = ("within_ms",)
    upper_limit = False
    gauge = (
        "surgeproof_slo_availability",
        "Availability SLO objectives of the scenario (0-1): the share of seconds in which the "
        "group answered every call within within_seconds.",
        ("group", "within_seconds"),
    )

    def parse(self, group: str, metric: str, f: Field) -> Slo:
        m = _FORM.match(f.value) if isinstance(f.value, str) else None
        if m is None:
            raise f.expected("a share of seconds and a latency, like '99.9% within 2s'")
        share = Field(f.source, f.path, m.group(1)).ratio()
        within = Field(f.source, f.path, m.group(2)).latency_ms()
        return Slo(group, metric, share, (("within_ms", within),))

    def text(self, slo: Slo) -> str:
        return f"{slo.group} availability >= {slo.limit:g} within {_within(slo):g} ms"

    def value(self, slo: Slo, stats: GroupFigures) -> float | None:
        seconds = stats.seconds
        if seconds is not None:
            return seconds.up(_within(slo)) / seconds.judged if seconds.judged else None
        if not stats.count:
            return None
        slowest = stats.latency_ms.get("max")
        up = stats.error_ratio == 0 and slowest is not None and slowest <= _within(slo)
        return 1.0 if up else 0.0

    def series(self, slo: Slo, columns: Mapping[str, Any]) -> Any:
        slowest = columns.get("max_ms")
        if slowest is None:
            return None
        count, errors = np.asarray(columns["count"]), np.asarray(columns["error_ratio"])
        with np.errstate(invalid="ignore"):
            up = (errors == 0) & (np.asarray(slowest) <= _within(slo))
        return np.where(count > 0, up.astype(float), np.nan)

    def samples(self, slo: Slo, stats: GroupFigures | None) -> int:
        if stats is None:
            return 0
        if stats.seconds is not None:
            return stats.seconds.judged
        return 1 if stats.count else 0

    def samples_needed(self, slo: Slo, min_samples: int, tail_samples: int) -> int:
        allowed = 1.0 - slo.limit
        if allowed <= 0:
            return min_samples
        return max(min_samples, math.ceil(tail_samples / allowed - 1e-9))

    def certain_breach(self, slo: Slo, stats: GroupFigures, need: int) -> bool:
        value = self.value(slo, stats)
        if value is None:
            return False
        down = self.samples(slo, stats) * (1.0 - value)
        return down > (1.0 - slo.limit) * need + 1e-9

    def second_bounds(self, slo: Slo) -> tuple[float, ...]:
        return (_within(slo),)

    def describe(self, group: str, slo: Slo, value: float) -> str:
        return (
            f"{group} availability {value:.2%} < {slo.limit:.2%} (seconds answered within "
            f"{_within(slo):g} ms)"
        )

    def format_value(self, slo: Slo, value: float) -> str:
        return f"{value:.4g} ({value:.2%} of seconds)"

    def format_limit(self, slo: Slo) -> str:
        return (
            f">= {slo.limit:.4g} ({slo.limit:.2%}) of seconds answered within {_within(slo):g} ms"
        )

    def gauge_sample(self, slo: Slo) -> tuple[list[str], float]:
        return [slo.group, f"{_within(slo) / 1000.0:g}"], slo.limit

    def latency_bound_ms(self, slo: Slo) -> float | None:
        return _within(slo)


def _within(slo: Slo) -> float:
    within = slo.option("within_ms")
    if within is None:
        raise ValueError(f"availability SLO on {slo.group} without 'within_ms'")
    return within


KIND = Availability()
