"""The report's charts, drawn with matplotlib's Agg canvas into PNG bytes (no display, no pyplot).

Every axis carries its unit. Users are drawn in the headline's unit — **real users** (simulated
users divided by the run's user scale), or real orders — so the published reference figures and
the ceiling read as they are stated; throughput stays in the requests per second the generator
actually offered (simulated scale). Legends sit below the plot, never over the data.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from surgeproof.analysis.contract import ABSENT, Doc, as_analysis
from surgeproof.analysis.contract.series import Timeseries
from surgeproof.analysis.groupstats import ALL_GROUPS

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 4.2, 110
_CAUSE_COLOURS = {
    "rate_limited": "#e6a700",
    "blocked": "#b35900",
    "server_error": "#d62728",
    "timeout": "#7b3294",
    "connection_error": "#444444",
    "client_error": "#8c8c8c",
    "missed": "#17becf",
    "cancelled": "#bcbd22",
    "invalid_request": "#e377c2",
}
_OUTAGE_NOTE = " Dark hatching: the target was down (until it came back)."
_SHORTFALL_NOTE = (
    " Blue hatching: a generator worker was lost and offered load fell short until its users "
    "ran again."
)
_FIGURE_COLOURS = ("#2b8a3e", "#c92a2a", "#1864ab", "#e67700", "#5f3dc4")
_BREACH = {"color": "#ff6b6b", "alpha": 0.18, "lw": 0}
# Faults are hatched over the breach shading, so both stay visible where they coincide.
_OUTAGE = {"facecolor": "none", "edgecolor": "#212529", "hatch": "///", "lw": 0, "alpha": 0.5}
_SHORTFALL = {"facecolor": "none", "edgecolor": "#1864ab", "hatch": "\\\\", "lw": 0, "alpha": 0.6}


@dataclass(frozen=True)
class Chart:
    """One chart: an anchor id, a title, the PNG, and words for those who cannot see it."""

    key: str
    title: str
    png: bytes
    alt: str
    caption: str


def _figure(height: float = HEIGHT_IN) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _legend_below(fig: Figure, *axes: Any, ncols: int = 3) -> None:
    """One legend for ``axes`` under the plot area (constrained layout makes room for it)."""
    handles, labels, seen = [], [], set()
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in seen and not label.startswith("_"):
                seen.add(label)
                handles.append(h)
                labels.append(label)
    if handles:
        fig.legend(
            handles, labels, loc="outside lower center", ncols=ncols, fontsize=8, frameon=False
        )


def _per_real(analysis: Doc) -> float:
    """Real users per simulated user (1 for an unscaled run)."""
    return 1.0 / as_analysis(analysis).user_scale


def _users_words(analysis: Doc) -> str:
    """``real users (1 simulated = 2,000)`` for an axis; ``users`` when unscaled."""
    a = as_analysis(analysis)
    if not a.scale.scaled:
        return a.real_unit
    return f"real {a.real_unit} (1 simulated = {_per_real(analysis):,.0f})"


def _thousands(ax: Any, axis: str = "y") -> None:
    fmt = FuncFormatter(lambda v, _pos: f"{v:,.0f}")
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(fmt)
    if axis == "x":  # "450,000" labels need room
        target.set_major_locator(MaxNLocator(nbins=5))


def _shade_breaches(ax: Any, analysis: Doc) -> bool:
    windows = as_analysis(analysis).incidents.breach_windows
    for i, w in enumerate(windows):
        ax.axvspan(
            w.t_start_s,
            w.t_start_s + w.duration_s,
            **_BREACH,
            label="SLO breached" if i == 0 else None,
        )
    return bool(windows)


def _shade_faults(ax: Any, analysis: Doc) -> str:
    """Hatch target outages (down → back) and worker-loss shortfall windows; the caption's note
    for what was hatched ("" when nothing was)."""
    a = as_analysis(analysis)
    outages = a.incidents.target_outages or []
    shortfalls = a.data_quality.shortfall_windows or []
    end = _end_s(analysis)
    for i, o in enumerate(outages):
        ax.axvspan(
            o.t_down_s,
            o.t_up_s if o.t_up_s is not None else end,
            **_OUTAGE,
            label="target down" if i == 0 else None,
        )
    for i, w in enumerate(shortfalls):
        ax.axvspan(
            w.t_start_s,
            w.t_end_s if w.t_end_s is not None else end,
            **_SHORTFALL,
            label="worker lost: offered load short" if i == 0 else None,
        )
    return (_OUTAGE_NOTE if outages else "") + (_SHORTFALL_NOTE if shortfalls else "")


def _end_s(analysis: Doc) -> float:
    """The last series window's end (s from t0): where an open-ended fault stops on a chart."""
    ts = _ts(analysis)
    return (max(ts.t_s) + ts.window_s) if ts.t_s else 0.0


