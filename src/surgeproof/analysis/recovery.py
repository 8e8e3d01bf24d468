"""Recovery, measured per fault: what a BCP drill is asked to prove.

A fault is a ``fault_start``/``fault_end`` event pair (a team's own command, or an outage, a
gateway crash or a stall the embedded exchange played). For each, from its start ``F``:

* **RTO** — the time until every SLO held again for a whole series window, by the one rule the
  series windows are judged by (``timeseries.breach``: each SLO per group, with at least
  ``window_min_samples`` samples): from ``F`` to the *end* of the first window, after the SLOs
  first broke at or after ``F``, that held them all with enough samples to tell. A fault after
  which the SLOs never broke has no impact (RTO 0); the next fault's start ends the search.
* **First success per endpoint group** — the end of the group's longest silence (no successful
  answer) that began before the recovery, to the millisecond: the first successful call once
  the group came back. A fault that broke nothing leaves only the groups' ordinary gaps.
* **During the fault** (from ``F`` to the recovery's end): each group's calls, error ratio by
  cause and exact latency percentiles; logins refused; websocket sessions lost and how long
  they took to come back (the same pairing as ``amplification``), reconnect attempts.
* **Orders in flight at F** — every order submission sent before ``F`` and answered after it,
  one by one, with what became of it: its answer and, for one the exchange acknowledged, what
  the exchange's own API said of it after the run (``order_status``).

Pure: the run directory's records and files in, figures out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from surgeproof.analysis.amplification import Amplification
from surgeproof.analysis.causes import CAUSES
from surgeproof.analysis.contract.record import ABSENT
from surgeproof.analysis.contract.recovery import FaultRecord
from surgeproof.analysis.contract.recovery import Recovery as RecoveryRecord
from surgeproof.analysis.judging import Judging
from surgeproof.analysis.levels import LevelSpec, judge_levels
from surgeproof.analysis.order_status import OrderCheck
from surgeproof.analysis.percentiles import exact_percentiles
from surgeproof.analysis.samples import Samples
from surgeproof.analysis.scan import RecordScan
from surgeproof.analysis.shards import RecordPass
from surgeproof.analysis.timeseries import Series
from surgeproof.rundir.schema import FLAG_ORDER_SUBMIT, OUTCOME_NAMES, Kind, Outcome
from surgeproof.scenario.model import Slo
from surgeproof.scenario.requirements import FaultSessions, Recovery, SessionsToll

NS = 1_000_000_000
MS = 1_000_000
#: How far after a fault the per-group first success is looked for (bounded memory: 1 ms bins).
SILENCE_HORIZON_S = 3600.0
#: Orders in flight listed one by one per fault (the counts are always whole).
LISTED_ORDERS = 1000

RTO_RULE = (
    "from the fault's start to the end of the first series window, after the SLOs first broke, "
    "in which every SLO held with enough samples (the series windows' rule)"
)


@dataclass(frozen=True)
class Fault:
    """One fault of the run, from its events."""

    index: int
    name: str
    kind: str
    start_ns: int
    end_ns: int | None
    start: dict[str, Any]
    end: dict[str, Any] | None


def faults_from_events(events: Sequence[dict[str, Any]]) -> list[Fault]:
    """The run's faults in start order (a ``fault_end`` pairs with its ``fault`` index)."""
    ends = {
        e.get("fault"): e
        for e in events
        if e.get("type") == "fault_end" and isinstance(e.get("t_ns"), int)
    }
    out = []
    for e in events:
        if e.get("type") != "fault_start" or not isinstance(e.get("t_ns"), int):
            continue
        idx = e.get("fault")
        if not isinstance(idx, int) or isinstance(idx, bool):
            continue
        end = ends.get(idx)
        out.append(
            Fault(
                idx,
                str(e.get("name") or f"fault-{idx + 1}")[:200],
                str(e.get("kind") or "command")[:40],
                int(e["t_ns"]),
                int(end["t_ns"]) if end is not None else None,
                e,
                end,
            )
        )
    return sorted(out, key=lambda f: (f.start_ns, f.index))


#: External marks listed in ``recovery.marks`` (a run accepts at most 1,000).
LISTED_MARKS = 1000
#: The longest mark text kept (the endpoint accepts 200 characters).
MARK_CHARS = 200


