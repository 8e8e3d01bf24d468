"""Judging one steady-state window (a level): pass, fail, or inconclusive — and why.

The step-to-break search calls :func:`judge_level` between levels on a run that is still being
written; the full analysis judges every ``level`` event the same way with :func:`judge_samples`.
Both apply the shortfall rule (:mod:`surgeproof.analysis.shortfall`): a level during which a
generator worker was lost did not offer the load it says and is inconclusive.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from surgeproof.analysis.causes import has_latency, is_answered
from surgeproof.analysis.generator import GeneratorHealth, GeneratorTolerance, health_of
from surgeproof.analysis.groupstats import (
    ALL_GROUPS,
    N_OUTCOMES,
    AnsweredSeconds,
    GroupStats,
    KeyedStats,
)
from surgeproof.analysis.judging import Judging
from surgeproof.analysis.keyed import exact_store
from surgeproof.analysis.percentiles import PERCENTILE_KEYS, QS
from surgeproof.analysis.samples import Samples
from surgeproof.analysis.scan import Census, RecordScan
from surgeproof.analysis.seconds import answered_seconds, second_bounds
from surgeproof.analysis.shards import RecordPass
from surgeproof.analysis.shortfall import apply_shortfalls, shortfall_windows
from surgeproof.analysis.slo import DEFAULT_SLOS, SloBreach, evaluate
from surgeproof.rundir.reader import (
    BLOCK_RECORDS,
    JsonlIndex,
    RecordSources,
    open_record_sources,
    read_events,
    read_meta,
)
from surgeproof.rundir.schema import FLAG_CLOSED_MODEL, TIMELINE, Kind, Outcome
from surgeproof.scenario.model import Slo
from surgeproof.scenario.slos import kind_of

Verdict = Literal["pass", "fail", "inconclusive"]

NS = 1_000_000_000


@dataclass
class LevelVerdict:
    """The judgement of one steady-state window, with the numbers behind it."""

    verdict: Verdict
    reasons: list[str]
    start_ns: int
    end_ns: int
    offered_users: float
    offered_rps: float
    sent_rps: float
    achieved_rps: float
    ok_rps: float
    records: int
    groups: dict[str, GroupStats]
    generator: GeneratorHealth
    breaches: list[SloBreach] = field(default_factory=list)
    unjudged: list[str] = field(default_factory=list)
    saturated: bool = False
    label: str | None = None
    active_users: float | None = None
    ws_gap_ms: dict[str, float | None] | None = None
    #: Generator sources whose users or records were missing from part of the window (a lost
    #: worker; in a running run also a worker whose records have not arrived): inconclusive.
    short_of: list[str] = field(default_factory=list)
    #: Calls the window counted (any outcome but missed and cancelled: answered, failed, timed
    #: out, backlogged): what its users asked the target for.
    calls: int = 0
    #: Mean latency (ms) of the window's calls that have one (Little's law needs the mean).
    mean_latency_ms: float | None = None
    #: The window was shorter, or held fewer calls, than a verdict needs (``Judging``).
    too_short: bool = False
    #: What the saturation rule measured (``saturation.Saturation.to_dict``), once settled.
    saturation: dict[str, Any] | None = None

    @property
    def asked_rps(self) -> float:
        """Calls the users asked the target for, per second of the window."""
        return self.calls / max(self.duration_s, 1e-9)

    @property
    def per_user_rps(self) -> float | None:
        """Achieved throughput per offered user."""
        return self.achieved_rps / self.offered_users if self.offered_users > 0 else None

    @property
    def duration_s(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9

    def to_dict(self, t0_ns: int | None = None) -> dict[str, Any]:
        """The ``levels`` entry of analysis.json."""
        return {
            "label": self.label,
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "t_start_s": (self.start_ns - t0_ns) / 1e9 if t0_ns is not None else None,
            "duration_s": self.duration_s,
            "target_users": self.offered_users,
            "offered_users": self.offered_users,
            "active_users": self.active_users,
            "offered_rps": self.offered_rps,
            "sent_rps": self.sent_rps,
            "achieved_rps": self.achieved_rps,
            "ok_rps": self.ok_rps,
            "records": self.records,
            "calls": self.calls,
            "asked_rps": self.asked_rps,
            "mean_latency_ms": self.mean_latency_ms,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "breaches": [b.to_dict() for b in self.breaches],
            "unjudged": list(self.unjudged),
            "saturated": self.saturated,
            "saturation": self.saturation,
            "too_short": self.too_short,
            "groups": {g: st.to_dict() for g, st in self.groups.items()},
            "ws_gap_ms": self.ws_gap_ms,
            "short_of": list(self.short_of),
            "generator": self.generator.to_dict(),
        }


@dataclass(frozen=True)
class LevelSpec:
    """A steady-state window to judge: ``[start_ns, end_ns)`` by intended send time."""

    start_ns: int
    end_ns: int
    target_users: float | None = None
    label: str | None = None


def judge_level(
    run_dir: str | Path,
    start_ns: int,
    end_ns: int,
    slos: Sequence[Slo],
    *,
    target_users: float | None = None,
    label: str | None = None,
    tolerance: GeneratorTolerance | None = None,
    judging: Judging | None = None,
    earlier: Sequence[LevelVerdict] = (),
    index: RunIndex | None = None,
) -> LevelVerdict:
    """Judge the steady-state window ``[start_ns, end_ns)`` of a (possibly running) run.

    By the same rules as the full analysis (:func:`surgeproof.analysis.saturation.settle`):
    ``earlier`` = the levels judged before in this run (the saturation rule compares with the
    lowest-load level and the highest throughput among them and this one). A window overlapping
    a lost worker's shortfall (run.json ``workers.lost``, else the ``worker_lost``/``rebalanced``
    events a running run appends) is inconclusive, naming it.

    Only the records that can fall in the window are read (the reader's block index), so a
    level costs its own records, not the run's. ``index``, kept by the caller between levels
    (the step search's judge), indexes only what was appended since the last call.
    """
    from surgeproof.analysis.saturation import settle

    run_dir = Path(run_dir)
    index = index if index is not None else RunIndex()
    meta = read_meta(run_dir)
    events, _ = read_events(run_dir)
    shortfalls = shortfall_windows(meta, events)
    # Only a run still being written can lack the window's data; a finished one has all it has.
    running = meta.get("status") == "running"
    spec = LevelSpec(int(start_ns), int(end_ns), target_users, label)
    opened = index.records(run_dir)
    timeline = index.timeline(run_dir, spec.start_ns, spec.end_ns)
    scan = RecordScan.of_sources(opened).restricted((spec.start_ns, spec.end_ns))
    judging = judging or Judging()
    [verdict] = judge_levels(
        scan,
        [spec],
        timeline,
        slos,
        tolerance=tolerance,
        judging=judging,
        check_fresh=running,
        lost_sources={w.source for w in shortfalls},
    )
    apply_shortfalls([verdict], shortfalls, _t0_of(meta, events, int(start_ns)))
    closed = meta.get("load_model") == "closed" or bool(opened.any_flags() & FLAG_CLOSED_MODEL)
    settle([verdict], judging, closed_model=closed, earlier=earlier)
    return verdict


class RunIndex:
    """What a live judge keeps between levels of a run being written: the records' block
    index and the timeline's line index, each extended by what was appended since."""

    def __init__(self, block: int = BLOCK_RECORDS) -> None:
        self.block = block
        self.sources: RecordSources | None = None
        self.lines = JsonlIndex(TIMELINE)

    def records(self, run_dir: Path) -> RecordSources:
        """Every source, open, its blocks indexed (only new blocks are read)."""
        self.sources = open_record_sources(run_dir, previous=self.sources, block=self.block)
        return self.sources

    def timeline(self, run_dir: Path, start_ns: int, end_ns: int) -> list[dict[str, Any]]:
        """The timeline rows a window's judgement reads: those inside it, and each source's
        latest (whether its data have been flushed), in file order."""
        return self.lines.rows(run_dir, start_ns, end_ns)


def judge_samples(
    window: Samples,
    timeline: Sequence[dict[str, Any]],
    start_ns: int,
    end_ns: int,
    slos: Sequence[Slo],
    *,
    target_users: float | None = None,
    label: str | None = None,
    tolerance: GeneratorTolerance | None = None,
    judging: Judging | None = None,
    ended: tuple[int, int] | None = None,
    check_fresh: bool = False,
) -> LevelVerdict:
    """Judge records already selected for ``[start_ns, end_ns)`` (``window``), before the
    cross-level saturation rule (see :func:`judge_levels`).

    ``ended`` = (answers, ok answers) whose end falls in the window, when known from the whole
    run; otherwise counted from ``window`` alone.
    """
    spec = LevelSpec(int(start_ns), int(end_ns), target_users, label)
    return judge_levels(
        RecordScan.of(window),
        [spec],
        timeline,
        slos,
        tolerance=tolerance,
        judging=judging,
        check_fresh=check_fresh,
        ended=[ended] if ended is not None else None,
    )[0]


def judge_levels(
    records: Samples | RecordScan,
    specs: Sequence[LevelSpec],
    timeline: Sequence[dict[str, Any]],
    slos: Sequence[Slo],
    *,
    tolerance: GeneratorTolerance | None = None,
    judging: Judging | None = None,
    check_fresh: bool = False,
    ended: Sequence[tuple[int, int]] | None = None,
    lost_sources: Collection[str] = (),
) -> list[LevelVerdict]:
    """Measure and judge every window of ``specs`` in a few chunked passes over ``records``.

    Each level is judged on its own here (minimums, generator, SLOs); the saturation rule, which
    compares levels with one another, is applied afterwards by ``saturation.settle``. Achieved
    throughput counts answers *ending* in a window, whenever they were intended.
    ``lost_sources`` (lost workers, judged by the shortfall rule) are not waited for by
    ``check_fresh``: their timeline ended with them.
    """
    scan = records if isinstance(records, RecordScan) else RecordScan.of(records)
    tol = tolerance or GeneratorTolerance()
    judging = judging or Judging()
    slos = tuple(slos) or DEFAULT_SLOS
    census = scan.census(tol.late_ms)
    out: list[LevelVerdict | None] = [None] * len(specs)
    bounds = second_bounds(slos)
    rows = TimelineRows(timeline)
    for layer in _layers(specs):
        own = {i: rows.within(specs[i].start_ns, specs[i].end_ns) for i in layer}
        measured = _measure(scan, census, [specs[i] for i in layer], [own[i] for i in layer], tol)
        if bounds:
            windows = [(specs[i].start_ns, specs[i].end_ns) for i in layer]
            for m, seconds in zip(measured, answered_seconds(scan, windows, bounds), strict=True):
                for g, st in m.groups.items():
                    st.seconds = seconds.get(g, AnsweredSeconds(0, dict.fromkeys(bounds, 0)))
        for i, m in zip(layer, measured, strict=True):
            if ended is not None:
                m.answered, m.ok = ended[i]
            m.breaches, m.unjudged = evaluate(slos, m.groups, judging)
        failing = [(i, m) for i, m in zip(layer, measured, strict=True) if m.breaches]
        if failing:
            _first_breach_seconds(scan, census, [specs[i] for i, _ in failing], failing)
        for i, m in zip(layer, measured, strict=True):
            out[i] = decide(
                specs[i],
                m,
                slos,
                judging,
                # Whether data are flushed needs every source's latest row; the rest, the
                # window's own rows (a level reads its rows, not the run's).
                timeline=timeline if check_fresh else own[i],
                check_fresh=check_fresh,
                lost_sources=lost_sources,
            )
    return [v for v in out if v is not None]


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


@dataclass
class LevelMeasure:
    """What one window's records showed, before judging (any input: records or Locust CSV)."""

    records: int
    intended: int
    sent: int
    answered: int
    ok: int
    groups: dict[str, GroupStats]
    health: GeneratorHealth
    median_users: float
    ws_gap_ms: dict[str, float | None] | None
    calls: int = 0
    mean_latency_ms: float | None = None
    active_users: float | None = None
    breaches: list[SloBreach] = field(default_factory=list)
    unjudged: list[str] = field(default_factory=list)


def _layers(specs: Sequence[LevelSpec]) -> list[list[int]]:
    """Indices of ``specs`` in sets of non-overlapping windows (usually one set), by start."""
    layers: list[list[int]] = []
    last_end: list[int] = []
    for i in sorted(range(len(specs)), key=lambda i: specs[i].start_ns):
        for j, end in enumerate(last_end):
            if specs[i].start_ns >= end:
                layers[j].append(i)
                last_end[j] = specs[i].end_ns
                break
        else:
            layers.append([i])
            last_end.append(specs[i].end_ns)
    return layers


class _Windows:
    """Which of a set of sorted, non-overlapping windows holds each time (-1: none)."""

    def __init__(self, specs: Sequence[LevelSpec]) -> None:
        self.starts = np.array([s.start_ns for s in specs], dtype=np.int64)
        self.ends = np.array([s.end_ns for s in specs], dtype=np.int64)
        self.span = (int(self.starts.min()), int(self.ends.max()))

    def __len__(self) -> int:
        return len(self.starts)

    def of(self, t: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.starts, t, side="right") - 1
        inside = (i >= 0) & (t < self.ends[np.maximum(i, 0)])
        return np.where(inside, i, -1)


def _measure(
    scan: RecordScan,
    census: Census,
    specs: Sequence[LevelSpec],
    timelines: Sequence[Sequence[dict[str, Any]]],
    tol: GeneratorTolerance,
) -> list[LevelMeasure]:
    """Each window's measures; ``timelines``: each window's own timeline rows."""
    win = _Windows(specs)
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

    win: _Windows

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
        self, scan: RecordScan, census: Census, win: _Windows, n_groups: int, late_ms: float
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
        self.stats.add(s, np.where(req & (li >= 0), li * n_groups + s.group, -1), tally=first)
        if not first:
            return
        # Rows outside every window or without a latency are left out.
        k = req & has_latency(s.outcome) & (li >= 0)
        self.latency_sums.add(li[k], s.end_ns[k] - s.intended_ns[k])
        rs = req & (li >= 0) & (s.sent_ns > 0)
        self.sent += np.bincount(li[rs], minlength=n)
        lag_ms = (s.sent_ns[rs] - s.intended_ns[rs]) / 1e6
        self.late += np.bincount(li[rs][lag_ms > self.late_ms], minlength=n)
        ans = req & is_answered(s.outcome)
        le = self.win.of(s.end_ns[ans])
        hit = le >= 0
        self.answered += np.bincount(le[hit], minlength=n)
        self.ok += np.bincount(le[hit & (s.outcome[ans] == Outcome.OK)], minlength=n)

    def merge_tallies(self, other: LevelPass) -> None:
        for name in ("sent", "late", "answered", "ok"):
            getattr(self, name)[:] += getattr(other, name)
        self.latency_sums.merge(other.latency_sums)


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
    scan: RecordScan, census: Census, win: _Windows, need_users: bool
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

    def __init__(self, scan: RecordScan, census: Census, win: _Windows, need_users: bool) -> None:
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


def _first_breach_seconds(
    scan: RecordScan,
    census: Census,
    specs: Sequence[LevelSpec],
    failing: Sequence[tuple[int, LevelMeasure]],
) -> None:
    """Set each breach's ``first_s``: the first whole second of its window in which it broke."""
    win = _Windows(specs)
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

    def __init__(self, scan: RecordScan, census: Census, win: _Windows, n_groups: int) -> None:
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


def decide(
    spec: LevelSpec,
    m: LevelMeasure,
    slos: Sequence[Slo],
    judging: Judging,
    *,
    timeline: Sequence[dict[str, Any]] = (),
    check_fresh: bool = False,
    lost_sources: Collection[str] = (),
) -> LevelVerdict:
    """One window's own verdict: no data, not flushed, too short, generator-bound, SLOs broken.

    Whether the target kept up (saturation) needs the other levels too and is settled after
    all of them (``saturation.settle``), which also applies the minimum number of calls.
    """
    start_ns, end_ns = spec.start_ns, spec.end_ns
    duration = max((end_ns - start_ns) / 1e9, 1e-9)
    offered_users = (
        float(spec.target_users) if spec.target_users is not None else float(m.median_users)
    )
    health = m.health
    verdict = LevelVerdict(
        verdict="pass",
        reasons=[],
        start_ns=int(start_ns),
        end_ns=int(end_ns),
        offered_users=offered_users,
        offered_rps=m.intended / duration,
        sent_rps=m.sent / duration,
        achieved_rps=m.answered / duration,
        ok_rps=m.ok / duration,
        records=m.records,
        groups=m.groups,
        generator=health,
        label=spec.label,
        active_users=(
            m.active_users
            if m.active_users is not None
            else _mean_active(timeline, start_ns, end_ns)
        ),
        ws_gap_ms=m.ws_gap_ms,
        calls=m.calls,
        mean_latency_ms=m.mean_latency_ms,
    )
    verdict.breaches = sorted(m.breaches, key=_breach_order)
    verdict.unjudged = m.unjudged
    if m.intended == 0:
        verdict.verdict = "inconclusive"
        verdict.reasons.append("no records in the window")
        return verdict
    if check_fresh:
        stale = [src for src in _stale_sources(timeline, end_ns) if src not in lost_sources]
        if stale:
            verdict.verdict = "inconclusive"
            verdict.short_of = stale
            verdict.reasons.append(
                "data not yet flushed: the timeline of "
                + ", ".join(stale)
                + " ends before the window does (still running, or the worker was lost)"
            )
            return verdict
    failures = [b.describe() for b in verdict.breaches]
    if not judging.long_enough(duration):
        verdict.verdict = "inconclusive"
        verdict.too_short = True
        verdict.reasons.append(too_short_reason(duration, m.calls, judging))
        if failures:
            verdict.reasons.append("not counted: " + "; ".join(failures))
        return verdict
    if health.bound:
        verdict.verdict = "inconclusive"
        verdict.reasons.extend(health.reasons)
        verdict.reasons.append("the generator was the bottleneck: this level proves nothing")
        if failures:
            verdict.reasons.append("not counted: " + "; ".join(failures))
        return verdict
    if failures:
        verdict.verdict = "fail"
        verdict.reasons.extend(failures)
        return verdict
    judgeable = _judgeable(slos, m.groups)
    if judgeable and len(verdict.unjudged) >= len(judgeable):
        verdict.verdict = "inconclusive"
        verdict.reasons.append("too few samples to judge any SLO: " + "; ".join(verdict.unjudged))
        return verdict
    verdict.reasons.append(f"held every SLO at {offered_users:g} users")
    return verdict


def too_short_reason(duration_s: float, calls: int, judging: Judging) -> str:
    """``inconclusive: too short: 0.25 s window with 14 calls (a verdict needs at least ...)``."""
    return (
        f"inconclusive: too short: a {duration_s:.3g} s window with {calls:,} calls (a verdict "
        f"needs at least {judging.min_window_s:g} s and {judging.min_calls:,} calls)"
    )


def _breach_order(b: SloBreach) -> tuple[float, float]:
    """Earliest first; among simultaneous breaches, the one furthest past its limit."""
    first = b.first_s if b.first_s is not None else float("inf")
    return (first, -kind_of(b.slo).excess(b.slo, b.value))


def _judgeable(slos: Sequence[Slo], stats: dict[str, GroupStats]) -> list[tuple[Slo, str]]:
    from surgeproof.analysis.slo import groups_of

    return [(slo, g) for slo in slos for g in groups_of(slo, stats)]


def _stale_sources(timeline: Sequence[dict[str, Any]], end_ns: int) -> list[str]:
    latest: dict[str, int] = {}
    for row in timeline:
        t = row.get("t_ns")
        if isinstance(t, int):
            src = str(row.get("source", "local"))
            latest[src] = max(latest.get(src, t), t)
    return sorted(src for src, t in latest.items() if t < end_ns)


def _t0_of(meta: dict[str, Any], events: Sequence[dict[str, Any]], fallback: int) -> int:
    """The run's time zero (run.json ``t0_ns``, else its ``run_start`` event) for reasons' t=."""
    t0 = meta.get("t0_ns")
    if isinstance(t0, int) and not isinstance(t0, bool) and t0 > 0:
        return t0
    start = next((e.get("t_ns") for e in events if e.get("type") == "run_start"), None)
    return start if isinstance(start, int) and not isinstance(start, bool) else fallback


def _mean_active(timeline: Sequence[dict[str, Any]], start_ns: int, end_ns: int) -> float | None:
    """Mean over the window's seconds of the sum across sources of ``active_users``."""
    per_second: dict[int, float] = {}
    for row in timeline:
        t = row.get("t_ns")
        a = row.get("active_users")
        if isinstance(t, int) and start_ns <= t < end_ns and isinstance(a, int | float):
            sec = (t - start_ns) // 1_000_000_000
            per_second[sec] = per_second.get(sec, 0.0) + float(a)
    return float(np.mean(list(per_second.values()))) if per_second else None
