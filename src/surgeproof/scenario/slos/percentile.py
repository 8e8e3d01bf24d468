"""Latency percentiles (``p50`` … ``p99.9``, ``max``): at most a latency, from the intended send.

The value is the exact order statistic of the window's latency samples (the analysis computes
every percentile of :data:`PERCENTILES` for every group and window). A percentile p rests on the
calls that have a latency (backlogged calls were never sent) and is judged only on at least
``tail_samples / (1 - p)`` of them (p99: 100, p99.9: 1,000), so that samples lie beyond its rank.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import Slo
from surgeproof.scenario.slos.kind import GroupFigures, SloKind

#: The percentiles every latency summary reports, as (key, percent): the one list of them.
PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p50", 50.0),
    ("p90", 90.0),
    ("p95", 95.0),
    ("p99", 99.0),
    ("p99.9", 99.9),
    ("max", 100.0),
)


class LatencyPercentile(SloKind):
    name = "latency"
    metrics = tuple(key for key, _ in PERCENTILES)
    order = 0
    unit = "ms"
    example = "{group: orders, p99: 800ms}"
    gauge = (
        "surgeproof_slo_latency_seconds",
        "Latency SLO limits of the scenario (draw them beside the quantiles).",
        ("group", "percentile"),
    )

    def parse(self, group: str, metric: str, f: Field) -> Slo:
        return Slo(group, metric, f.latency_ms())

    def text(self, slo: Slo) -> str:
        return f"{slo.group} {slo.metric} <= {slo.limit:g} ms"

    def value(self, slo: Slo, stats: GroupFigures) -> float | None:
        return stats.latency_ms.get(slo.metric)

    def series(self, slo: Slo, columns: Mapping[str, Any]) -> Any:
        return columns.get(f"{slo.metric}_ms")

    def samples(self, slo: Slo, stats: GroupFigures | None) -> int:
        if stats is None:
            return 0
        return stats.count - int(stats.errors.get("backlogged", 0))

    def samples_needed(self, slo: Slo, min_samples: int, tail_samples: int) -> int:
        percent = dict(PERCENTILES)[slo.metric]
        if percent >= 100.0:
            return min_samples
        return max(min_samples, math.ceil(tail_samples * 100.0 / (100.0 - percent) - 1e-9))

    def describe(self, group: str, slo: Slo, value: float) -> str:
        return f"{group} {slo.metric} {value:.1f} ms > {slo.limit:g} ms"

    def format_value(self, slo: Slo, value: float) -> str:
        return f"{value:,.1f} ms"

    def format_limit(self, slo: Slo) -> str:
        return f"<= {slo.limit:,.1f} ms"

    def gauge_sample(self, slo: Slo) -> tuple[list[str], float]:
        return [slo.group, slo.metric], slo.limit / 1000.0

    def latency_bound_ms(self, slo: Slo) -> float | None:
        return slo.limit


KIND = LatencyPercentile()
