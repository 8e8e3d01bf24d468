"""Error ratio (``error_ratio``): at most a share of calls failing for capacity.

The value is the window's ``error_ratio``: rate-limited, blocked, server errors, timeouts,
connection errors and backlogged calls over every counted call (client errors are refusals on
the request's merits and do not count). A limit L is judged on at least ``tail_samples / L``
calls (1%: 100), so that one error alone cannot break it; with fewer calls, more errors than L
times that minimum break it anyway: a user who cannot log in at all fails at any volume.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import Slo
from surgeproof.scenario.slos.kind import GroupFigures, SloKind


class ErrorRatio(SloKind):
    name = "error_ratio"
    metrics = ("error_ratio",)
    order = 10
    unit = "ratio"
    example = "{group: '*', error_ratio: 1%}"
    gauge = (
        "surgeproof_slo_error_ratio",
        "Error-ratio SLO limits of the scenario (0-1).",
        ("group",),
    )

    def parse(self, group: str, metric: str, f: Field) -> Slo:
        return Slo(group, metric, f.ratio())

    def text(self, slo: Slo) -> str:
        return f"{slo.group} {slo.metric} <= {slo.limit:g}"

    def value(self, slo: Slo, stats: GroupFigures) -> float | None:
        return stats.error_ratio

    def series(self, slo: Slo, columns: Mapping[str, Any]) -> Any:
        return columns.get("error_ratio")

    def samples(self, slo: Slo, stats: GroupFigures | None) -> int:
        return 0 if stats is None else stats.count

    def samples_needed(self, slo: Slo, min_samples: int, tail_samples: int) -> int:
        if slo.limit <= 0:
            return min_samples
        return max(min_samples, math.ceil(tail_samples / slo.limit - 1e-9))

    def certain_breach(self, slo: Slo, stats: GroupFigures, need: int) -> bool:
        n = self.samples(slo, stats)
        if stats.error_ratio is None or n == 0:
            return False
        return stats.error_ratio * n > slo.limit * need + 1e-9

    def describe(self, group: str, slo: Slo, value: float) -> str:
        return f"{group} {slo.metric} {value:.2%} > {slo.limit:.2%}"

    def format_value(self, slo: Slo, value: float) -> str:
        return f"{value:.4g} ({value:.2%})"

    def format_limit(self, slo: Slo) -> str:
        return f"<= {slo.limit:.4g} ({slo.limit:.2%})"

    def gauge_sample(self, slo: Slo) -> tuple[list[str], float]:
        return [slo.group], slo.limit


KIND = ErrorRatio()