def _ts(analysis: Doc) -> Timeseries:
    return as_analysis(analysis).timeseries


def _arr(values: list[Any] | None) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values or []], dtype=float)


def concurrency_chart(analysis: Doc) -> Chart:
    """Offered and active users over time (real users), reference figures and the ceiling."""
    ts = _ts(analysis)
    a = as_analysis(analysis)
    scale = a.user_scale
    t = _arr(ts.t_s)
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(t, _arr(ts.offered_users) / scale, color="#1c7ed6", lw=1.8, label="offered")
    active = _arr(ts.active_users)
    if np.isfinite(active).any():
        ax.plot(t, active / scale, color="#74c0fc", lw=1.0, ls="--", label="active (generator)")
    figures = a.comparison.figures if a.comparison is not None else []
    for colour, fig_ref in zip(_FIGURE_COLOURS, figures, strict=False):
        ax.axhline(
            fig_ref.value,
            color=colour,
            lw=1.0,
            ls=":",
            label=f"{fig_ref.label}: {fig_ref.value:,.0f}",
        )
    real = a.ceiling.real
    if real.last_pass_users is not None:
        last = float(real.last_pass_users)
        ax.axhline(last, color="black", lw=2.0, label=f"measured ceiling (last pass): {last:,.0f}")
    if real.first_fail_users is not None:
        first = float(real.first_fail_users)
        ax.axhline(
            first, color="black", lw=1.2, ls="--", label=f"first failing level: {first:,.0f}"
        )
    _shade_breaches(ax, analysis)
    faults = _shade_faults(ax, analysis)
    ax.set_xlabel("time since run start (s)")
    unit = a.real_unit
    ax.set_ylabel(f"concurrent {_users_words(analysis)}")
    ax.set_ylim(bottom=0)
    _thousands(ax)
    ax.grid(alpha=0.3)
    _legend_below(fig, ax)
    return Chart(
        "concurrency",
        "Concurrency over time",
        _png(fig),
        f"Offered load over the run in concurrent {unit}, with the published reference figures "
        "and the measured ceiling as horizontal lines.",
        f"Offered and active {_users_words(analysis)} against the reference figures and the "
        "bracket; shaded where an SLO broke." + faults,
    )


