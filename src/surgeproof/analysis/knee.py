"""The knee of throughput against load: where added users stop buying throughput."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

#: The knee is where the marginal gain per added user falls below this share of the initial one.
KNEE_GAIN = 0.5


def find_knee(points: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """The ``knee`` object of analysis.json from (users, achieved req/s) points."""
    pts = sorted((float(n), float(x)) for n, x in points if n > 0)
    out: dict[str, Any] = {
        "users": None,
        "throughput_rps": None,
        "method": "marginal gain",
        "extrapolated": False,
        "note": "",
    }
    if len(pts) < 3:
        out["note"] = f"needs at least 3 conclusive levels, has {len(pts)}"
        return out
    initial = pts[0][1] / pts[0][0]
    for (n0, x0), (n1, x1) in itertools.pairwise(pts):
        if n1 <= n0:
            continue
        gain = (x1 - x0) / (n1 - n0)
        if gain < KNEE_GAIN * initial:
            out.update(users=n0, throughput_rps=x0)
            out["note"] = (
                f"between {n0:g} and {n1:g} users each added user bought {gain:.3f} req/s, "
                f"under half the {initial:.3f} req/s per user at the lowest level"
            )
            return out
    out["note"] = "throughput kept rising at the initial rate per user: no knee in the data"
    return out