def marks_from_events(events: Sequence[dict[str, Any]], t0_ns: int) -> list[dict[str, Any]]:
    """External marks of the run (``mark`` events) on its clock, in time order: ``t_ns``,
    ``t_s`` (from t0) and ``text``."""
    out = []
    for e in events:
        t, text = e.get("t_ns"), e.get("text")
        if e.get("type") != "mark" or not isinstance(t, int) or not isinstance(text, str):
            continue
        out.append({"t_ns": t, "t_s": (t - t0_ns) / NS, "text": text[:MARK_CHARS]})
    return sorted(out, key=lambda m: m["t_ns"])[:LISTED_MARKS]


def measure_rto(
    series: Series, fault_ns: int, until_ns: int | None, min_samples: int
) -> dict[str, Any]:
    """The RTO of a fault starting at ``fault_ns``, judged on the series' windows up to
    ``until_ns`` (the next fault; None: the end of the data)."""
    wns = round(series.window_s * NS)
    starts = series.start_ns
    out: dict[str, Any] = {
        "status": "not_judged",
        "rto_s": None,
        "impact_ns": None,
        "impact_after_s": None,
        "recovered_ns": None,
        "held_until_ns": None,
        "breached_windows": 0,
        "window_s": series.window_s,
        "rule": RTO_RULE,
    }
    if not len(series):
        return out
    lo = max(int(np.searchsorted(starts, fault_ns, side="right")) - 1, 0)
    hi = len(series)
    if until_ns is not None:
        hi = min(hi, int(np.searchsorted(starts + wns, until_ns, side="right")))
    if hi <= lo:
        return out
    judged = series.count[lo:hi] >= min_samples
    breach = series.breach[lo:hi]
    held = judged & ~breach
    broke = np.flatnonzero(breach)
    if not len(broke):
        if held.any():
            out.update(status="no_impact", rto_s=0.0)
        return out
    b = int(broke[0])
    out["impact_ns"] = int(starts[lo + b])
    out["impact_after_s"] = max(0.0, (int(starts[lo + b]) - fault_ns) / NS)
    after = np.flatnonzero(held[b + 1 :])
    if not len(after):
        out["status"] = "not_recovered"
        out["breached_windows"] = int(breach[b:].sum())
        return out
    r = lo + b + 1 + int(after[0])
    out.update(
        status="recovered",
        recovered_ns=int(starts[r]),
        held_until_ns=int(starts[r]) + wns,
        rto_s=(int(starts[r]) + wns - fault_ns) / NS,
        breached_windows=int(series.breach[lo + b : r].sum()),
    )
    return out


def recovery_section(
    faults: Sequence[Fault],
    series: Series,
    scan: RecordScan,
    timeline: Sequence[dict[str, Any]],
    slos: Sequence[Slo],
    judging: Judging,
    amp: Amplification | None,
    journal: Sequence[dict[str, Any]],
    checks: Sequence[OrderCheck],
    *,
    window_min_samples: int,
    data_end_ns: int,
) -> dict[str, Any]:
    """The ``recovery`` object of analysis.json: one record per fault."""
    by_call = _journal_index(journal)
    by_id = {c.order.order_id: c for c in checks}
    records = []
    for k, f in enumerate(faults):
        nxt = faults[k + 1].start_ns if k + 1 < len(faults) else None
        ctx = _Context(series, scan, timeline, slos, judging, amp, by_call, by_id)
        records.append(_fault_record(f, nxt, ctx, window_min_samples, data_end_ns))
    return {
        "faults": records,
        "rule": RTO_RULE,
        "silence_horizon_s": SILENCE_HORIZON_S,
        "listed_orders_at_most": LISTED_ORDERS,
    }


@dataclass(frozen=True)
class _Context:
    """What every fault's record is measured from."""

    series: Series
    scan: RecordScan
    timeline: Sequence[dict[str, Any]]
    slos: Sequence[Slo]
    judging: Judging
    amp: Amplification | None
    by_call: dict[tuple[str, int, int, int], dict[str, Any]]
    by_id: dict[str, OrderCheck]


