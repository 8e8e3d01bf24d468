"""The incident view: when the SLOs were broken, how long recovery took once load fell, and the
order submissions that failed meanwhile (what a compensation process has to look up)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from surgeproof.analysis.causes import CAUSES
from surgeproof.analysis.timeseries import Series
from surgeproof.rundir.schema import Outcome

#: Offered load counts as having fallen once it is this much below the breach's peak.
LOAD_FALL = 0.05


def order_counts(tally: np.ndarray) -> dict[str, Any]:
    """Order submissions from their outcome tally (16 codes): failed = any but ok/client_error."""
    tally = np.asarray(tally, dtype=np.int64)
    causes = {name: int(tally[Outcome[name.upper()]]) for name in CAUSES}
    total = int(tally.sum())
    return {
        "submitted": total - causes["missed"],
        "failed": total - int(tally[Outcome.OK]) - causes["client_error"],
        "timed_out": causes["timeout"],
        "by_cause": {k: v for k, v in causes.items() if v},
    }


def incident_view(series: Series, events: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The ``incidents`` object of analysis.json."""
    wns = round(series.window_s * 1e9)
    windows = []
    breach = series.breach
    i = 0
    n = len(breach)
    while i < n:
        if not breach[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and breach[j + 1]:
            j += 1
        windows.append(_incident(series, i, j, wns))
        i = j + 1
    stalls = [
        {"start_ns": e.get("start_ns"), "end_ns": e.get("end_ns")}
        for e in events
        if e.get("type") == "stall"
    ]
    return {
        "breach_windows": windows,
        "total_breach_s": float(sum(w["duration_s"] for w in windows)),
        "orders": order_counts(_orders(series).sum(axis=0)),
        "stalls": stalls,
    }


def _incident(series: Series, i: int, j: int, wns: int) -> dict[str, Any]:
    start = int(series.start_ns[i])
    end = int(series.start_ns[j]) + wns
    offered = series.offered_users
    peak = float(np.nanmax(offered[i : j + 1])) if np.isfinite(offered[i : j + 1]).any() else None
    fell_ns = None
    if peak is not None:
        later = np.flatnonzero(offered[i:] < peak * (1 - LOAD_FALL))
        if len(later):
            fell_ns = int(series.start_ns[i + later[0]])
    recovered = j + 1 < len(series.breach)
    ttr = None
    if recovered and fell_ns is not None:
        ttr = max(0.0, (end - fell_ns) / 1e9)
    return {
        "start_ns": start,
        "end_ns": end,
        "t_start_s": (start - series.t0_ns) / 1e9,
        "duration_s": (end - start) / 1e9,
        "slos_broken": [text for text, mask in series.broken.items() if mask[i : j + 1].any()],
        "peak_offered_users": peak,
        "load_fell_ns": fell_ns,
        "recovered": recovered,
        "time_to_recover_s": ttr,
        "orders": order_counts(_orders(series)[i : j + 1].sum(axis=0)),
    }


def _orders(series: Series) -> np.ndarray:
    if series.orders is None:
        return np.zeros((len(series), 16), dtype=np.int64)
    return series.orders
