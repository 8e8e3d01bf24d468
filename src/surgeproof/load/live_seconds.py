"""The live merge second by second: what the dashboard draws, from the exporter's own tally.

``LiveTally`` (``live_metrics``) counts every record once, as the collector gets it; each count
lands here in its second as well (calls by the second they were due, answers by the second they
ended: the analysis's 1-s windows from t0). A second stays *open* while calls due in it may still
come in — up to the client timeout (or the websocket first-message timeout) after it, plus the
flush of the batch that carries them — and is then *closed*: its row is final and equals what
the run directory holds for that second. Records that still arrive for a closed second (a
generator far behind its schedule) are counted in ``late`` and in the run totals, never by
changing a row already served.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from surgeproof.analysis.causes import CAPACITY_ERRORS, CAUSES
from surgeproof.rundir.schema import Outcome

NS = 1_000_000_000
#: Seconds of closed rows kept for a page opened late (a page keeps its own from then on).
MAX_SECONDS = 6 * 3600
#: Percentiles drawn per group (the SLO's own percentile is drawn against its limit).
QUANTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99, "p99.9": 0.999}
#: Seconds allowed after a call's timeout for its record to be flushed and shipped.
FLUSH_MARGIN_S = 2.0
#: Seconds this far before t0 or after now are no second of the run (counted in totals only).
_PLAUSIBLE_S = 600
_CAUSE_CODES = [Outcome[c.upper()] for c in CAUSES]
_BAD = list(CAPACITY_ERRORS)


class _Second:
    """One open second's sums, per group."""

    def __init__(self, n_groups: int, width: int, n_outcomes: int) -> None:
        self.counts = np.zeros((n_groups, n_outcomes), dtype=np.int64)
        self.answered = np.zeros(n_groups, dtype=np.int64)
        self.ok = np.zeros(n_groups, dtype=np.int64)
        self.buckets = np.zeros((n_groups, width), dtype=np.int64)
        self.reconnects = np.zeros(n_outcomes, dtype=np.int64)
        self.sessions_lost = 0

    def grow(self, n_groups: int) -> None:
        extra = n_groups - self.counts.shape[0]
        if extra > 0:
            self.counts = np.vstack([self.counts, np.zeros((extra, self.counts.shape[1]), "i8")])
            self.answered = np.concatenate([self.answered, np.zeros(extra, dtype=np.int64)])
            self.ok = np.concatenate([self.ok, np.zeros(extra, dtype=np.int64)])
            self.buckets = np.vstack([self.buckets, np.zeros((extra, self.buckets.shape[1]), "i8")])


