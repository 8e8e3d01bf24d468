"""A noisy curve reduced to few straight segments, keeping its peak and its steepest rise.

Top-down (Douglas–Peucker-like) knot insertion on the sample grid: start from the ends, the peak
sample and both ends of the largest one-step rise; add the sample farthest from the current
polyline until every sample is within ``tolerance`` or the segment budget is spent. Knots sit on
samples, so the polyline passes exactly through the peak and reproduces the steepest rise.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence


def mandatory_knots(values: Sequence[float]) -> set[int]:
    """Ends, the peak sample, and both ends of the largest one-step rise."""
    n = len(values)
    peak = max(range(n), key=lambda i: values[i])
    rise = max(range(n - 1), key=lambda i: values[i + 1] - values[i])
    return {0, n - 1, peak, rise, rise + 1}


def simplify(values: Sequence[float], tolerance: float, max_segments: int) -> list[int]:
    """Sorted knot indices; every sample within ``tolerance`` (absolute) unless out of budget."""
    if len(values) < 2:
        raise ValueError("need at least two samples")
    knots = mandatory_knots(values)
    while len(knots) - 1 < max_segments:
        worst, err = _worst(values, sorted(knots))
        if err <= tolerance:
            break
        knots.add(worst)
    return sorted(knots)


def polyline(values: Sequence[float], knots: Sequence[int]) -> list[float]:
    """The straight-segment curve through ``values`` at ``knots``, sampled on the grid."""
    out = list(values)
    for a, b in itertools.pairwise(knots):
        for i in range(a, b + 1):
            out[i] = values[a] + (values[b] - values[a]) * (i - a) / (b - a)
    return out


def _worst(values: Sequence[float], knots: list[int]) -> tuple[int, float]:
    line = polyline(values, knots)
    worst = max(range(len(values)), key=lambda i: abs(values[i] - line[i]))
    return worst, abs(values[worst] - line[worst])
