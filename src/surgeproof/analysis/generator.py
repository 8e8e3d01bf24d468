"""Whether the load generator kept its own schedule: late or missed sends, and its CPU.

A level where the generator fell behind measured the generator, not the target: it is
inconclusive, never a pass or a fail (BRIEF §6, generator saturation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from surgeproof.analysis.percentiles import exact_percentiles
from surgeproof.analysis.samples import Samples
from surgeproof.rundir.schema import Outcome


@dataclass(frozen=True)
class GeneratorTolerance:
    """How far behind its schedule the generator may fall before a level proves nothing."""

    late_ms: float = 100.0  # a send later than this after its intended time is late
    late_ratio: float = 0.01  # more than this share of late or missed sends: generator-bound
    cpu_percent: float = 90.0  # a source's mean CPU at or above this: generator-bound


@dataclass
class GeneratorHealth:
    """Send lag and generator CPU over one window."""

    intended: int
    late: int
    missed: int
    send_lag_ms: dict[str, float | None]
    cpu_max_percent: float | None
    cpu_mean_percent: float | None
    #: Mean CPU per source over the window.
    cpu_by_source: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    @property
    def late_ratio(self) -> float | None:
        return (self.late + self.missed) / self.intended if self.intended else None

    @property
    def missed_ratio(self) -> float | None:
        return self.missed / self.intended if self.intended else None

    @property
    def bound(self) -> bool:
        """The generator was the bottleneck in this window."""
        return bool(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "intended": self.intended,
            "late": self.late,
            "missed": self.missed,
            "late_ratio": self.late_ratio,
            "missed_ratio": self.missed_ratio,
            "send_lag_ms": dict(self.send_lag_ms),
            "cpu_max_percent": self.cpu_max_percent,
            "cpu_mean_percent": self.cpu_mean_percent,
            "cpu_by_source": dict(self.cpu_by_source),
            "bound": self.bound,
            "reasons": list(self.reasons),
        }


def generator_health(
    s: Samples,
    timeline: Sequence[dict[str, Any]],
    start_ns: int,
    end_ns: int,
    tol: GeneratorTolerance,
) -> GeneratorHealth:
    """Send lag of the window's records and CPU of the timeline samples inside the window."""
    sent = s.sent_ns > 0
    lag_ms = (s.sent_ns[sent] - s.intended_ns[sent]) / 1e6
    return health_of(
        intended=int(np.count_nonzero(s.outcome != Outcome.CANCELLED)),
        late=int(np.count_nonzero(lag_ms > tol.late_ms)),
        missed=int(np.count_nonzero(s.outcome == Outcome.MISSED)),
        send_lag_ms=exact_percentiles(lag_ms),
        timeline=timeline,
        start_ns=start_ns,
        end_ns=end_ns,
        tol=tol,
    )


def health_of(
    *,
    intended: int,
    late: int,
    missed: int,
    send_lag_ms: dict[str, float | None],
    timeline: Sequence[dict[str, Any]],
    start_ns: int,
    end_ns: int,
    tol: GeneratorTolerance,
) -> GeneratorHealth:
    """Generator health from a window's send counts and lag percentiles, plus the timeline's CPU."""
    per_source: dict[str, list[float]] = {}
    for row in timeline:
        t = row.get("t_ns")
        cpu = row.get("cpu_percent")
        if isinstance(t, int) and start_ns <= t < end_ns and isinstance(cpu, int | float):
            per_source.setdefault(str(row.get("source", "local")), []).append(float(cpu))
    cpu_mean = {src: float(np.mean(v)) for src, v in per_source.items()}
    all_cpu = [c for v in per_source.values() for c in v]
    health = GeneratorHealth(
        intended=intended,
        late=late,
        missed=missed,
        send_lag_ms=send_lag_ms,
        cpu_max_percent=max(all_cpu) if all_cpu else None,
        cpu_mean_percent=float(np.mean(all_cpu)) if all_cpu else None,
        cpu_by_source=cpu_mean,
    )
    ratio = health.late_ratio
    if ratio is not None and ratio > tol.late_ratio:
        health.reasons.append(
            f"generator-bound: {ratio:.1%} of sends late by > {tol.late_ms:g} ms or missed "
            f"({late} late, {missed} missed; tolerance {tol.late_ratio:.1%})"
        )
    for src, mean in sorted(cpu_mean.items()):
        if mean >= tol.cpu_percent:
            health.reasons.append(
                f"generator CPU saturated: {src} averaged {mean:.0f}% (>= {tol.cpu_percent:g}%)"
            )
    return health
