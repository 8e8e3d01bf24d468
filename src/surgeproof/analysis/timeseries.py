"""Per-window series: offered vs active users, offered vs achieved rate, errors by cause, and
exact latency percentiles per group — one sort for all windows, never an average of percentiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from surgeproof.analysis.causes import CAPACITY_ERRORS, CAUSES, is_answered
from surgeproof.analysis.groupstats import ALL_GROUPS, N_OUTCOMES, KeyedStats, add_tally
from surgeproof.analysis.percentiles import PERCENTILE_KEYS
from surgeproof.analysis.samples import Samples, rows_where
from surgeproof.analysis.scan import Census, RecordScan
from surgeproof.analysis.shards import RecordPass
from surgeproof.analysis.slo import breaks
from surgeproof.rundir.schema import FLAG_ORDER_SUBMIT, Kind, Outcome
from surgeproof.scenario.model import Slo
from surgeproof.scenario.slos import kind_of

#: A group needs this many samples in one window before its SLOs are judged in that window.
WINDOW_MIN_SAMPLES = 5

#: Service-time percentiles kept per window beside latency.
SERVICE_KEYS = ("p50", "p99")
SERVICE_QS = (50.0, 99.0)


@dataclass
class Series:
    """The per-window arrays; ``to_dict`` renders the columnar ``timeseries`` object."""

    window_s: float
    t0_ns: int
    start_ns: np.ndarray
    offered_users: np.ndarray
    active_users: np.ndarray
    offered_rps: np.ndarray
    achieved_rps: np.ndarray
    ok_rps: np.ndarray
    count: np.ndarray
    error_ratio: np.ndarray
    errors: dict[str, np.ndarray]
    cpu_max: np.ndarray
    groups: dict[str, dict[str, np.ndarray]]
    breach: np.ndarray
    #: SLO text → per-window breach mask (for the incident view).
    broken: dict[str, np.ndarray] = field(default_factory=dict)
    #: Order submissions per window (by intended time) × outcome code (for the incident view).
    orders: np.ndarray | None = None
    #: HTTP requests and websocket connects sent per window (by actual send time).
    sent: np.ndarray | None = None
    #: The target's own per-second metrics aligned to these windows (see ``server.py``).
    server: dict[str, Any] | None = None
    #: Websocket connect attempts per window (by intended time): connected, and not.
    ws_connects_ok: np.ndarray | None = None
    ws_connects_failed: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.start_ns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_s": self.window_s,
            "t_s": [round(t, 9) for t in ((self.start_ns - self.t0_ns) / 1e9).tolist()],
            "start_ns": self.start_ns.astype(np.int64).tolist(),
            "offered_users": _col(self.offered_users),
            "active_users": _col(self.active_users),
            "offered_rps": _col(self.offered_rps),
            "sent_rps": _col(self.sent / self.window_s) if self.sent is not None else None,
            "achieved_rps": _col(self.achieved_rps),
            "ok_rps": _col(self.ok_rps),
            "error_ratio": _col(self.error_ratio),
            "errors": {k: [int(v) for v in arr.tolist()] for k, arr in self.errors.items()},
            "cpu_max_percent": _col(self.cpu_max),
            "breach": [bool(b) for b in self.breach.tolist()],
            "groups": {g: _group_dict(cols) for g, cols in self.groups.items()},
            "server": self.server,
            "ws_connects": (
                {
                    "ok": [int(v) for v in self.ws_connects_ok.tolist()],
                    "failed": [int(v) for v in self.ws_connects_failed.tolist()],
                }
                if self.ws_connects_ok is not None and self.ws_connects_failed is not None
                else None
            ),
        }


def _group_dict(cols: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, arr in cols.items():
        if k == "count":
            out[k] = [int(v) for v in arr.tolist()]
        elif k == "service_ms":
            out[k] = {q: _col(v) for q, v in arr.items()}
        else:
            out[k] = _col(arr)
    return out


def _col(arr: np.ndarray) -> list[float | None]:
    """The column as floats, None where not finite (one conversion, not one per value)."""
    values = np.asarray(arr, dtype=np.float64)
    out: list[float | None] = values.tolist()
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        out[i] = None
    return out


def build_series(
    records: Samples | RecordScan,
    timeline: Sequence[dict[str, Any]],
    t0_ns: int,
    window_s: float,
    slos: Sequence[Slo],
    *,
    window_min_samples: int = WINDOW_MIN_SAMPLES,
) -> Series:
    """Bin records by intended time (answers by end time) into windows of ``window_s``.

    One chunked pass: per-window counts are tallied per chunk, and latency and service time are
    kept as packed (window·group, ns) samples — 16 bytes a counted record — for exact percentiles.
    """
    scan = records if isinstance(records, RecordScan) else RecordScan.of(records)
    census = scan.census()
    wns = round(window_s * 1e9)
    last = [census.last_intended] if census.last_intended is not None else []
    last += [census.last_end] if census.last_end is not None else []
    last += [int(r["t_ns"]) for r in timeline[-1:] if isinstance(r.get("t_ns"), int)]
    n_win = int(max(0, (max(last) - t0_ns) // wns + 1)) if last else 0
    n_groups = max(len(scan.groups), 1)
    offered_users, active, cpu = _timeline_columns(timeline, t0_ns, wns, n_win)
    need_conc = not np.isfinite(offered_users).any() and census.total > 0
    p = scan.run(SeriesPass(scan, census, t0_ns, wns, n_win, n_groups, need_conc))
    stats, conc = p.stats, p.conc
    offered, achieved, ok, sent, orders = p.offered, p.achieved, p.ok, p.sent, p.orders
    ws_ok, ws_failed = p.ws_ok, p.ws_failed
    if need_conc:
        offered_users = conc

    per_window = stats.tally.reshape(n_win, n_groups, N_OUTCOMES)
    groups = _group_columns(stats, per_window, scan.groups, n_win)
    by_cause = per_window.sum(axis=1)
    count = by_cause.sum(axis=1) - by_cause[:, Outcome.MISSED] - by_cause[:, Outcome.CANCELLED]
    bad = by_cause[:, list(CAPACITY_ERRORS)].sum(axis=1)
    errors = {c: by_cause[:, Outcome[c.upper()]].copy() for c in CAUSES}
    with np.errstate(invalid="ignore", divide="ignore"):
        error_ratio = np.where(count > 0, bad / np.maximum(count, 1), np.nan)

    broken = _breaches(groups, slos, n_win, window_min_samples)
    breach = np.zeros(n_win, dtype=bool)
    for mask in broken.values():
        breach |= mask
    return Series(
        window_s=window_s,
        t0_ns=t0_ns,
        start_ns=t0_ns + np.arange(n_win, dtype=np.int64) * wns,
        offered_users=offered_users,
        active_users=active,
        offered_rps=offered / window_s,
        achieved_rps=achieved / window_s,
        ok_rps=ok / window_s,
        count=count,
        error_ratio=error_ratio,
        errors=errors,
        cpu_max=cpu,
        groups=groups,
        breach=breach,
        broken=broken,
        orders=orders,
        sent=sent,
        ws_connects_ok=ws_ok,
        ws_connects_failed=ws_failed,
    )


class SeriesPass(RecordPass):
    """Per window (by intended time; answers by end time, sends by send time): counts, order
    submissions by outcome, websocket connects, and per window·group exact percentiles."""

    accumulators = ("offered", "achieved", "ok", "sent", "orders", "ws_ok", "ws_failed", "conc")
    parts = ("stats",)

    def __init__(
        self,
        scan: RecordScan,
        census: Census,
        t0_ns: int,
        wns: int,
        n_win: int,
        n_groups: int,
        need_conc: bool,
    ) -> None:
        self.t0_ns, self.wns, self.n_win, self.n_groups = t0_ns, wns, n_win, n_groups
        self.need_conc = need_conc
        keys = n_win * n_groups
        self.stats = KeyedStats(
            keys,
            census.counted,
            (census.latency, census.service),
            coarser=[(np.arange(keys, dtype=np.int64) // max(n_groups, 1), n_win)],
            service_qs=SERVICE_QS,
            execution=scan.execution,
        )
        self.start()

    def start(self) -> None:
        n_win = self.n_win
        self.offered = np.zeros(n_win, dtype=np.int64)
        self.achieved = np.zeros(n_win, dtype=np.int64)
        self.ok = np.zeros(n_win, dtype=np.int64)
        self.sent = np.zeros(n_win, dtype=np.int64)
        self.orders = np.zeros((n_win, N_OUTCOMES), dtype=np.int64)
        self.ws_ok = np.zeros(n_win, dtype=np.int64)
        self.ws_failed = np.zeros(n_win, dtype=np.int64)
        self.conc = np.full(n_win, np.nan)

    def feed(self, s: Samples, first: bool) -> None:
        t0_ns, wns, n_win, top = self.t0_ns, self.wns, self.n_win, max(self.n_win - 1, 0)
        w = np.clip((s.intended_ns - t0_ns) // wns, 0, top)
        req = s.kind != Kind.WS_GAP
        keys = np.where(req, w * self.n_groups + s.group, -1)
        self.stats.add(s, keys, tally=first, gaps_keyed=False)
        if not first:
            return
        (offered,) = rows_where(req & (s.outcome != Outcome.CANCELLED), w)
        self.offered += np.bincount(offered, minlength=n_win)
        answered = req & is_answered(s.outcome) & (s.end_ns > 0)
        end, outcome = rows_where(answered, s.end_ns, s.outcome)
        we = np.clip((end - t0_ns) // wns, 0, top)
        self.achieved += np.bincount(we, minlength=n_win)
        self.ok += np.bincount(we[outcome == Outcome.OK], minlength=n_win)
        (sent,) = rows_where((s.sent_ns > 0) & (s.kind <= Kind.WS_CONNECT), s.sent_ns)
        self.sent += np.bincount(np.clip((sent - t0_ns) // wns, 0, top), minlength=n_win)
        connect = s.kind == Kind.WS_CONNECT
        if connect.any():
            good = s.outcome[connect] == Outcome.OK
            self.ws_ok += np.bincount(w[connect][good], minlength=n_win)
            self.ws_failed += np.bincount(w[connect][~good], minlength=n_win)
        is_order = (s.flags & FLAG_ORDER_SUBMIT) != 0
        add_tally(self.orders, w[is_order], s.outcome[is_order])
        if self.need_conc and req.any():
            np.fmax.at(self.conc, w[req], s.concurrency[req].astype(float))

    def merge_tallies(self, other: SeriesPass) -> None:
        for name in ("offered", "achieved", "ok", "sent", "orders", "ws_ok", "ws_failed"):
            getattr(self, name)[:] += getattr(other, name)
        self.conc = np.fmax(self.conc, other.conc)

    def round_within(self) -> tuple[int, int] | None:
        spans = [st.slab_top_keys() for st in self.stores() if st.pending]
        spans = [sp for sp in spans if sp is not None]
        if not spans:
            return None
        lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
        # Windows [lo, hi) by intended time (the first and last also hold what was clipped).
        start = self.t0_ns + lo * self.wns if lo > 0 else -(1 << 62)
        end = self.t0_ns + hi * self.wns if hi < self.n_win else 1 << 62
        return start, end


def _group_columns(
    stats: KeyedStats, per_window: np.ndarray, names: list[str], n_win: int
) -> dict[str, dict[str, Any]]:
    """Columns per group (then ``*``): count, error ratio, latency and service percentiles."""
    n_groups = per_window.shape[1]
    out: dict[str, dict[str, Any]] = {}
    # Window·group first; then the same samples re-keyed to window alone for ``*``.
    passes: list[tuple[np.ndarray, int, list[int | None]]] = [
        (per_window, n_groups, list(range(len(names)))),
        (per_window.sum(axis=1, keepdims=True), 1, [None]),
    ]
    for tally, stride, members in passes:
        lat_keys, lat = stats.percentiles()
        svc_keys, svc = stats.percentiles(SERVICE_QS, service=True)
        for idx in members:
            g = 0 if idx is None else idx
            t = tally[:, g, :]
            count = t.sum(axis=1) - t[:, Outcome.MISSED] - t[:, Outcome.CANCELLED]
            if not count.any():
                continue
            bad = t[:, list(CAPACITY_ERRORS)].sum(axis=1)
            cols: dict[str, Any] = {"count": count}
            with np.errstate(invalid="ignore", divide="ignore"):
                cols["error_ratio"] = np.where(count > 0, bad / np.maximum(count, 1), np.nan)
            sel = lat_keys % stride == g
            win = lat_keys[sel] // stride
            for j, key in enumerate(PERCENTILE_KEYS):
                col = np.full(n_win, np.nan)
                col[win] = lat[sel, j]
                cols[f"{key}_ms"] = col
            sel = svc_keys % stride == g
            win = svc_keys[sel] // stride
            service = {}
            for j, key in enumerate(SERVICE_KEYS):
                col = np.full(n_win, np.nan)
                col[win] = svc[sel, j]
                service[key] = col
            cols["service_ms"] = service
            out[ALL_GROUPS if idx is None else names[idx]] = cols
        if stride > 1:
            stats.coarsen()
    stats.release()
    return out


def _timeline_columns(
    timeline: Sequence[dict[str, Any]], t0_ns: int, wns: int, n_win: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    offered = np.full(n_win, np.nan)
    cpu = np.full(n_win, np.nan)
    active_sum: dict[tuple[int, str], list[float]] = {}
    for row in timeline:
        t = row.get("t_ns")
        if not isinstance(t, int) or n_win == 0:
            continue
        i = min(max((t - t0_ns) // wns, 0), n_win - 1)
        tu = row.get("target_users")
        if isinstance(tu, int | float):
            offered[i] = tu if not np.isfinite(offered[i]) else max(offered[i], tu)
        c = row.get("cpu_percent")
        if isinstance(c, int | float):
            cpu[i] = c if not np.isfinite(cpu[i]) else max(cpu[i], c)
        a = row.get("active_users")
        if isinstance(a, int | float):
            active_sum.setdefault((i, str(row.get("source", "local"))), []).append(float(a))
    active = np.full(n_win, np.nan)
    for (i, _src), vals in active_sum.items():
        mean = sum(vals) / len(vals)
        active[i] = mean if not np.isfinite(active[i]) else active[i] + mean
    return offered, active, cpu


def _breaches(
    groups: dict[str, dict[str, Any]], slos: Sequence[Slo], n_win: int, min_samples: int
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for slo in slos:
        names = [g for g in groups if g != ALL_GROUPS] if slo.group == ALL_GROUPS else [slo.group]
        mask = np.zeros(n_win, dtype=bool)
        for g in names:
            cols = groups.get(g)
            if cols is None:
                continue
            values = kind_of(slo).series(slo, cols)
            if values is None:
                continue
            with np.errstate(invalid="ignore"):
                mask |= (cols["count"] >= min_samples) & breaks(slo, values)
        out[str(slo)] = mask
    return out
