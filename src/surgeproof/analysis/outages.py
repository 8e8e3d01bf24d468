"""Target outages: when the embedded exchange went away and came back, and how long after it came
back the SLOs held again (the recovery an SRE is asked about after an incident)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from surgeproof.analysis.timeseries import Series


def target_outages(
    series: Series,
    events: Sequence[dict[str, Any]],
    *,
    window_min_samples: int,
) -> list[dict[str, Any]]:
    """The ``incidents.target_outages`` list from ``target_down``/``target_up`` events.

    Recovery is the start of the first series window at or after ``up_ns`` that held every SLO
    with enough samples to be judged (``window_min_samples``): a window with too few samples
    proves nothing, so recovery waits for one that does.
    """
    downs = sorted(
        (e for e in events if e.get("type") == "target_down" and isinstance(e.get("t_ns"), int)),
        key=lambda e: e["t_ns"],
    )
    ups = sorted(
        (e for e in events if e.get("type") == "target_up" and isinstance(e.get("t_ns"), int)),
        key=lambda e: e["t_ns"],
    )
    out = []
    for k, down in enumerate(downs):
        down_ns = int(down["t_ns"])
        following = downs[k + 1]["t_ns"] if k + 1 < len(downs) else None
        # Its up event: the first at or after it, before the target went down again.
        mine = [
            u for u in ups if down_ns <= u["t_ns"] and (following is None or u["t_ns"] <= following)
        ]
        up = mine[0] if mine else None
        out.append(_outage(series, down, up, following, window_min_samples))
    return out


def _outage(
    series: Series,
    down: dict[str, Any],
    up: dict[str, Any] | None,
    next_down_ns: int | None,
    min_samples: int,
) -> dict[str, Any]:
    down_ns = int(down["t_ns"])
    up_ns = int(up["t_ns"]) if up is not None else None
    wns = round(series.window_s * 1e9)
    starts = series.start_ns
    recovered_ns = None
    if up_ns is not None and len(series):
        held = (~series.breach) & (series.count >= min_samples) & (starts >= up_ns)
        if next_down_ns is not None:
            # Recovery must come before the target goes away again.
            held &= starts + wns <= next_down_ns
        first = np.flatnonzero(held)
        if len(first):
            recovered_ns = int(starts[first[0]])
    # Errors of the calls intended from the window holding the fall until recovery (or the end):
    # calls in flight when the process died fail too, and those until recovery are its toll.
    lo = int(np.searchsorted(starts, down_ns, side="right")) - 1 if len(series) else 0
    hi = int(np.searchsorted(starts, recovered_ns)) if recovered_ns is not None else len(series)
    errors = {
        cause: int(col[max(lo, 0) : hi].sum())
        for cause, col in series.errors.items()
        if col[max(lo, 0) : hi].sum()
    }
    cause = str(down.get("cause") or "unknown")
    if down.get("signal"):
        cause = f"{cause} {down['signal']}"
    given_down_s = up.get("down_s") if up is not None else None
    if isinstance(given_down_s, int | float):
        down_s: float | None = float(given_down_s)
    else:
        down_s = (up_ns - down_ns) / 1e9 if up_ns is not None else None
    return {
        "down_ns": down_ns,
        "up_ns": up_ns,
        "t_down_s": (down_ns - series.t0_ns) / 1e9,
        "t_up_s": (up_ns - series.t0_ns) / 1e9 if up_ns is not None else None,
        "down_s": down_s,
        "cause": cause,
        "pids": {"down": down.get("pid"), "up": up.get("pid") if up is not None else None},
        "recovered_ns": recovered_ns,
        "recovery_s": (recovered_ns - up_ns) / 1e9
        if recovered_ns is not None and up_ns is not None
        else None,
        "errors_by_cause": errors,
    }


def outage_sentence(o: dict[str, Any]) -> str:
    """``target down 4.0 s at t=12 s; recovered 2.1 s after it came back``."""
    at = f"at t={o['t_down_s']:.0f} s"
    if o["up_ns"] is None:
        return f"target down {at} ({o['cause']}) and not back before the run ended"
    head = f"target down {o['down_s']:.1f} s {at} ({o['cause']})"
    if o["recovery_s"] is None:
        return f"{head}; the SLOs did not hold again before the run ended"
    return f"{head}; recovered {o['recovery_s']:.1f} s after it came back"