def capacity_chart(analysis: Doc) -> Chart:
    """Successful calls per second and latency percentiles against offered concurrency (in the
    headline's unit), with the USL fit and the knee the summary states."""
    a = as_analysis(analysis)
    levels = [lv for lv in a.levels if lv.verdict != "inconclusive"]
    k = _per_real(analysis)
    fig = _figure(HEIGHT_IN * 1.3)
    ax_x, ax_l = fig.subplots(1, 2)
    answers = [lv for lv in levels if lv.achieved_rps > lv.ok_rps]
    if answers:
        ax_x.scatter(
            [lv.users * k for lv in answers],
            [lv.achieved_rps for lv in answers],
            facecolors="none",
            edgecolors="#868e96",
            s=40,
            zorder=2,
            label="all answers, refusals included",
        )
    for verdict, colour, marker in (("pass", "#2b8a3e", "o"), ("fail", "#c92a2a", "x")):
        pts = [lv for lv in levels if lv.verdict == verdict]
        ax_x.scatter(
            [lv.users * k for lv in pts],
            [lv.ok_rps for lv in pts],
            color=colour,
            marker=marker,
            s=40,
            zorder=3,
            label=f"successful calls, level {'held' if verdict == 'pass' else 'failed'}",
        )
    usl = a.usl
    if usl.status == "fit" and usl.curve:
        cu = [p.users * k for p in usl.curve]
        ax_x.plot(cu, [p.rps for p in usl.curve], color="#495057", lw=1.4, label="USL fit")
        if usl.n_star is not None:
            ax_x.axvline(usl.n_star * k, color="#495057", ls="--", lw=1, label="USL peak")
        if usl.max_measured_users and max(cu) > usl.max_measured_users * k:
            ax_x.axvspan(
                usl.max_measured_users * k,
                max(cu),
                color="#adb5bd",
                alpha=0.2,
                lw=0,
                label="beyond the largest measured load",
            )
    knee = a.knee
    if knee.users is not None and any(line.startswith("knee:") for line in _model_lines(a)):
        ax_x.axvline(knee.users * k, color="#e67700", ls=":", lw=1.5, label="knee")
        if knee.throughput_rps is not None:
            ax_x.axhline(knee.throughput_rps, color="#e67700", ls=":", lw=0.8)
    ax_x.set_xlabel(f"offered concurrent {_users_words(analysis)}")
    ax_x.set_ylabel("calls per second")
    ax_x.set_xlim(left=0)
    ax_x.set_ylim(bottom=0)
    _thousands(ax_x, "x")
    ax_x.grid(alpha=0.3)
    ax_x.set_title("throughput", fontsize=10)
    by_users = sorted(levels, key=lambda lv: lv.users)
    for key, style in (("p50", ":"), ("p95", "--"), ("p99", "-")):
        ys = [
            lv.groups[ALL_GROUPS].latency_ms.get(key) if ALL_GROUPS in lv.groups else None
            for lv in by_users
        ]
        ax_l.plot(
            [lv.users * k for lv in by_users],
            _arr(ys),
            ls=style,
            marker="o",
            ms=3,
            color="#1c7ed6",
            label=f"{key}, all groups",
        )
    for slo in a.slos:
        if slo.group == ALL_GROUPS and slo.metric in ("p50", "p95", "p99"):
            ax_l.axhline(slo.limit, color="#c92a2a", lw=1, ls=":", label=f"SLO {slo.text}")
    ax_l.set_xlabel(f"offered concurrent {_users_words(analysis)}")
    ax_l.set_ylabel("latency from intended send (ms)")
    _log_if_wide(ax_l)
    _thousands(ax_l, "x")
    ax_l.grid(alpha=0.3, which="both")
    ax_l.set_title("latency percentiles", fontsize=10)
    _legend_below(fig, ax_x, ax_l, ncols=4)
    why = f" No USL fit: {usl.reason}." if usl.status != "fit" and usl.reason else ""
    return Chart(
        "capacity",
        "Throughput and latency against concurrency",
        _png(fig),
        "Successful calls per second of each steady-state level against its offered users, "
        "with the Universal Scalability Law fit; latency percentiles per level.",
        "One point per judged steady window (inconclusive ones left out); the model is fitted "
        "on successful calls, since refusals answer fast." + why,
    )


def _model_lines(analysis: Doc) -> list[str]:
    from surgeproof.analysis.answer import model_lines

    return model_lines(analysis)


