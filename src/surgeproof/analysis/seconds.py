"""Answered seconds: per window and group, the seconds that had calls and, of those, the seconds
in which every call was answered within a latency bound without a capacity error.

SLO kinds that judge second by second read these figures (``GroupStats.seconds``; the kinds say
which bounds with ``second_bounds``); they are computed only for the bounds some SLO asks for,
so an analysis without such an SLO neither pays for nor writes them. Seconds are whole seconds
from each window's start by intended send time (the last may be partial); calls are counted as
in ``count`` (missed and cancelled calls and websocket gaps are not calls); a capacity error is
one of the causes ``error_ratio`` counts; a call without a latency (backlogged) is one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from surgeproof.analysis.causes import has_latency, is_capacity_error
from surgeproof.analysis.groupstats import ALL_GROUPS, AnsweredSeconds
from surgeproof.analysis.samples import Samples
from surgeproof.analysis.scan import RecordScan
from surgeproof.analysis.shards import RecordPass
from surgeproof.rundir.schema import Kind, Outcome
from surgeproof.scenario.model import Slo
from surgeproof.scenario.slos import kind_of

NS = 1_000_000_000


def second_bounds(slos: Iterable[Slo]) -> tuple[float, ...]:
    """Every latency bound (ms) the kinds of ``slos`` read answered seconds for, sorted."""
    return tuple(sorted({b for slo in slos for b in kind_of(slo).second_bounds(slo)}))


def answered_seconds(
    scan: RecordScan, windows: Sequence[tuple[int, int]], bounds: Sequence[float]
) -> list[dict[str, AnsweredSeconds]]:
    """Per window ``[start_ns, end_ns)`` (sorted, not overlapping): AnsweredSeconds by group and
    for ``*`` (a second in which any group had calls; up when every call of every group was)."""
    if not windows:
        return []
    n_groups = max(len(scan.groups), 1)
    p = scan.run(SecondsPass(windows, n_groups, bounds))
    return p.results(scan.groups, bounds)


class SecondsPass(RecordPass):
    """Per second of each window and group (and all groups): calls, capacity errors, and calls
    slower than each bound."""

    accumulators = ("calls", "bad", "slow")

    def __init__(
        self, windows: Sequence[tuple[int, int]], n_groups: int, bounds: Sequence[float]
    ) -> None:
        self.starts = np.array([a for a, _ in windows], dtype=np.int64)
        self.ends = np.array([b for _, b in windows], dtype=np.int64)
        self.secs = np.maximum(1, -(-(self.ends - self.starts) // NS))
        self.offset = np.concatenate(([0], np.cumsum(self.secs))).astype(np.int64)
        self.slots = n_groups + 1  # the last slot of a second holds every group together
        self.bounds_ns = np.array([round(b * 1e6) for b in bounds], dtype=np.int64)
        self.within = (int(self.starts.min()), int(self.ends.max()))
        self.start()

    def start(self) -> None:
        n = int(self.offset[-1]) * self.slots
        self.calls = np.zeros(n, dtype=np.int64)
        self.bad = np.zeros(n, dtype=np.int64)
        self.slow = np.zeros((len(self.bounds_ns), n), dtype=np.int64)

    def feed(self, s: Samples, first: bool) -> None:
        if not first:
            return
        i = np.searchsorted(self.starts, s.intended_ns, side="right") - 1
        at = np.maximum(i, 0)
        inside = (i >= 0) & (s.intended_ns < self.ends[at])
        counted = (
            inside
            & (s.kind != Kind.WS_GAP)
            & (s.outcome != Outcome.MISSED)
            & (s.outcome != Outcome.CANCELLED)
        )
        if not counted.any():
            return
        at = at[counted]
        second = self.offset[at] + (s.intended_ns[counted] - self.starts[at]) // NS
        outcome = s.outcome[counted]
        latency = s.end_ns[counted] - s.intended_ns[counted]
        sent = has_latency(outcome)
        bad = is_capacity_error(outcome)
        n = len(self.calls)
        for slot in (s.group[counted].astype(np.int64), np.full(len(at), self.slots - 1)):
            key = second * self.slots + slot
            self.calls += np.bincount(key, minlength=n)
            self.bad += np.bincount(key[bad], minlength=n)
            for j, bound in enumerate(self.bounds_ns):
                self.slow[j] += np.bincount(key[sent & (latency > bound)], minlength=n)

    def merge_tallies(self, other: RecordPass) -> None:
        assert isinstance(other, SecondsPass)
        self.calls += other.calls
        self.bad += other.bad
        self.slow += other.slow

    def results(
        self, groups: Sequence[str], bounds: Sequence[float]
    ) -> list[dict[str, AnsweredSeconds]]:
        shape = (int(self.offset[-1]), self.slots)
        calls = self.calls.reshape(shape)
        clean = calls > 0
        clean &= self.bad.reshape(shape) == 0
        up = [clean & (self.slow[j].reshape(shape) == 0) for j in range(len(bounds))]
        slot_of = {name: k for k, name in enumerate(groups)}
        slot_of[ALL_GROUPS] = self.slots - 1
        out = []
        for w in range(len(self.starts)):
            rows = slice(int(self.offset[w]), int(self.offset[w + 1]))
            judged = (calls[rows] > 0).sum(axis=0)
            ups = [u[rows].sum(axis=0) for u in up]
            out.append(
                {
                    name: AnsweredSeconds(
                        int(judged[k]), {b: int(ups[j][k]) for j, b in enumerate(bounds)}
                    )
                    for name, k in slot_of.items()
                }
            )
        return out
