"""Measuring levels: chunked passes over a run's records for a set of non-overlapping windows.

Per level and group: outcomes and exact latency and service-time percentiles; per level: sends,
late sends, answers ending in it, the exact sum of latencies, send lags, websocket gaps and
offered users; per whole second of a failing level: when each breach began. Every pass reads
only the blocks that can touch its windows, and each level reads only its own timeline rows.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

import numpy as np

from surgeproof.analysis.causes import has_latency, is_answered
from surgeproof.analysis.generator import GeneratorTolerance, health_of
from surgeproof.analysis.groupstats import ALL_GROUPS, N_OUTCOMES, GroupStats, KeyedStats
from surgeproof.analysis.keyed import exact_store
from surgeproof.analysis.level_verdict import LevelMeasure, LevelSpec
from surgeproof.analysis.pass_wire import travels
from surgeproof.analysis.percentiles import PERCENTILE_KEYS, QS
from surgeproof.analysis.samples import Samples, rows_where
from surgeproof.analysis.scan import Census, RecordScan
from surgeproof.analysis.shards import RecordPass
from surgeproof.analysis.slo import SloBreach
from surgeproof.rundir.schema import Kind, Outcome
from surgeproof.scenario.slos import kind_of

NS = 1_000_000_000


class TimelineRows:
    """Timeline rows found by window: a level reads its own rows, not the whole timeline
    (a step search of a night has hundreds of levels over ten thousand seconds)."""

    def __init__(self, timeline: Sequence[dict[str, Any]]) -> None:
        self.timeline = timeline
        timed = sorted(
            (t, i) for i, row in enumerate(timeline) if isinstance(t := row.get("t_ns"), int)
        )
        self.times = [t for t, _ in timed]
        self.order = [i for _, i in timed]

    def within(self, start_ns: int, end_ns: int) -> list[dict[str, Any]]:
        """Rows with an integer ``t_ns`` in ``[start_ns, end_ns)``, in file order."""
        lo, hi = bisect_left(self.times, start_ns), bisect_left(self.times, end_ns)
        return [self.timeline[i] for i in sorted(self.order[lo:hi])]


@travels
class LevelWindows:
    """Which of a set of sorted, non-overlapping windows holds each time (-1: none)."""

    def __init__(self, specs: Sequence[LevelSpec]) -> None:
        self.starts = np.array([s.start_ns for s in specs], dtype=np.int64)
        self.ends = np.array([s.end_ns for s in specs], dtype=np.int64)
        self.span = (int(self.starts.min()), int(self.ends.max()))

    def __len__(self) -> int:
        return len(self.starts)

    def of(self, t: np.ndarray) -> np.ndarray:
        if len(t):
            # Records come roughly in time order, so most chunks lie inside one window or
            # between two: two reductions answer for the whole chunk, no search per row.
            lo, hi = int(t.min()), int(t.max())
            i_lo, i_hi = (np.searchsorted(self.starts, [lo, hi], side="right") - 1).tolist()
            if i_lo == i_hi:
                if i_lo >= 0 and hi < self.ends[i_lo]:
                    return np.full(len(t), i_lo, dtype=np.intp)
                if i_lo < 0 or lo >= self.ends[i_lo]:
                    return np.full(len(t), -1, dtype=np.intp)
        i = np.searchsorted(self.starts, t, side="right") - 1
        inside = (i >= 0) & (t < self.ends[np.maximum(i, 0)])
        return np.where(inside, i, -1)


def measure_levels(
    scan: RecordScan,
    census: Census,
    specs: Sequence[LevelSpec],
    timelines: Sequence[Sequence[dict[str, Any]]],
    tol: GeneratorTolerance,
) -> list[LevelMeasure]:
    """Each window's measures; ``timelines``: each window's own timeline rows."""
    win = LevelWindows(specs)
    n, n_groups = len(win), max(len(scan.groups), 1)
    p = scan.run(LevelPass(scan, census, win, n_groups, tol.late_ms))
    stats = p.stats
    per_key = stats.results()
    tally = stats.tally.reshape(n, n_groups, N_OUTCOMES).sum(axis=1)
    stats.coarsen()
    per_level = stats.results()
    stats.release()
    need_users = any(s.target_users is None for s in specs)
    lags, gaps, users = _level_samples(scan, census, win, need_users)

    by_level: dict[int, dict[str, GroupStats]] = {}
    for k, v in per_key.items():  # keys ascend: groups keep their order within a level
        by_level.setdefault(k // n_groups, {})[scan.groups[k % n_groups]] = v
    out = []
    for i, spec in enumerate(specs):
        groups = by_level.get(i, {})
        if groups:
            groups[ALL_GROUPS] = per_level[i]
        t = tally[i]
        health = health_of(
            intended=int(t.sum() - t[Outcome.CANCELLED]),
            late=int(p.late[i]),
            missed=int(t[Outcome.MISSED]),
            send_lag_ms=lags.get(i, dict.fromkeys(PERCENTILE_KEYS)),
            timeline=timelines[i],
            start_ns=spec.start_ns,
            end_ns=spec.end_ns,
            tol=tol,
        )
        out.append(
            LevelMeasure(
                records=int(t.sum()),
                intended=int(t.sum() - t[Outcome.CANCELLED]),
                sent=int(p.sent[i]),
                answered=int(p.answered[i]),
                ok=int(p.ok[i]),
                groups=groups,
                health=health,
                median_users=users.get(i, 0.0),
                ws_gap_ms=gaps.get(i),
                calls=int(t.sum() - t[Outcome.CANCELLED] - t[Outcome.MISSED]),
                mean_latency_ms=p.latency_sums.mean_ms(i),
            )
        )
    return out


def _share(scan: RecordScan, census: Census, count: int, within: tuple[int, int]) -> int:
    """About how many of ``count`` run-wide samples a pass over ``within`` meets."""
    total = max(census.total, 1)
    return min(count, -(-count * scan.records_within(within) // total))


class _WindowPass(RecordPass):
    """A pass about the windows of ``win``: later rounds read only the current slab's levels."""

    win: LevelWindows

    def round_within(self) -> tuple[int, int] | None:
        spans = [st.slab_top_keys() for st in self.stores() if st.pending]
        spans = [sp for sp in spans if sp is not None]
        if not spans:
            return self.within
        lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
        return self._keys_span(lo, hi)

    def _keys_span(self, lo: int, hi: int) -> tuple[int, int]:
        return int(self.win.starts[lo]), int(self.win.ends[hi - 1])


