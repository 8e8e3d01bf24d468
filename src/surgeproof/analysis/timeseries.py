"""Per-window series: offered vs active users, offered vs achieved rate, errors by cause, and
exact latency percentiles per group — one sort for all windows, never an average of percentiles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from surgeproof.analysis.causes import CAUSES, is_answered, is_capacity_error
from surgeproof.analysis.groupstats import ALL_GROUPS, latency_ms
from surgeproof.analysis.percentiles import PERCENTILE_KEYS, grouped_percentiles
from surgeproof.analysis.samples import Samples
from surgeproof.rundir.schema import Kind, Outcome
from surgeproof.scenario.model import Slo

#: A group needs this many samples in one window before its SLOs are judged in that window.
WINDOW_MIN_SAMPLES = 5


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

    def __len__(self) -> int:
        return len(self.start_ns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_s": self.window_s,
            "t_s": [round(float(t), 9) for t in (self.start_ns - self.t0_ns) / 1e9],
            "start_ns": [int(t) for t in self.start_ns],
            "offered_users": _col(self.offered_users),
            "active_users": _col(self.active_users),
            "offered_rps": _col(self.offered_rps),
            "achieved_rps": _col(self.achieved_rps),
            "ok_rps": _col(self.ok_rps),
            "error_ratio": _col(self.error_ratio),
            "errors": {k: [int(v) for v in arr] for k, arr in self.errors.items()},
            "cpu_max_percent": _col(self.cpu_max),
            "breach": [bool(b) for b in self.breach],
            "groups": {
                g: {
                    k: ([int(v) for v in arr] if k == "count" else _col(arr))
                    for k, arr in cols.items()
                }
                for g, cols in self.groups.items()
            },
        }


def _col(arr: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in arr.tolist()]


def build_series(
    s: Samples,
    timeline: Sequence[dict[str, Any]],
    t0_ns: int,
    window_s: float,
    slos: Sequence[Slo],
) -> Series:
    """Bin records by intended time (answers by end time) into windows of ``window_s``."""
    wns = round(window_s * 1e9)
    req = s.kind != Kind.WS_GAP
    last = [int(s.intended_ns.max())] if len(s) else []
    last += [int(s.end_ns[s.end_ns > 0].max())] if np.any(s.end_ns > 0) else []
    last += [int(r["t_ns"]) for r in timeline[-1:] if isinstance(r.get("t_ns"), int)]
    n_win = max(0, (max(last) - t0_ns) // wns + 1) if last else 0
    w = np.clip((s.intended_ns - t0_ns) // wns, 0, max(n_win - 1, 0))
    counted = s.counted()
    offered = np.bincount(w[req & (s.outcome != Outcome.CANCELLED)], minlength=n_win)
    answered = req & is_answered(s.outcome) & (s.end_ns > 0)
    we = np.clip((s.end_ns[answered] - t0_ns) // wns, 0, max(n_win - 1, 0))
    achieved = np.bincount(we, minlength=n_win)
    ok_mask = s.outcome[answered] == Outcome.OK
    ok = np.bincount(we[ok_mask], minlength=n_win)
    count = np.bincount(w[counted], minlength=n_win)
    bad = np.bincount(w[counted & is_capacity_error(s.outcome)], minlength=n_win)
    by_cause = np.bincount(
        w[req] * 16 + s.outcome[req].astype(np.int64), minlength=n_win * 16
    ).reshape(n_win, 16)
    errors = {c: by_cause[:, Outcome[c.upper()]].copy() for c in CAUSES}
    with np.errstate(invalid="ignore", divide="ignore"):
        error_ratio = np.where(count > 0, bad / np.maximum(count, 1), np.nan)

    groups = _group_columns(s, w, counted, n_win)
    offered_users, active, cpu = _timeline_columns(timeline, t0_ns, wns, n_win)
    if not np.isfinite(offered_users).any() and len(s):
        conc = np.full(n_win, np.nan)
        np.fmax.at(conc, w[req], s.concurrency[req].astype(float))
        offered_users = conc
    broken = _breaches(groups, slos, n_win)
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
    )


def _group_columns(
    s: Samples, w: np.ndarray, counted: np.ndarray, n_win: int
) -> dict[str, dict[str, np.ndarray]]:
    lat = latency_ms(s)[counted]
    wc = w[counted]
    gc = s.group[counted].astype(np.int64)
    n_groups = len(s.groups)
    bad = is_capacity_error(s.outcome[counted])
    out: dict[str, dict[str, np.ndarray]] = {}
    # One pass for every group (key = window·G + group), one for all groups together.
    passes = [(wc * n_groups + gc, n_groups, list(range(n_groups))), (wc, 1, [None])]
    for keys, stride, members in passes:
        ukeys, counts, table = grouped_percentiles(lat, keys)
        bad_per_key = np.bincount(keys[bad], minlength=n_win * stride)
        for idx in members:
            name = ALL_GROUPS if idx is None else s.groups[idx]
            sel = ukeys % stride == (0 if idx is None else idx)
            if not sel.any():
                continue
            win = ukeys[sel] // stride
            cols: dict[str, np.ndarray] = {"count": np.zeros(n_win, dtype=np.int64)}
            cols["count"][win] = counts[sel]
            ratio = np.full(n_win, np.nan)
            k = win * stride + (0 if idx is None else idx)
            ratio[win] = bad_per_key[k] / counts[sel]
            cols["error_ratio"] = ratio
            for j, key in enumerate(PERCENTILE_KEYS):
                col = np.full(n_win, np.nan)
                col[win] = table[sel, j]
                cols[f"{key}_ms"] = col
            out[name] = cols
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
    groups: dict[str, dict[str, np.ndarray]], slos: Sequence[Slo], n_win: int
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for slo in slos:
        names = [g for g in groups if g != ALL_GROUPS] if slo.group == ALL_GROUPS else [slo.group]
        mask = np.zeros(n_win, dtype=bool)
        for g in names:
            cols = groups.get(g)
            if cols is None:
                continue
            key = "error_ratio" if slo.metric == "error_ratio" else f"{slo.metric}_ms"
            values = cols[key]
            with np.errstate(invalid="ignore"):
                mask |= (cols["count"] >= WINDOW_MIN_SAMPLES) & (values > slo.limit)
        out[str(slo)] = mask
    return out