def errors_chart(analysis: Doc) -> Chart:
    """Errors per second by cause (stacked), the error ratio, SLO-breach windows shaded."""
    ts = _ts(analysis)
    t = _arr(ts.t_s)
    window = ts.window_s
    fig = _figure()
    ax = fig.add_subplot()
    errors = ts.errors
    causes = [c for c in _CAUSE_COLOURS if c in errors and any(errors[c])]
    if causes and len(t):
        ax.stackplot(
            t,
            *[_arr(errors[c]) / window for c in causes],
            colors=[_CAUSE_COLOURS[c] for c in causes],
            labels=[c.replace("_", " ") for c in causes],
            alpha=0.85,
        )
    else:
        ax.text(0.5, 0.5, "no errors recorded", transform=ax.transAxes, ha="center")
    _shade_breaches(ax, analysis)
    faults = _shade_faults(ax, analysis)
    ax.set_xlabel("time since run start (s)")
    ax.set_ylabel("errors per second (req/s)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ratio_ax = ax.twinx()
    ratio_ax.plot(
        t,
        _arr(ts.error_ratio) * 100,
        color="black",
        lw=1.0,
        label="error ratio (capacity errors)",
    )
    ratio_ax.set_ylabel("error ratio (%)")
    ratio_ax.set_ylim(0, 100)
    _legend_below(fig, ax, ratio_ax, ncols=4)
    return Chart(
        "errors",
        "Errors by cause over time",
        _png(fig),
        "Errors per second stacked by cause, with the capacity error ratio and the windows "
        "in which an SLO was breached shaded.",
        "Shaded: SLO-breach windows. Client errors (4xx) are shown but not counted in the "
        "error ratio; missed sends are generator faults." + faults,
    )


def group_latency_chart(analysis: Doc) -> Chart:
    """p99 (solid) and p50 (dotted) latency per endpoint group over time."""
    ts = _ts(analysis)
    t = _arr(ts.t_s)
    fig = _figure()
    ax = fig.add_subplot()
    colours = ("#1c7ed6", "#e8590c", "#2b8a3e", "#ae3ec9", "#495057", "#f08c00", "#0b7285")
    groups = [g for g in ts.groups if g != ALL_GROUPS]
    for colour, group in zip(colours, groups, strict=False):
        series = ts.groups[group]
        ax.plot(t, _arr(series.p99_ms), color=colour, lw=1.3, label=f"{group} p99")
        ax.plot(t, _arr(series.p50_ms), color=colour, lw=0.8, ls=":")
    _shade_breaches(ax, analysis)
    ax.set_xlabel("time since run start (s)")
    ax.set_ylabel("latency from intended send (ms)")
    _log_if_wide(ax)
    ax.grid(alpha=0.3, which="both")
    _legend_below(fig, ax, ncols=4)
    return Chart(
        "groups",
        "Latency per endpoint group",
        _png(fig),
        "p99 and p50 latency of each endpoint group per window over the run.",
        "Solid: p99; dotted: p50, per window of "
        f"{ts.window_s:g} s (exact percentiles of that window's samples).",
    )


def websocket_chart(analysis: Doc) -> Chart:
    """Websocket connects per second (ok/failed) and open sessions reported by the target."""
    ts = _ts(analysis)
    window = ts.window_s
    t = _arr(ts.t_s)
    connects = ts.ws_connects or None
    ok = _arr(connects.ok if connects else None)
    failed = _arr(connects.failed if connects else None)
    fig = _figure()
    ax = fig.add_subplot()
    if len(ok) == len(t) and len(failed) == len(t) and (ok.sum() + failed.sum()) > 0:
        _stacked(
            ax,
            t,
            window,
            (ok / window, "#2b8a3e", "connects ok"),
            (failed / window, "#c92a2a", "connects failed"),
        )
    else:
        ax.text(0.5, 0.5, "no websocket connects in this run", transform=ax.transAxes, ha="center")
    ax.set_xlabel("time since run start (s)")
    ax.set_ylabel("websocket connects per second (1/s)")
    ax.set_ylim(bottom=0)
    _shade_breaches(ax, analysis)
    ax.grid(alpha=0.3)
    axes = [ax]
    server = ts.server or None
    open_sessions = _arr(server.ws_connections if server else None)
    if len(open_sessions) == len(t) and np.isfinite(open_sessions).any():
        open_ax = ax.twinx()
        open_ax.plot(
            t + window / 2,
            open_sessions,
            color="#1864ab",
            lw=1.5,
            label="open sessions (target's count)",
        )
        open_ax.set_ylabel("open websocket sessions (simulated)")
        open_ax.set_ylim(bottom=0)
        axes.append(open_ax)
    _legend_below(fig, *axes)
    return Chart(
        "websocket",
        "Websocket sessions",
        _png(fig),
        "Websocket connection attempts per second, ok and failed, and the number of open "
        "sessions the embedded exchange reported.",
        f"Per window of {window:g} s, from analysis.json (timeseries.ws_connects; open sessions: "
        "the highest the embedded exchange reported in the window, absent for a real target).",
    )


def _log_if_wide(ax: Any) -> None:
    """Log scale when latencies span more than two decades, so the low ones stay readable."""
    ys = np.concatenate(
        [np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()] or [np.empty(0)]
    )
    ys = ys[np.isfinite(ys) & (ys > 0)]
    if len(ys) and ys.max() / max(ys.min(), 1e-9) > 100:
        ax.set_yscale("log")
    elif len(ys):
        ax.set_ylim(bottom=0)
    if not len(ys) or not math.isfinite(float(ys.max())):
        ax.text(0.5, 0.5, "no latency samples", transform=ax.transAxes, ha="center")


def retries_chart(analysis: Doc) -> Chart | None:
    """HTTP first attempts and re-sends per second beside the offered rate, with the window's
    amplification factor; websocket reconnect attempts and lost sessions per second. None when
    the run re-sent nothing and reconnected nothing (the report says so in words)."""
    amp = as_analysis(analysis).amplification
    if amp is ABSENT:
        return None
    series, http, ws = amp.series, amp.http, amp.websocket
    show_http = bool(http.resends)
    show_ws = bool(ws.reconnect_attempts or ws.sessions_lost)
    if not (show_http or show_ws):
        return None
    ts = _ts(analysis)
    t = _arr(ts.t_s)
    window = ts.window_s
    fig = _figure(HEIGHT_IN * (1.6 if show_http and show_ws else 1.0))
    axes = list(np.atleast_1d(fig.subplots(int(show_http) + int(show_ws), 1, sharex=True)))
    faults = ""
    legend_axes: list[Any] = []
    if show_http:
        ax = axes.pop(0)
        _stacked(
            ax,
            t,
            window,
            (_arr(series.first_attempts) / window, "#74c0fc", "first attempts"),
            (_arr(series.resends) / window, "#e8590c", "re-sends"),
        )
        _step(
            ax,
            t,
            _arr(ts.offered_rps),
            window,
            color="#1864ab",
            lw=1.0,
            label="offered rate (calls due, by intended time)",
        )
        _shade_breaches(ax, analysis)
        faults = _shade_faults(ax, analysis)
        ax.set_ylabel("HTTP calls sent per second")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        factor_ax = ax.twinx()
        _step(
            factor_ax,
            t,
            _arr(series.factor),
            window,
            color="black",
            lw=1.0,
            label="amplification factor",
        )
        factor_ax.set_ylabel("all calls ÷ first attempts (×)")
        factor_ax.set_ylim(bottom=1.0)
        legend_axes = [ax, factor_ax]
    if show_ws:
        ax = axes.pop(0)
        _stacked(
            ax,
            t,
            window,
            (_arr(series.reconnects_ok) / window, "#2b8a3e", "reconnects ok"),
            (_arr(series.reconnects_failed) / window, "#c92a2a", "reconnects failed"),
        )
        _step(
            ax,
            t,
            _arr(series.sessions_lost) / window,
            window,
            color="#212529",
            lw=1.0,
            label="sessions lost",
        )
        _shade_breaches(ax, analysis)
        faults = _shade_faults(ax, analysis)
        ax.set_ylabel("websocket events per second (1/s)")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        legend_axes.append(ax)
    ax.set_xlabel("time since run start (s)")  # the bottom panel's; the panels share time
    _legend_below(fig, *legend_axes)
    return Chart(
        "retries",
        "Re-sends and reconnects per second",
        _png(fig),
        "HTTP calls sent per second split into first attempts and re-sends, beside the offered "
        "rate, with the amplification factor; websocket reconnect attempts (ok, failed) and lost "
        "sessions per second.",
        "Calls by send time. The factor is drawn only for windows with at least "
        f"{amp.window_min_first_attempts} first attempts. Shaded: SLO-breach windows." + faults,
    )


def _stacked(ax: Any, t: np.ndarray, window: float, *layers: tuple[np.ndarray, str, str]) -> None:
    """Per-window bars, each (values, colour, label) layer stacked on the ones before it."""
    bottom = np.zeros(len(t))
    for values, colour, label in layers:
        bars = {"width": window, "align": "edge", "lw": 0}
        ax.bar(t, values, bottom=bottom, color=colour, label=label, **bars)
        bottom = bottom + values


def _step(ax: Any, t: np.ndarray, y: np.ndarray, window: float, **kw: Any) -> None:
    """A per-window value drawn flat over its window, like the bars beside it."""
    if len(t):
        ax.step(np.append(t, t[-1] + window), np.append(y, y[-1]), where="post", **kw)
