"""Websocket gateway outages: one gateway process of the exchange died, its sessions were lost
and came back on the others or on its replacement (the partial fault of a surge night).

A gateway's sessions are not named in the records (a client cannot tell which gateway process
the kernel gave its socket to), so the sessions lost to a death are those lost from its
``gateway_down`` for ``LOSS_WINDOW_S`` (or until the next gateway death): on loopback a killed
process's sockets close at once and every one of its watchers notices within milliseconds. A
death the run did not cause (``cause: died``) is stamped when the exchange's supervisor noticed
it, which on a busy machine comes after its watchers did: its window opens ``DIED_LEAD_S``
earlier (never into the previous death's window).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from surgeproof.analysis.amplification import Amplification
from surgeproof.analysis.percentiles import exact_percentiles

#: Seconds after a gateway death whose websocket losses are counted as its sessions.
LOSS_WINDOW_S = 3.0
#: Seconds before a ``died`` death's stamp whose losses are its own too (the supervisor's lag).
DIED_LEAD_S = 1.0


def gateway_outages(events: Sequence[dict[str, Any]], amp: Amplification) -> list[dict[str, Any]]:
    """The ``incidents.gateway_outages`` list from ``gateway_down``/``gateway_up`` events."""
    downs = sorted(_typed(events, "gateway_down"), key=lambda e: e["t_ns"])
    ups = sorted(_typed(events, "gateway_up"), key=lambda e: e["t_ns"])
    out = []
    for k, down in enumerate(downs):
        gid = down.get("gateway")
        later = [d["t_ns"] for d in downs[k + 1 :] if d.get("gateway") == gid]
        # Its up event: this gateway's first at or after the death, before it died again.
        up = next(
            (
                u
                for u in ups
                if u.get("gateway") == gid
                and u["t_ns"] >= down["t_ns"]
                and (not later or u["t_ns"] <= later[0])
            ),
            None,
        )
        next_any = downs[k + 1]["t_ns"] if k + 1 < len(downs) else None
        prev_any = downs[k - 1]["t_ns"] if k else None
        out.append(_outage(down, up, prev_any, next_any, amp))
    return out


def loss_window(
    down: dict[str, Any], prev_down_ns: int | None, next_down_ns: int | None
) -> tuple[int, int]:
    """[from, until) in ns: the websocket losses counted as this death's sessions."""
    down_ns = int(down["t_ns"])
    start = down_ns - (round(DIED_LEAD_S * 1e9) if down.get("cause") == "died" else 0)
    if prev_down_ns is not None:  # the previous death's losses are its own
        start = max(start, min(down_ns, int(prev_down_ns) + round(LOSS_WINDOW_S * 1e9)))
    until = down_ns + round(LOSS_WINDOW_S * 1e9)
    if next_down_ns is not None:
        until = min(until, int(next_down_ns))  # the next death's losses are its own
    return start, until


def _outage(
    down: dict[str, Any],
    up: dict[str, Any] | None,
    prev_down_ns: int | None,
    next_down_ns: int | None,
    amp: Amplification,
) -> dict[str, Any]:
    down_ns = int(down["t_ns"])
    up_ns = int(up["t_ns"]) if up is not None else None
    start, until = loss_window(down, prev_down_ns, next_down_ns)
    r = amp.returns
    mine = (r.lost_ns >= start) & (r.lost_ns < until)
    back_after = r.back_after_s[mine]
    came_back = back_after[np.isfinite(back_after)]
    lost, back = int(np.count_nonzero(mine)), len(came_back)
    # Reconnect attempts from the window of the death to the one in which the last of its
    # sessions was back (to the end of the data while one never was).
    wns = round(amp.window_s * 1e9)
    lo = (start - amp.t0_ns) // wns
    if lost and back == lost:
        last_back = int((r.lost_ns[mine] + back_after * 1e9).max())
        hi = (last_back - amp.t0_ns) // wns + 1
    elif lost:
        hi = len(amp)
    else:
        hi = (until - 1 - amp.t0_ns) // wns + 1
    given = up.get("down_s") if up is not None else None
    if isinstance(given, int | float):
        down_s: float | None = float(given)
    else:
        down_s = (up_ns - down_ns) / 1e9 if up_ns is not None else None
    return {
        "gateway": down.get("gateway"),
        "down_ns": down_ns,
        "up_ns": up_ns,
        "t_down_s": (down_ns - amp.t0_ns) / 1e9,
        "t_up_s": (up_ns - amp.t0_ns) / 1e9 if up_ns is not None else None,
        "down_s": down_s,
        "cause": _cause(down),
        "pids": {"down": down.get("pid"), "up": up.get("pid") if up is not None else None},
        "sessions_lost": lost,
        "sessions_back": back,
        "never_back": lost - back,
        "resubscribe_s": exact_percentiles(came_back) if back else None,
        "reconnect_attempts": amp.span(lo, hi)["reconnect_attempts"],
    }


def _cause(down: dict[str, Any]) -> str:
    """``injected SIGKILL``, ``died (killed by SIGKILL)``, or the bare cause."""
    cause = str(down.get("cause") or "unknown")
    if down.get("signal"):
        return f"{cause} {down['signal']}"
    if down.get("last_exit"):
        return f"{cause} ({down['last_exit']})"
    return cause


def gateway_outage_sentence(o: dict[str, Any]) -> str:
    """``websocket gateway 0 killed at t=20 s (injected): serving again 0.8 s later; 1,240
    sessions lost, 1,238 back (median 2.3 s, p95 5.1 s), 3,100 reconnect attempts``."""
    cause = str(o.get("cause") or "unknown")
    how = "killed" if cause.startswith("injected") else "died"
    why = "injected" if cause.startswith("injected") else cause.removeprefix("died").strip(" ()")
    head = f"websocket gateway {o.get('gateway')} {how} at t={float(o['t_down_s']):.0f} s"
    head += f" ({why})" if why else ""
    if o.get("down_s") is None:
        head += ": not serving again before the run ended"
    else:
        head += f": serving again {float(o['down_s']):.1f} s later"
    lost, back = int(o.get("sessions_lost") or 0), int(o.get("sessions_back") or 0)
    sessions = f"{lost:,} session{'s' if lost != 1 else ''} lost"
    if lost:
        sessions += f", {back:,} back"
        times = o.get("resubscribe_s") or {}
        if back and times.get("p50") is not None:
            sessions += f" (median {float(times['p50']):.1f} s, p95 {float(times['p95']):.1f} s)"
    attempts = int(o.get("reconnect_attempts") or 0)
    return f"{head}; {sessions}, {attempts:,} reconnect attempt{'s' if attempts != 1 else ''}"


def _typed(events: Sequence[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e.get("type") == kind and isinstance(e.get("t_ns"), int)]
