"""What the live dashboard's page gets every second: the live merge's seconds, gauges and events.

Everything comes from the exporter's ``LiveTally`` (one merge for Prometheus and the page); the
step search's bracket is the search's own (``step_search.bracket_of``), the final verdict the
analysis's sentence, handed over once the report exists. No secret is in it: the target is
named by its host and port only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from surgeproof.load.live_metrics import LiveTally
from surgeproof.scenario.programs.step_search import JudgedLevel, bracket_of

NS = 1_000_000_000
#: Events drawn as marks on the time charts and listed under them.
MARK_TYPES = frozenset(
    {
        "worker_joined",
        "worker_lost",
        "rebalanced",
        "target_down",
        "target_up",
        "gateway_down",
        "gateway_up",
        "stall",
        "abort",
        "rehold_limit",
        "mark",
    }
)


@dataclass
class RunFacts:
    """What the page says about the run besides its numbers (set by the conductor)."""

    run_id: str = ""
    scenario: str = ""
    user_scale: float = 1.0
    unit: str = "users"
    target: str = ""
    dashboard_linger_s: float = 0.0
    #: The analysis's answer once the run is over: {"status", "lines", "report"}.
    final: dict[str, Any] | None = None
    #: Set while the analysis and the report are being written.
    finishing: bool = False


def target_label(url: str) -> str:
    """``http://127.0.0.1:4321``: scheme, host and port only (no credentials, no path)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}" if host else ""


def dashboard_state(
    tally: LiveTally, facts: RunFacts, after: int | None, now_ns: int | None = None
) -> dict[str, Any]:
    """The page's update: closed seconds after ``after`` (seconds from t0), the open ones, and
    the run's gauges, events, levels and verdict as they are now."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    series = tally.series
    series.settle(now_ns)
    t0_s = series.t0_s
    rows = series.rows_after(after)
    return {
        "run": {
            "id": facts.run_id,
            "scenario": facts.scenario,
            "model": tally.info.get("model", ""),
            "status": "analysing" if facts.finishing else tally.status,
            "target": facts.target,
            "user_scale": facts.user_scale,
            "unit": facts.unit,
            "started": t0_s is not None,
            "now": None if t0_s is None else round(now_ns / NS - t0_s, 1),
            "settle_s": series.settle_s,
            "linger_s": facts.dashboard_linger_s,
        },
        "slos": [
            {"group": s.group, "metric": s.metric, "limit": s.limit, "text": str(s)}
            for s in tally.slos
        ],
        "groups": list(tally.groups),
        "rows": rows,
        "closed_through": None if t0_s is None else (series.closed_through or t0_s) - t0_s,
        "open": series.provisional(),
        "late": series.late,
        "phase": None if tally.phase is None else {"name": tally.phase[0], "index": tally.phase[1]},
        "phases": [
            {"name": name, "index": index, "t": _rel(t, t0_s)}
            for (name, index), t in tally.phase_starts.items()
        ],
        "workers": _workers(tally),
        "marks": [_mark(e, t0_s) for e in tally.log if e.get("type") in MARK_TYPES],
        "levels": _levels(tally, t0_s, facts.user_scale),
        "final": facts.final,
    }


def _rel(t_s: float | None, t0_s: int | None) -> float | None:
    if t_s is None or t0_s is None:
        return None
    return round(t_s - t0_s, 3)


def _workers(tally: LiveTally) -> list[dict[str, Any]]:
    sources = sorted(set(tally.records) | set(tally.latest) | tally.alive | tally.lost)
    out = []
    for source in sources:
        s = tally.latest.get(source) or {}
        out.append(
            {
                "source": source,
                "state": "lost" if source in tally.lost else "alive",
                "users": s.get("active_users"),
                "cpu": s.get("cpu_percent"),
                "records": tally.records.get(source, 0),
            }
        )
    return out


def _mark(event: dict[str, Any], t0_s: int | None) -> dict[str, Any]:
    kind = str(event.get("type"))
    return {
        "t": _rel(int(event.get("t_ns") or 0) / NS, t0_s),
        "type": kind,
        "text": mark_text(event),
    }


def mark_text(event: dict[str, Any]) -> str:
    """A run event in a few words: ``worker worker-ab12 lost (process exit)``."""
    kind = str(event.get("type"))
    source = event.get("source")
    if kind == "worker_joined":
        return f"worker {source} joined"
    if kind == "worker_lost":
        how = f" ({event['detected_by']})" if event.get("detected_by") else ""
        return f"worker {source} lost{how}"
    if kind == "rebalanced":
        return "lost users running again on the other workers"
    if kind == "target_down":
        cause = event.get("cause") or "went away"
        signal = f" {event['signal']}" if event.get("signal") else ""
        return f"target down ({cause}{signal})"
    if kind == "target_up":
        down = event.get("down_s")
        return "target back" + (f" after {float(down):.1f} s" if down is not None else "")
    if kind == "gateway_down":
        return f"websocket gateway {event.get('gateway')} down ({event.get('cause') or 'died'})"
    if kind == "gateway_up":
        return f"websocket gateway {event.get('gateway')} back"
    if kind == "stall":
        return "target stalled (injected)"
    if kind == "abort":
        return f"aborted: {event.get('rule') or 'abort rule'}"
    if kind == "mark":
        return f"mark: {event.get('text')}"
    if kind == "rehold_limit":
        return f"{event.get('label')}: cut short on every hold; the search stops climbing"
    return kind


def _levels(tally: LiveTally, t0_s: int | None, user_scale: float) -> list[dict[str, Any]]:
    """Steady windows as they completed; for a step search each one's verdict, why, and the
    bracket after it (the search's own rule)."""
    judged: list[JudgedLevel] = []
    out = []
    for e in tally.log:
        if e.get("type") != "level":
            continue
        users = float(e.get("target_users") or 0)
        verdict = e.get("verdict")
        entry: dict[str, Any] = {
            "label": str(e.get("label") or ""),
            "users": users,
            "real_users": users / user_scale if user_scale else None,
            "start": _rel(int(e.get("start_ns") or 0) / NS, t0_s),
            "end": _rel(int(e.get("end_ns") or 0) / NS, t0_s),
            "verdict": verdict,
            "reasons": [str(r) for r in e.get("reasons") or []],
        }
        if verdict is not None:
            judged.append(JudgedLevel(round(users), str(verdict), bool(e.get("short_of"))))
            b = bracket_of(judged)
            entry["bracket"] = {"last_pass": b.last_pass, "first_fail": b.first_fail}
        out.append(entry)
    return out
