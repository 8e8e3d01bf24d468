"""The report's "Recovery (BCP drill)" block: per fault a sentence, a recovery table by endpoint
group, the orders in flight when it began with what became of each, and a chart; then what the
exchange's own API said of every acknowledged order. Read from analysis.json only (``recovery``
and ``reconciliation.order_status``); ``html`` and ``markdown`` render it as a block of its own.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from surgeproof.analysis.contract import ABSENT, Analysis, Doc
from surgeproof.analysis.contract.quality import OrderStatus
from surgeproof.analysis.contract.recovery import FaultRecord, Recovery
from surgeproof.analysis.contract.series import Timeseries
from surgeproof.report.charts import Chart
from surgeproof.report.table import Table

ANCHOR = "recovery"
TITLE = "Recovery (BCP drill)"


@dataclass
class FaultView:
    """One fault as the report shows it."""

    key: str
    heading: str
    sentence: str
    facts: list[tuple[str, str]]
    output_tail: list[str]
    groups: Table
    orders: Table
    chart: Chart | None = None


@dataclass
class RecoveryBlock:
    """Everything the recovery block shows."""

    faults: list[FaultView] = field(default_factory=list)
    #: What the exchange's own API said of every acknowledged order (and whether the ledger
    #: agrees), or empty.
    orders: list[str] = field(default_factory=list)
    #: External marks on the run's clock ("t=12.3 s: standby promoted by hand").
    marks: list[str] = field(default_factory=list)

    @property
    def charts(self) -> list[Chart]:
        return [f.chart for f in self.faults if f.chart is not None]


def sections(analysis: Doc) -> tuple[Recovery | None, OrderStatus | None]:
    """The document's ``recovery`` and ``reconciliation.order_status`` records (None: absent),
    read through the contract section by section when given as parsed JSON."""
    if isinstance(analysis, Analysis):
        return analysis.recovery or None, analysis.reconciliation.order_status or None
    recovery = analysis.get("recovery")
    lookups = (analysis.get("reconciliation") or {}).get("order_status")
    return (
        Recovery.from_json(recovery, "analysis.json: recovery") if recovery is not None else None,
        OrderStatus.from_json(lookups, "analysis.json: reconciliation.order_status")
        if lookups is not None
        else None,
    )


def recovery_block(analysis: Doc, *, draw: bool = True) -> RecoveryBlock | None:
    """The block for ``analysis``; None when the run had no fault and looked no order up."""
    recovery, lookups = sections(analysis)
    faults = recovery.faults if recovery is not None else []
    orders = _order_sentences(lookups)
    marks = [f"t={m.t_s:,.1f} s: {m.text}" for m in (recovery.marks if recovery else None) or []]
    if not faults and not orders and not marks:
        return None
    block = RecoveryBlock(orders=orders, marks=marks)
    for r in faults:
        view = _fault_view(r)
        if draw:
            view.chart = recovery_chart(analysis, r, view.key)
        block.faults.append(view)
    return block


def gate_lines(analysis: Doc) -> list[str]:
    """What the gate's summary says of the drill: each fault's recovery sentence, then what the
    exchange's API said of the acknowledged orders (the analysis' own sentences)."""
    recovery, lookups = sections(analysis)
    lines = [r.sentence for r in (recovery.faults if recovery is not None else [])]
    if lookups is not None and lookups.available and lookups.acknowledged:
        lines.append(f"orders looked up ({lookups.status}): {lookups.note}")
    return lines


def _order_sentences(lookups: OrderStatus | None) -> list[str]:
    if lookups is None or not lookups.available or not lookups.acknowledged:
        return []
    out = [f"Orders looked up through the exchange's own API after the run: {lookups.note}."]
    lost = lookups.lost_orders
    if lost:
        shown = ", ".join(lost[:10]) + (f" and {len(lost) - 10} more" if len(lost) > 10 else "")
        out.append(f"Acknowledged but unknown to the exchange (lost): {shown}.")
    for row in lookups.inconsistent_orders[:10]:
        out.append(f"Inconsistent: {row.order_id}: {'; '.join(row.reasons)}.")
    agree = lookups.ledger_agreement
    if agree.available and agree.agrees is not None:
        word = "agrees" if agree.agrees else "DISAGREES"
        out.append(
            f"The exchange's ledger {word}: it lost {agree.ledger_lost:,}, the lookups found "
            f"{agree.lookups_unknown:,} unknown (compared by {agree.by})."
        )
    return out


def _fault_view(r: FaultRecord) -> FaultView:
    a = r.action
    facts = [("kind", r.kind), ("asked for by", str(r.origin or "—"))]
    if a.get("argv") is not None:
        facts.append(("command", " ".join(str(w) for w in a["argv"])))
    if a.get("shell") is not None:
        facts.append(("shell", str(a["shell"])))
    facts.append(("started", f"t={r.t_start_s:.1f} s"))
    if r.action_s is not None:
        facts.append(("its action took", f"{r.action_s:.1f} s"))
    if "exit_status" in a:
        how = (
            a.get("error")
            or ("killed at its timeout" if a.get("timed_out") else None)
            or ("killed when the run ended" if a.get("killed_by_run_end") else None)
            or (a.get("signal") or f"exit status {a.get('exit_status')}")
        )
        facts.append(("ended", str(how)))
    rto = r.rto
    facts.append(("RTO", f"{rto.rto_s:.1f} s" if rto.rto_s is not None else "—"))
    return FaultView(
        key=f"recovery-{r.fault}",
        heading=f"Fault {r.name}",
        sentence=r.sentence,
        facts=facts,
        output_tail=[str(line) for line in a.get("output_tail") or []],
        groups=_groups_table(r),
        orders=_orders_table(r),
    )


def _groups_table(r: FaultRecord) -> Table:
    rows = []
    for g, v in sorted(r.groups.items(), key=lambda kv: (kv[0] == "*", kv[0])):
        lat = v.latency_ms or {}
        rows.append(
            (
                "all groups" if g == "*" else g,
                f"{v.calls:,}",
                f"{v.ok:,}" if v.ok is not ABSENT else "—",
                _pct(None if v.error_ratio is ABSENT else v.error_ratio),
                _ms(lat.get("p99")),
                _ms(lat.get("max")),
                _s(v.longest_wait_s) if g != "*" else "",
                _s(v.first_ok_s) if g != "*" else "",
            )
        )
    ws, logins = r.websocket, r.logins
    note = (
        f"Calls asked for during the fault and its recovery ({r.span.duration_s:.1f} s from its "
        "start). Longest wait: from the first call asked for after a success to the next "
        "success; first success: when that wait ended, from the fault's start (none: no success "
        f"after it). Logins refused: {logins.refused:,} of {logins.attempts:,}."
    )
    if ws is not None:
        note += (
            f" Websocket sessions lost: {ws.sessions_lost:,}, back: {ws.sessions_back:,}"
            f", reconnect attempts: {ws.reconnect_attempts:,}."
        )
    return Table(
        f"Recovery of {r.name} by endpoint group",
        ("group", "calls", "ok", "error ratio", "p99 ms", "max ms", "longest wait s",
         "first success s"),
        rows,
        note,
    )  # fmt: skip


def _orders_table(r: FaultRecord) -> Table:
    o = r.orders_in_flight
    F = r.start_ns
    rows = [
        (
            f"{row.source} #{row.user}",
            str(row.action or "order"),
            f"{(row.sent_ns - F) / 1e9:+.3f}",
            f"{(row.end_ns - F) / 1e9:+.3f}",
            row.outcome,
            str(row.order_id or "—"),
            row.fate.replace("_", " "),
        )
        for row in o.orders
    ]
    more = o.count - o.listed
    note = (
        f"{o.count:,} order submissions were in flight when the fault began (sent before, "
        "answered after); times from its start. Fate: what the exchange's API said of an "
        "acknowledged one after the run, else how the call ended."
    )
    if more > 0:
        note += f" {more:,} more not listed."
    return Table(
        f"Orders in flight when {r.name} began",
        ("user", "action", "sent s", "answered s", "outcome", "order id", "fate"),
        rows,
        note,
    )


def recovery_chart(analysis: Doc, r: FaultRecord, key: str) -> Chart:
    """p99 latency per group and the error ratio around one fault, its action and its RTO."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ts = (
        analysis.timeseries
        if isinstance(analysis, Analysis)
        else Timeseries.from_json(analysis.get("timeseries"), "analysis.json: timeseries")
    )
    t = np.array(ts.t_s, dtype=float)
    window = float(ts.window_s)
    t0 = r.t_start_s
    end = (r.span.end_ns - r.start_ns) / 1e9 + t0
    lo, hi = t0 - max(5 * window, 0.25 * (end - t0)), end + max(5 * window, 0.25 * (end - t0))
    sel = (t >= lo) & (t <= hi)
    fig = Figure(figsize=(10.0, 3.6), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for g, cols in sorted(ts.groups.items()):
        if g == "*":
            continue
        y = np.array([np.nan if v is None else v for v in cols.p99_ms], float)
        if len(y) == len(t) and np.isfinite(y[sel]).any():
            ax.step(t[sel], y[sel], where="post", lw=1.2, label=f"{g} p99")
    ax.set_yscale("log")
    ax.set_xlabel("time since the run's start (s)")
    ax.set_ylabel("latency p99 (ms, log)")
    err = np.array([np.nan if v is None else v for v in ts.error_ratio], float)
    ax2 = ax.twinx()
    if len(err) == len(t):
        ax2.fill_between(t[sel], 0, err[sel], step="post", color="#d62728", alpha=0.2,
                         label="error ratio (all)")  # fmt: skip
    ax2.set_ylim(0, 1.05)
    ax2.set_ylabel("error ratio")
    action_end = r.t_end_s if r.t_end_s is not None else end
    ax.axvspan(t0, max(action_end, t0 + window / 20), facecolor="none", edgecolor="#212529",
               hatch="///", lw=0, alpha=0.5, label="the fault's action")  # fmt: skip
    rto = r.rto
    if rto.rto_s is not None and rto.status == "recovered":
        ax.axvline(t0 + rto.rto_s, color="#2b8a3e", lw=2,
                   label=f"SLOs held again (RTO {rto.rto_s:.1f} s)")  # fmt: skip
    ax.set_xlim(lo, hi)
    handles, labels = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(handles + h2, labels + l2, loc="upper left", fontsize=8, ncols=3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
    status = rto.status.replace("_", " ")
    return Chart(
        key=key,
        title=f"Recovery of {r.name}",
        png=buf.getvalue(),
        alt=f"p99 latency per endpoint group and error ratio around fault {r.name}: {status}",
        caption=(
            "Series windows of "
            f"{window:g} s. Hatched: the fault's own action. Green line: the end of the first "
            "window in which every SLO held again (the RTO, from the fault's start)."
        ),
    )


def _pct(v: Any) -> str:
    return "—" if v is None else f"{float(v):.1%}"


def _ms(v: Any) -> str:
    return "—" if v is None else f"{float(v):,.0f}"


def _s(v: Any) -> str:
    return "none" if v is None else f"{float(v):.3f}"
