"""The run's recovery figure: how long the slowest recovery from a fault took.

Read by the recovery-time-objective requirement (and any rule about recovery) from the one
place that knows what the run recorded about its faults. Today that is ``incidents``: a target
outage has recovered when a series window after the target came back held every SLO again
(``recovered_ns``), so its recovery takes from ``down_ns`` to then; a websocket gateway's death
has recovered when every session it cost was subscribed again (``resubscribe_s.max`` after the
loss; at once when it cost none). A fault not recovered before the data end counts apart, with
how long it was seen unrecovered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from surgeproof.scenario.requirements import Recovery


def recovery_of(analysis: Mapping[str, Any]) -> Recovery | None:
    """The recovery figure of an analysis document; None when it records no faults at all
    (a Locust CSV, or an analysis without incidents)."""
    incidents = analysis.get("incidents") or {}
    if "target_outages" not in incidents and "gateway_outages" not in incidents:
        return None
    last_ns = (analysis.get("input") or {}).get("last_ns")
    recovered: list[tuple[float, str]] = []
    unrecovered: list[float | None] = []
    for o in incidents.get("target_outages") or []:
        what = f"target down at t={float(o.get('t_down_s') or 0.0):,.0f} s"
        down, back = o.get("down_ns"), o.get("recovered_ns")
        if isinstance(down, int) and isinstance(back, int):
            recovered.append(((back - down) / 1e9, what))
        else:
            unrecovered.append(
                (last_ns - down) / 1e9 if isinstance(down, int) and last_ns else None
            )
    for o in incidents.get("gateway_outages") or []:
        what = f"gateway {o.get('gateway')} down at t={float(o.get('t_down_s') or 0.0):,.0f} s"
        if o.get("never_back"):
            down = o.get("down_ns")
            unrecovered.append(
                (last_ns - down) / 1e9 if isinstance(down, int) and last_ns else None
            )
        else:
            worst = (o.get("resubscribe_s") or {}).get("max")
            recovered.append((float(worst) if worst is not None else 0.0, what))
    worst_s, worst = max(recovered, default=(None, ""))
    seen = [s for s in unrecovered if s is not None]
    return Recovery(
        faults=len(recovered) + len(unrecovered),
        worst_s=worst_s,
        worst=worst,
        unrecovered=len(unrecovered),
        unrecovered_for_s=max(seen) if seen else None,
    )


def _seen_for(down_ns: Any, last_ns: Any) -> float | None:
    """Seconds from a fault to the end of the data: how long it was seen unrecovered."""
    if isinstance(down_ns, int) and isinstance(last_ns, int) and last_ns > down_ns:
        return (last_ns - down_ns) / 1e9
    return None