class LevelPass(_WindowPass):
    """Per level and group: outcomes and exact percentiles; per level: sends, late sends,
    answers ending in it, and the exact sum of latencies (Little's law needs the mean)."""

    accumulators = ("sent", "late", "answered", "ok", "latency_sums")
    parts = ("stats",)

    def __init__(
        self, scan: RecordScan, census: Census, win: LevelWindows, n_groups: int, late_ms: float
    ) -> None:
        self.win, self.n_groups, self.late_ms = win, n_groups, late_ms
        self.within = win.span
        n = len(win)
        self.stats = KeyedStats(
            n * n_groups,
            census.counted,
            (census.latency, census.service),
            coarser=[(np.arange(n * n_groups, dtype=np.int64) // n_groups, n)],
            estimate=_share(scan, census, census.counted, win.span),
            execution=scan.execution,
        )
        self.lat_lo = census.latency[0]
        self.start()

    def start(self) -> None:
        n = len(self.win)
        self.sent = np.zeros(n, dtype=np.int64)
        self.late = np.zeros(n, dtype=np.int64)
        self.answered = np.zeros(n, dtype=np.int64)
        self.ok = np.zeros(n, dtype=np.int64)
        self.latency_sums = ExactSums(n, self.lat_lo)

    def feed(self, s: Samples, first: bool) -> None:
        n, n_groups = len(self.win), self.n_groups
        li = self.win.of(s.intended_ns)
        req = s.kind != Kind.WS_GAP
        inside = req & (li >= 0)
        keys = np.where(inside, li * n_groups + s.group, -1)
        self.stats.add(s, keys, tally=first, gaps_keyed=False)
        if not first:
            return
        # Rows outside every window or without a latency are left out.
        k_li, k_end, k_int = rows_where(
            inside & has_latency(s.outcome), li, s.end_ns, s.intended_ns
        )
        self.latency_sums.add(k_li, k_end - k_int)
        rs_li, rs_sent, rs_int = rows_where(inside & (s.sent_ns > 0), li, s.sent_ns, s.intended_ns)
        self.sent += np.bincount(rs_li, minlength=n)
        lag_ms = (rs_sent - rs_int) / 1e6
        self.late += np.bincount(rs_li[lag_ms > self.late_ms], minlength=n)
        ans = req & is_answered(s.outcome)
        le = self.win.of(s.end_ns[ans])
        hit = le >= 0
        self.answered += np.bincount(le[hit], minlength=n)
        self.ok += np.bincount(le[hit & (s.outcome[ans] == Outcome.OK)], minlength=n)

    def merge_tallies(self, other: LevelPass) -> None:
        for name in ("sent", "late", "answered", "ok"):
            getattr(self, name)[:] += getattr(other, name)
        self.latency_sums.merge(other.latency_sums)


@travels
class ExactSums:
    """Per key, the exact integer sum of values and their count (for means that do not depend
    on how the records were chunked or split across processes)."""

    #: Bits per limb when a chunk's sums could pass 2**53 (where float64 stops being exact).
    LIMB = 21
    #: Sums are moved to Python integers before an int64 could overflow.
    CARRY = 1 << 61

    def __init__(self, n_keys: int, lo: int) -> None:
        self.lo = int(lo)
        self.n = np.zeros(n_keys, dtype=np.int64)
        self.acc = np.zeros(n_keys, dtype=np.int64)
        self.big = [0] * n_keys

    def add(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Add ``values`` (each at least ``lo``) under ``keys``."""
        if not len(keys):
            return
        n = len(self.n)
        self.n += np.bincount(keys, minlength=n)
        u = np.asarray(values, dtype=np.int64) - self.lo
        if int(u.max()) * len(u) < 1 << 53:  # every partial sum is exact in float64
            self.acc += np.bincount(keys, weights=u, minlength=n).astype(np.int64)
        else:
            u = u.view(np.uint64)
            mask = np.uint64((1 << self.LIMB) - 1)
            for j in range(3):
                limb = np.right_shift(u, np.uint64(self.LIMB * j))
                limb = limb & mask if j < 2 else limb
                part = np.bincount(keys, weights=limb, minlength=n).astype(np.int64)
                for k in np.flatnonzero(part).tolist():
                    self.big[k] += int(part[k]) << (self.LIMB * j)
        if int(self.acc.max()) > self.CARRY:
            for k in np.flatnonzero(self.acc).tolist():
                self.big[k] += int(self.acc[k])
            self.acc[:] = 0

    def merge(self, other: ExactSums) -> None:
        self.n += other.n
        for k in range(len(self.n)):
            self.big[k] += other.big[k] + int(other.acc[k])

    def mean_ms(self, key: int) -> float | None:
        """The mean of the key's values (ns) in ms, correctly rounded; None without values."""
        n = int(self.n[key])
        if not n:
            return None
        total = self.big[key] + int(self.acc[key]) + n * self.lo
        return total / n / 1e6


def _level_samples(
    scan: RecordScan, census: Census, win: LevelWindows, need_users: bool
) -> tuple[dict[int, dict], dict[int, dict], dict[int, float]]:
    """Per window: send-lag percentiles, websocket-gap percentiles, median offered users."""
    p = scan.run(LevelSamplesPass(scan, census, win, need_users))
    lags = _percentile_rows(p.lag, QS)
    gaps = _percentile_rows(p.gap, QS)
    users = {k: v["p50"] for k, v in _percentile_rows(p.conc, (50.0,), ("p50",)).items()}
    return lags, gaps, users


class LevelSamplesPass(_WindowPass):
    """Per level: send lags, websocket gaps and (when a level has no target) offered users."""

    parts = ("lag", "gap", "conc")

    def __init__(
        self, scan: RecordScan, census: Census, win: LevelWindows, need_users: bool
    ) -> None:
        self.win, self.need_users = win, need_users
        self.within = win.span
        n = len(win)
        exe = scan.execution

        def store(count: int, bounds: tuple[int, int], **kw: Any) -> Any:
            estimate = _share(scan, census, count, win.span)
            return exact_store(count, estimate, n, *bounds, execution=exe, stores=3, **kw)

        self.lag = store(census.sent, census.lag)
        self.gap = store(census.gaps, census.gap)
        users = census.total if need_users else 0
        self.conc = store(users, census.concurrency, scale=None, qs=(50.0,))

    def feed(self, s: Samples, first: bool) -> None:
        li = self.win.of(s.intended_ns)
        req = s.kind != Kind.WS_GAP
        rs = req & (li >= 0) & (s.sent_ns > 0)
        self.lag.add(li[rs], s.sent_ns[rs] - s.intended_ns[rs])
        gs = ~req & (li >= 0)
        self.gap.add(li[gs], s.end_ns[gs] - s.sent_ns[gs])
        if self.need_users:
            rq = req & (li >= 0)
            self.conc.add(li[rq], s.concurrency[rq])


def _percentile_rows(
    store: Any, qs: tuple[float, ...], names: tuple[str, ...] = PERCENTILE_KEYS
) -> dict[int, dict[str, float]]:
    keys, _, table = store.table(qs)
    store.release()
    return {
        int(k): {q: float(v) for q, v in zip(names, row, strict=True)}
        for k, row in zip(keys, table, strict=True)
    }


def first_breach_seconds(
    scan: RecordScan,
    census: Census,
    specs: Sequence[LevelSpec],
    failing: Sequence[tuple[int, LevelMeasure]],
) -> None:
    """Set each breach's ``first_s``: the first whole second of its window in which it broke."""
    win = LevelWindows(specs)
    n_groups = max(len(scan.groups), 1)
    p = scan.run(BreachSecondsPass(scan, census, win, n_groups))
    per_key = p.stats.results()
    p.stats.release()
    secs, offset = p.secs, p.offset
    for w, (_, m) in enumerate(failing):
        timed = []
        for b in m.breaches:
            first = None
            kind = kind_of(b.slo)
            if b.group in scan.groups:
                g = scan.groups.index(b.group)
                for sec in range(secs[w]):
                    st = per_key.get(int((offset[w] + sec) * n_groups + g))
                    value = kind.value(b.slo, st) if st is not None and st.count else None
                    if value is not None and kind.breaks(b.slo, value):
                        first = float(sec)
                        break
            timed.append(SloBreach(b.slo, b.group, b.value, first))
        m.breaches = timed


class BreachSecondsPass(_WindowPass):
    """Per whole second of each window and group: outcomes and exact latency percentiles."""

    parts = ("stats",)

    def __init__(self, scan: RecordScan, census: Census, win: LevelWindows, n_groups: int) -> None:
        self.win, self.n_groups = win, n_groups
        self.within = win.span
        self.secs = [
            max(1, -(-(int(e) - int(s)) // NS)) for s, e in zip(win.starts, win.ends, strict=True)
        ]
        self.offset = np.concatenate(([0], np.cumsum(self.secs))).astype(np.int64)
        self.stats = KeyedStats(
            int(self.offset[-1]) * n_groups,
            census.counted,
            (census.latency, census.service),
            service=False,
            estimate=_share(scan, census, census.counted, win.span),
            execution=scan.execution,
        )

    def feed(self, s: Samples, first: bool) -> None:
        li = self.win.of(s.intended_ns)
        inside = li >= 0
        at = np.maximum(li, 0)
        sec = (s.intended_ns - self.win.starts[at]) // NS
        keys = (self.offset[at] + sec) * self.n_groups + s.group
        self.stats.add(s, np.where(inside, keys, -1), tally=first)

    def _keys_span(self, lo: int, hi: int) -> tuple[int, int]:
        # Keys are (second of a window, group): the slab's seconds, as times.
        first, last = lo // self.n_groups, (hi - 1) // self.n_groups
        w0 = int(np.searchsorted(self.offset, first, side="right")) - 1
        w1 = int(np.searchsorted(self.offset, last, side="right")) - 1
        t0 = int(self.win.starts[w0]) + (first - int(self.offset[w0])) * NS
        t1 = int(self.win.starts[w1]) + (last - int(self.offset[w1]) + 1) * NS
        return t0, min(t1, int(self.win.ends[w1]))