def _fault_record(
    f: Fault, next_ns: int | None, c: _Context, min_samples: int, data_end_ns: int
) -> dict[str, Any]:
    series, scan = c.series, c.scan
    F = f.start_ns
    wns = round(series.window_s * NS)
    rto = measure_rto(series, F, next_ns, min_samples)
    rto["until_ns"] = next_ns
    horizon = next_ns if next_ns is not None else max(data_end_ns, F + 1)
    if rto["status"] == "recovered":
        span_end = int(rto["held_until_ns"])
    elif rto["status"] == "no_impact":
        span_end = max(f.end_ns or F, F + wns)
    else:
        span_end = horizon
    span_end = max(min(span_end, max(horizon, F + wns)), F + 1)
    groups = _span_groups(scan, c.timeline, c.slos, c.judging, F, span_end, f.name)
    calls = _CallsAround(scan, F, min(horizon, F + int(SILENCE_HORIZON_S * NS)))
    for g, silence in calls.silences(span_end).items():
        groups.setdefault(g, {"calls": 0}).update(silence)
    logins = groups.get("login")
    out: dict[str, Any] = {
        "fault": f.index,
        "name": f.name,
        "kind": f.kind,
        "origin": f.start.get("origin"),
        "start_ns": F,
        "end_ns": f.end_ns,
        "t_start_s": (F - series.t0_ns) / NS,
        "t_end_s": (f.end_ns - series.t0_ns) / NS if f.end_ns is not None else None,
        "action_s": (f.end_ns - F) / NS if f.end_ns is not None else None,
        "action": _action(f),
        "rto": rto,
        "span": {"start_ns": F, "end_ns": span_end, "duration_s": (span_end - F) / NS},
        "groups": groups,
        "logins": _logins(logins),
        "websocket": websocket_toll(c.amp, F, span_end),
        "orders_in_flight": _in_flight(calls.in_flight, scan, c.by_call, c.by_id),
    }
    out["sentence"] = recovery_sentence(out)
    return out


def _action(f: Fault) -> dict[str, Any]:
    """What the fault's own action did (a command's exit and last lines, an outage's length)."""
    s, e = f.start, f.end or {}
    out: dict[str, Any] = {}
    for key in ("argv", "shell", "timeout_s", "seconds", "gateway", "pid"):
        if key in s:
            out[key] = s[key]
    for key in ("exit_status", "signal", "timed_out", "killed_by_run_end", "error",
                "duration_s", "output_tail", "down_s", "injected"):  # fmt: skip
        if key in e:
            out[key] = e[key]
    out["ended"] = f.end is not None
    return out


def _span_groups(
    scan: RecordScan,
    timeline: Sequence[dict[str, Any]],
    slos: Sequence[Slo],
    judging: Judging,
    start: int,
    end: int,
    label: str,
) -> dict[str, dict[str, Any]]:
    """Per group: calls intended in ``[start, end)``, errors by cause, exact latency."""
    # Only the blocks that can touch the span are read (as a step search judges a level).
    near = scan.restricted((start, end))
    [v] = judge_levels(near, [LevelSpec(start, end, None, label)], timeline, slos, judging=judging)
    out = {}
    for g, st in v.groups.items():
        if not st.count:
            continue
        out[g] = {
            "calls": st.count,
            "ok": st.ok,
            "error_ratio": st.error_ratio,
            "errors": {k: n for k, n in st.errors.items() if n},
            "latency_ms": dict(st.latency_ms),
        }
    return out


