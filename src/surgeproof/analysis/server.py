"""The target's own per-second truth (``server/metrics.jsonl``) beside the client's records.

The embedded exchange counts each request once, in the second it *arrived* (server clock). Its
seconds are laid onto the analysis windows by their midpoint, so a client-side window and the
server's figures for it can be read side by side — and the totals compared: a difference is
requests the generator sent that the target never counted (connection errors, still in flight
at the end) or the reverse.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

#: analysis.json name → server/metrics.jsonl counter (summed over a window's seconds).
COUNTERS: tuple[tuple[str, str], ...] = (
    ("requests", "requests"),
    ("served", "served"),
    ("shed", "shed_503"),
    ("rate_limited", "rate_limited_429"),
    ("blocked", "blocked_418"),
    ("client_errors", "client_errors"),
    ("server_errors", "server_errors"),
)
#: Gauges (the highest value of a window's seconds).
GAUGES = ("ws_connections", "active_sessions")

_NS = 1_000_000_000


def server_series(
    rows: Sequence[dict[str, Any]], t0_ns: int, window_s: float, client_sent: np.ndarray
) -> dict[str, Any] | None:
    """The ``timeseries.server`` object: server columns per analysis window; None without rows."""
    n_win = len(client_sent)
    seconds = [r for r in rows if isinstance(r.get("t"), int | float)]
    if not seconds or n_win == 0:
        return None
    wns = round(window_s * 1e9)
    cols: dict[str, np.ndarray] = {k: np.zeros(n_win, dtype=np.int64) for k, _ in COUNTERS}
    gauges = {k: np.full(n_win, np.nan) for k in (*GAUGES, "utilisation_max")}
    seen = np.zeros(n_win, dtype=bool)
    outside = 0
    for r in seconds:
        w = (int(r["t"]) * _NS + _NS // 2 - t0_ns) // wns
        if not 0 <= w < n_win:
            outside += 1
            continue
        seen[w] = True
        for key, field in COUNTERS:
            v = r.get(field)
            if isinstance(v, int | float):
                cols[key][w] += int(v)
        for key in GAUGES:
            _raise(gauges[key], w, r.get(key))
        util = r.get("utilisation")
        if isinstance(util, dict):
            values = [float(v) for v in util.values() if isinstance(v, int | float)]
            _raise(gauges["utilisation_max"], w, max(values) if values else None)
        else:
            _raise(gauges["utilisation_max"], w, util)
    out: dict[str, Any] = {
        "alignment": "each server second (arrival clock) in the window holding its midpoint",
        "seconds": len(seconds),
        "seconds_outside_windows": outside,
        "client_sent": [int(v) for v in np.asarray(client_sent).tolist()],
    }
    for key, arr in cols.items():
        out[key] = [int(v) if s else None for v, s in zip(arr.tolist(), seen, strict=True)]
    for key, arr in gauges.items():
        out[key] = [float(v) if math.isfinite(v) else None for v in arr.tolist()]
    return out


def server_vs_client(rows: Sequence[dict[str, Any]], client_sent: int) -> dict[str, Any]:
    """Totals counted by each side over the whole run, and their difference."""
    seconds = [r for r in rows if isinstance(r.get("t"), int | float)]
    base: dict[str, Any] = {
        "available": bool(seconds),
        "client_requests": client_sent,
        "client_definition": "HTTP requests and websocket connects the generator sent",
        "server_definition": "requests the target counted on arrival (server/metrics.jsonl)",
    }
    if not seconds:
        return {
            **base,
            "server_requests": None,
            "difference": None,
            "difference_ratio": None,
            "seconds": 0,
            "not_final_seconds": 0,
            "note": "no server/metrics.jsonl: a real target, or its metrics were not recorded",
        }
    server = sum(int(r["requests"]) for r in seconds if isinstance(r.get("requests"), int))
    not_final = sum(1 for r in seconds if r.get("final") is False)
    diff = client_sent - server
    note = (
        f"the generator sent {client_sent:,} requests, the target counted {server:,} "
        f"({'+' if diff >= 0 else ''}{diff:,} on the client side)"
    )
    if not_final:
        note += f"; {not_final} server seconds were not final when recorded (may undercount)"
    return {
        **base,
        "server_requests": server,
        "difference": diff,
        "difference_ratio": diff / client_sent if client_sent else None,
        "seconds": len(seconds),
        "not_final_seconds": not_final,
        "note": note,
    }


def _raise(col: np.ndarray, w: int, value: Any) -> None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        col[w] = value if not np.isfinite(col[w]) else max(col[w], value)