class SecondSeries:
    """Open and closed seconds of the merge, and the generators' samples in each."""

    def __init__(self, bounds_s: Sequence[float], settle_s: float, n_outcomes: int) -> None:
        self.bounds_ms = np.array([b * 1000.0 for b in bounds_s], dtype=float)
        self.width = len(bounds_s) + 1
        self.n_outcomes = n_outcomes
        #: How long after its end a second is closed (client timeout + flush margin).
        self.settle_s = settle_s
        self.groups: list[str] = []
        self.t0_s: int | None = None
        self.open: dict[int, _Second] = {}
        self.samples: dict[int, dict[str, list[dict[str, Any]]]] = {}
        self.closed: deque[dict[str, Any]] = deque(maxlen=MAX_SECONDS)
        #: The last closed second (Unix); every second up to it is closed.
        self.closed_through: int | None = None
        #: Calls that arrived after their second was closed (counted in the totals only).
        self.late = 0
        #: The run ended: every second with data is closed, none comes after.
        self.ended = False

    def start(self, t0_ns: int) -> None:
        """The run's time zero: seconds count from it (the conductor puts it on a second)."""
        self.t0_s = t0_ns // NS
        self.closed_through = self.t0_s - 1

    # -- what comes in ----------------------------------------------------------------------

    def add(self, part: Any) -> None:
        """A ``RecordTally`` whose groups are the run's (``self.groups``) numbering."""
        for i, sec in enumerate(part.seconds.tolist()):
            if self.closed_through is not None and sec <= self.closed_through:
                self.late += int(part.counts[i].sum())
                continue
            if not self._plausible(sec):
                continue
            s = self.open.get(sec)
            if s is None:
                s = self.open[sec] = _Second(len(self.groups), self.width, self.n_outcomes)
            s.grow(len(self.groups))
            g = part.counts.shape[1]
            s.counts[:g] += part.counts[i]
            s.answered[:g] += part.answered[i]
            s.ok[:g] += part.ok[i]
            s.buckets[:g] += part.buckets[i]
            s.reconnects += part.reconnects[i]
            s.sessions_lost += int(part.sessions_lost[i])

    def sample(self, source: str, sample: dict[str, Any]) -> None:
        """A generator's per-second sample (users, CPU, sessions): the gauges of its second."""
        t = sample.get("t_ns")
        if not isinstance(t, int):
            return
        sec = t // NS
        if (self.closed_through is not None and sec <= self.closed_through) or not self._plausible(
            sec
        ):
            return
        self.samples.setdefault(sec, {}).setdefault(source, []).append(sample)

    def _plausible(self, sec: int) -> bool:
        """Whether ``sec`` can be a second of this run (a crafted record's time is not)."""
        if sec > time.time_ns() // NS + _PLAUSIBLE_S:
            return False
        return self.t0_s is None or sec >= self.t0_s - _PLAUSIBLE_S

    # -- closing seconds --------------------------------------------------------------------

    def settle(self, now_ns: int, everything: bool = False) -> None:
        """Close every second whose calls have all come in by ``now_ns`` (all, at the end)."""
        if self.t0_s is None or self.closed_through is None or self.ended:
            return
        if everything:
            self.ended = True
            pending = [s for s in (*self.open, *self.samples) if s > self.closed_through]
            last = max(pending, default=self.closed_through)
        else:
            last = int(now_ns // NS - 1 - self.settle_s)
        # Never more rows than are kept (a page that first polls hours in costs no more).
        first = max(self.closed_through + 1, last - MAX_SECONDS + 1)
        for sec in [s for s in (*self.open, *self.samples) if s < first]:
            self.open.pop(sec, None)
            self.samples.pop(sec, None)
        for sec in range(first, last + 1):
            row = self.row(sec, final=True)
            self.open.pop(sec, None)
            self.samples.pop(sec, None)
            if sec >= self.t0_s:
                self.closed.append(row)
            self.closed_through = sec

    def provisional(self) -> list[dict[str, Any]]:
        """Rows of the seconds still open (their counts may still grow)."""
        if self.closed_through is None:
            return []
        top = max((*self.open, *self.samples), default=self.closed_through)
        return [self.row(sec, final=False) for sec in range(self.closed_through + 1, top + 1)]

    def rows_after(self, t: int | None) -> list[dict[str, Any]]:
        """Closed rows whose ``t`` (seconds from t0) is greater than ``t``."""
        if t is None:
            return list(self.closed)
        return [r for r in self.closed if r["t"] > t] if self.closed else []

    # -- one second as the page reads it ----------------------------------------------------

    def row(self, sec: int, final: bool) -> dict[str, Any]:
        s = self.open.get(sec)
        if s is not None:
            s.grow(len(self.groups))
        calls = s.counts if s is not None else np.zeros((len(self.groups), self.n_outcomes), "i8")
        by_cause = calls.sum(axis=0)
        counted = calls.sum(axis=1) - calls[:, Outcome.MISSED] - calls[:, Outcome.CANCELLED]
        bad = calls[:, _BAD].sum(axis=1)
        total = int(counted.sum())
        groups: dict[str, Any] = {}
        for g, name in enumerate(self.groups):
            n = int(counted[g])
            if not n and (s is None or not s.answered[g]):
                continue
            entry: dict[str, Any] = {
                "count": n,
                "answered": int(s.answered[g]) if s is not None else 0,
                "errors": int(bad[g]),
                "error_ratio": round(int(bad[g]) / n, 6) if n else None,
            }
            if s is not None:
                entry.update(self._quantiles(s.buckets[g]))
            groups[name] = entry
        row: dict[str, Any] = {
            "t": sec - (self.t0_s or 0),
            "final": final,
            "offered": int(by_cause.sum() - by_cause[Outcome.CANCELLED]),
            "answered": int(s.answered.sum()) if s is not None else 0,
            "ok": int(s.ok.sum()) if s is not None else 0,
            "errors": {c: int(n) for c, n in zip(CAUSES, by_cause[_CAUSE_CODES], strict=True) if n},
            "error_ratio": round(int(bad.sum()) / total, 6) if total else None,
            "groups": groups,
            "reconnects": int(s.reconnects.sum()) if s is not None else 0,
            "sessions_lost": s.sessions_lost if s is not None else 0,
        }
        row.update(_gauges(self.samples.get(sec, {})))
        return row

    def _quantiles(self, counts: np.ndarray) -> dict[str, float | None]:
        """Percentiles from the bucket counts, interpolated inside the bucket (an estimate
        within one bucket; the analysis takes exact ones from the records)."""
        total = int(counts.sum())
        if not total:
            return {}
        cum = np.cumsum(counts)
        out: dict[str, float | None] = {}
        for key, q in QUANTILES.items():
            rank = q * total
            i = int(np.searchsorted(cum, rank, side="left"))
            if i >= len(self.bounds_ms):  # above every bound: say the last one, no more
                out[key] = float(self.bounds_ms[-1])
                continue
            lo = float(self.bounds_ms[i - 1]) if i else 0.0
            below = int(cum[i - 1]) if i else 0
            inside = int(counts[i])
            share = (rank - below) / inside if inside else 1.0
            out[key] = round(lo + (float(self.bounds_ms[i]) - lo) * share, 3)
        return out


def _gauges(by_source: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Users, websocket sessions and CPU of one second, as the analysis reads the timeline:
    offered users the highest any source says, active users and sessions each source's mean
    summed, CPU per source its highest."""
    offered = [
        float(s["target_users"])
        for samples in by_source.values()
        for s in samples
        if isinstance(s.get("target_users"), int | float)
    ]
    out: dict[str, Any] = {"users": max(offered) if offered else None}
    for key, name in (("active_users", "active"), ("ws_sessions", "ws_sessions")):
        means = [
            sum(float(s.get(key) or 0) for s in samples) / len(samples)
            for samples in by_source.values()
            if samples
        ]
        out[name] = round(sum(means), 3) if means else None
    out["cpu"] = {
        source: max(float(s.get("cpu_percent") or 0.0) for s in samples)
        for source, samples in sorted(by_source.items())
        if samples
    }
    return out