class _CallsAround(RecordPass):
    """One pass over the records around a fault: successful answers per group (1 ms bins) and
    the order submissions in flight when it began."""

    accumulators = ("ok_bins", "asked_bins", "flying")

    def __init__(self, scan: RecordScan, fault_ns: int, until_ns: int) -> None:
        self.fault_ns = fault_ns
        self.until_ns = max(until_ns, fault_ns + MS)
        self.within = (fault_ns, self.until_ns)
        self.groups = list(scan.groups)
        self.start()
        scan.run(self)
        parts = self.flying
        self.in_flight = (
            {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else None
        )

    def start(self) -> None:
        n_bins = (self.until_ns - self.fault_ns + MS - 1) // MS
        shape = (max(len(self.groups), 1), n_bins)
        self.ok_bins = np.zeros(shape, dtype=bool)
        #: Calls asked for (by intended time; one still out at the fault counts from it).
        self.asked_bins = np.zeros(shape, dtype=bool)
        #: Per chunk: the order submissions in flight at the fault, column by column.
        self.flying: list[dict[str, np.ndarray]] = []

    def merge_tallies(self, other: _CallsAround) -> None:
        self.ok_bins |= other.ok_bins
        self.asked_bins |= other.asked_bins
        self.flying += other.flying

    def feed(self, s: Samples, first: bool) -> None:
        fault_ns = self.fault_ns
        req = s.kind != Kind.WS_GAP
        after = req & (s.intended_ns >= fault_ns) & (s.intended_ns < self.until_ns)
        if after.any():
            self.asked_bins[s.group[after], (s.intended_ns[after] - fault_ns) // MS] = True
        out_at_fault = req & (s.intended_ns < fault_ns) & (s.end_ns >= fault_ns)
        if out_at_fault.any():
            self.asked_bins[s.group[out_at_fault], 0] = True
        ok = req & (s.outcome == Outcome.OK) & (s.end_ns >= fault_ns)
        ok &= s.end_ns < self.until_ns
        if ok.any():
            b = (s.end_ns[ok] - fault_ns) // MS
            self.ok_bins[s.group[ok], b] = True
        flying = (
            ((s.flags & FLAG_ORDER_SUBMIT) != 0)
            & (s.sent_ns > 0)
            & (s.sent_ns < fault_ns)
            & (s.end_ns >= fault_ns)
        )
        if flying.any():
            n = int(flying.sum())
            self.flying.append(
                {
                    "source": np.full(n, s.source, dtype=np.int64),
                    "user": np.asarray(s.user[flying], dtype=np.int64)
                    if s.user is not None
                    else np.zeros(n, np.int64),
                    "attempt": np.asarray(s.attempt[flying], dtype=np.int64)
                    if s.attempt is not None
                    else np.zeros(n, np.int64),
                    "intended_ns": np.array(s.intended_ns[flying]),
                    "sent_ns": np.array(s.sent_ns[flying]),
                    "end_ns": np.array(s.end_ns[flying]),
                    "outcome": np.array(s.outcome[flying]),
                }
            )

    def silences(self, recovered_ns: int) -> dict[str, dict[str, Any]]:
        """Per group asked for after the fault: its longest wait — from the first call asked for
        in a stretch without successful answers to the successful answer that ended it — among
        the stretches begun before ``recovered_ns``; offsets from the fault, seconds, to 1 ms.

        An ordinary gap between calls is no wait (nothing was asked for in it until the call
        its answer ends it with); a dark exchange is one: calls asked for and not answered."""
        limit = max((recovered_ns - self.fault_ns) // MS, 1)
        out = {}
        for gi, g in enumerate(self.groups):
            asked = np.flatnonzero(self.asked_bins[gi])
            if not len(asked):
                continue
            oks = np.flatnonzero(self.ok_bins[gi])
            dark_from = asked[asked > oks[-1]] if len(oks) else asked
            if not len(oks) or (len(dark_from) and int(dark_from[0]) < limit):
                # Asked for before the recovery, and no success after it in the data.
                out[g] = {"first_ok_s": None, "waiting_from_s": int(dark_from[0]) / 1000.0,
                          "longest_wait_s": None}  # fmt: skip
                continue
            # Stretch k ends with the success oks[k]; its first call asked for after the
            # success before it (the first stretch starts at the fault).
            lefts = np.concatenate(([-1], oks[:-1]))
            idx = np.searchsorted(asked, lefts + 1)
            first = asked[np.minimum(idx, len(asked) - 1)]
            valid = (idx < len(asked)) & (first <= oks) & (first < limit)
            if not valid.any():  # asked for only once it had recovered: no wait
                out[g] = {"first_ok_s": int(oks[0]) / 1000.0, "waiting_from_s": None,
                          "longest_wait_s": 0.0}  # fmt: skip
                continue
            waits = np.where(valid, oks - first, -1)
            k = int(np.argmax(waits))
            out[g] = {
                "first_ok_s": int(oks[k]) / 1000.0,
                "waiting_from_s": int(first[k]) / 1000.0,
                "longest_wait_s": int(waits[k]) / 1000.0,
            }
        return out


def _journal_index(journal: Sequence[dict[str, Any]]) -> dict[tuple[str, int, int, int], dict]:
    """Journal lines of order submissions by (source, user, intended_ns, attempt)."""
    out = {}
    for row in journal:
        if row.get("action") not in ("limit_order", "market_buy", "market_sell"):
            continue
        key = (row.get("source"), row.get("user"), row.get("intended_ns"), row.get("attempt"))
        if all(isinstance(v, int | str) for v in key):
            out[key] = row  # type: ignore[index]
    return out


def _fate(outcome: int, check: OrderCheck | None, order_id: str | None) -> str:
    if outcome == Outcome.OK:
        if order_id is None:
            return "acknowledged_without_id"
        if check is None:
            return "unconfirmed"
        return "lost" if check.status == "unknown" else check.status
    if outcome == Outcome.CLIENT_ERROR:
        return "refused"
    return OUTCOME_NAMES.get(int(outcome), "unknown")


def _in_flight(
    flying: dict[str, np.ndarray] | None,
    scan: RecordScan,
    by_call: dict[tuple[str, int, int, int], dict[str, Any]],
    by_id: dict[str, OrderCheck],
) -> dict[str, Any]:
    """The order submissions in flight at the fault's start, one by one, with their fate."""
    if flying is None:
        return {"count": 0, "by_fate": {}, "orders": [], "listed": 0}
    names = _source_names(scan)
    order = np.argsort(flying["sent_ns"], kind="stable")
    rows = []
    fates: Counter[str] = Counter()
    for i in order.tolist():
        source = names.get(int(flying["source"][i]), str(int(flying["source"][i])))
        user, attempt = int(flying["user"][i]), int(flying["attempt"][i])
        intended = int(flying["intended_ns"][i])
        line = by_call.get((source, user, intended, attempt))
        oid = line.get("order_id") if line is not None else None
        check = by_id.get(oid) if isinstance(oid, str) else None
        outcome = int(flying["outcome"][i])
        fate = _fate(outcome, check, oid if isinstance(oid, str) else None)
        fates[fate] += 1
        if len(rows) < LISTED_ORDERS:
            rows.append(
                {
                    "source": source,
                    "user": user,
                    "action": line.get("action") if line is not None else None,
                    "intended_ns": intended,
                    "sent_ns": int(flying["sent_ns"][i]),
                    "end_ns": int(flying["end_ns"][i]),
                    "outcome": OUTCOME_NAMES.get(outcome, "unknown"),
                    "status": line.get("status") if line is not None else None,
                    "order_id": oid if isinstance(oid, str) else None,
                    "fate": fate,
                    "reconciliation": check.to_dict() if check is not None else None,
                }
            )
    return {"count": len(order), "by_fate": dict(fates), "orders": rows, "listed": len(rows)}


def _source_names(scan: RecordScan) -> dict[int, str]:
    opened = getattr(scan, "opened", None)
    if opened is None:
        return {}
    return {i: src.name for i, src in enumerate(opened.sources)}


def _logins(stats: dict[str, Any] | None) -> dict[str, Any]:
    if not stats or not stats.get("calls"):
        return {"attempts": 0, "ok": 0, "refused": 0, "refused_by_cause": {}}
    errors = {k: v for k, v in (stats.get("errors") or {}).items() if k in CAUSES}
    refused = {k: v for k, v in errors.items() if k not in ("missed", "cancelled")}
    return {
        "attempts": stats["calls"],
        "ok": stats.get("ok", 0),
        "refused": sum(refused.values()),
        "refused_by_cause": refused,
    }


def websocket_toll(amp: Amplification | None, start: int, end: int) -> dict[str, Any] | None:
    """Websocket sessions lost from the fault's start to its recovery, and their return."""
    if amp is None:
        return None
    r = amp.returns
    mine = (r.lost_ns >= start) & (r.lost_ns < end)
    back_after = r.back_after_s[mine]
    finite = np.isfinite(back_after)
    came_back = back_after[finite]
    never = r.lost_ns[mine][~finite]
    wns = round(amp.window_s * NS)
    lo = (start - amp.t0_ns) // wns
    hi = (end - 1 - amp.t0_ns) // wns + 1
    return {
        "sessions_lost": int(np.count_nonzero(mine)),
        "sessions_back": len(came_back),
        "never_back": int(np.count_nonzero(mine)) - len(came_back),
        "never_back_since_ns": int(never.min()) if len(never) else None,
        "resubscribe_s": exact_percentiles(came_back) if len(came_back) else None,
        "reconnect_attempts": amp.span(int(lo), int(hi))["reconnect_attempts"],
    }


def recovery_sentence(r: dict[str, Any]) -> str:
    """``fault failover (command) at t=30 s: RTO 12.0 s; first success login 8.1 s, orders
    7.9 s; 3 orders in flight: 2 consistent, 1 timeout``."""
    head = f"fault {r['name']} ({r['kind']}) at t={r['t_start_s']:.0f} s"
    rto = r["rto"]
    status = rto["status"]
    if status == "recovered":
        head += (
            f": RTO {rto['rto_s']:.1f} s (every SLO held again for a whole "
            f"{rto['window_s']:g} s window)"
        )
    elif status == "no_impact":
        head += ": no SLO broke (RTO 0)"
    elif status == "not_recovered":
        head += ": the SLOs did not hold again before " + (
            "the next fault" if rto.get("until_ns") is not None else "the run ended"
        )
    else:
        head += ": too few calls after it to judge the SLOs"
    window = rto["window_s"]
    firsts = [
        f"{g} {v['first_ok_s']:.1f} s"
        for g, v in sorted(r["groups"].items())
        if g != "*" and v.get("first_ok_s") is not None and (v.get("longest_wait_s") or 0) >= window
    ]
    if firsts:
        head += "; first success after waiting a window or more: " + ", ".join(firsts)
    never = [g for g, v in sorted(r["groups"].items()) if g != "*" and v.get("first_ok_s") is None]
    if never:
        head += "; no success after it: " + ", ".join(never)
    o = r["orders_in_flight"]
    if o["count"]:
        fates = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(o["by_fate"].items()))
        head += f"; {o['count']} order{'s' if o['count'] != 1 else ''} in flight: {fates}"
    return head


def _recovery_record(analysis: Mapping[str, Any]) -> RecoveryRecord | None:
    """The document's ``recovery`` section through its typed record; None when absent."""
    section = analysis.get("recovery")
    if section is None:
        return None
    return RecoveryRecord.from_json(section, "analysis.json: recovery")


def _what(r: FaultRecord) -> str:
    return f"{r.name} ({r.kind}) at t={r.t_start_s:,.0f} s"


def recovery_figure(analysis: Mapping[str, Any]) -> Recovery | None:
    """The figure recovery requirements read (``rto``): the slowest fault's RTO from the
    ``recovery`` records above, faults whose SLOs did not hold again told apart with how long
    they were seen so; None when the document has no recovery analysis (a Locust CSV)."""
    section = _recovery_record(analysis)
    if section is None:
        return None
    last_ns = (analysis.get("input") or {}).get("last_ns")
    recovered: list[tuple[float, str]] = []
    unrecovered: list[tuple[float | None, str]] = []
    for r in section.faults:
        rto = r.rto
        if rto.status in ("recovered", "no_impact") and rto.rto_s is not None:
            recovered.append((float(rto.rto_s), _what(r)))
            continue
        # Not recovered before the next fault or the data's end (or too few calls to tell):
        # seen unrecovered for that long; None when even that cannot be said.
        end = rto.until_ns or last_ns
        seen = (end - r.start_ns) / NS if isinstance(end, int) else None
        unrecovered.append((seen if rto.status == "not_recovered" else None, _what(r)))
    worst_s, worst = max(recovered, default=(None, ""))
    seen_for = [(s, what) for s, what in unrecovered if s is not None]
    longest = max(seen_for, default=(None, ""))
    return Recovery(
        faults=len(recovered) + len(unrecovered),
        worst_s=worst_s,
        worst=worst,
        unrecovered=len(unrecovered),
        unrecovered_for_s=longest[0],
        unrecovered_worst=longest[1],
    )


def sessions_figure(analysis: Mapping[str, Any]) -> SessionsToll | None:
    """The figure the sessions objective reads (``sessions-restored``): each fault's websocket
    toll from the ``recovery`` records above; None when the document has no recovery analysis
    or no toll per fault (a Locust CSV)."""
    section = _recovery_record(analysis)
    if section is None:
        return None
    last_ns = (analysis.get("input") or {}).get("last_ns")
    groups = ((analysis.get("overall") or {}).get("groups")) or {}
    ws = groups.get("websocket") if isinstance(groups, Mapping) else None
    out = []
    for r in section.faults:
        toll = r.websocket
        if toll is None:  # Locust CSV input: no toll per fault
            return None
        since = None if toll.never_back_since_ns is ABSENT else toll.never_back_since_ns
        seen = (
            (last_ns - since) / NS
            if since is not None and isinstance(last_ns, int) and last_ns >= since
            else None
        )
        pct = toll.resubscribe_s
        out.append(
            FaultSessions(
                fault=_what(r),
                lost=toll.sessions_lost,
                back=toll.sessions_back,
                never_back=toll.never_back,
                slowest_s=float(pct["max"]) if pct is not None and "max" in pct else None,
                never_back_for_s=seen if toll.never_back else None,
            )
        )
    has_ws = isinstance(ws, Mapping) and bool(ws.get("count") or ws.get("calls"))
    return SessionsToll(websocket=has_ws or any(f.lost for f in out), faults=tuple(out))
