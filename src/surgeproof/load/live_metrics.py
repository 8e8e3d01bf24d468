"""``surgeproof run --metrics-port``: the conductor's merge of every generator, served live to
Prometheus.

The exporter sees exactly what the run directory gets, as the conductor gets it (it observes the
``Collector``): every source's records, names and per-second samples, and every run event. So a
counter scraped at time T holds the records the run directory held at T, whichever worker sent
them (a worker that keeps its own record shard, ``--record-shards local``, sends its per-second
tally instead — the same counters and histogram buckets, counted by the same function on its
side — and a scrape holds what the shards held a second earlier), and gauges are the sum (or
the maximum) over the generators alive now — a lost worker's last sample stops counting when it
is declared lost, as in the progress line.

Counters follow the analysis's counting rules (``analysis/FORMAT.md``): *offered* = requests and
websocket events that came due (not cancelled, not ``ws_gap``), *answered* = those that got a
response (achieved throughput). Rates are PromQL's job: ``rate(surgeproof_requests_offered_total
[1m])``. Latency is measured from the intended send time, into histogram buckets that are dense
where SLOs sit (100 ms to 2 s) and include every SLO limit of the scenario as an exact bound, so
the share of calls within a limit is exact and ``histogram_quantile(0.99, ...)`` is within one
narrow bucket at the limits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

from surgeproof.analysis.causes import ANSWERED, UNSENT
from surgeproof.errors import UserError
from surgeproof.load.live_seconds import SecondSeries
from surgeproof.rundir.schema import OUTCOME_NAMES, RECORD_DTYPE, Kind, Outcome
from surgeproof.scenario.model import Slo
from surgeproof.scenario.slos import KINDS as SLO_KINDS
from surgeproof.scenario.slos import kind_of

#: Bucket bounds (s) of the latency histograms before the scenario's SLO limits are added:
#: 25 ms steps to 200 ms, 50 ms to 500 ms, 100 ms to 1 s, 250 ms to 2 s, then coarser to 60 s.
BASE_BUCKETS_S: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.075,
    0.1, 0.125, 0.15, 0.175, 0.2,
    0.25, 0.3, 0.35, 0.4, 0.45, 0.5,
    0.6, 0.7, 0.8, 0.9, 1.0,
    1.25, 1.5, 1.75, 2.0,
    2.5, 3.0, 4.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 60.0,
)  # fmt: skip

#: Port of ``--metrics-port`` in the docs, the Kubernetes manifests and the Grafana dashboard.
DEFAULT_PORT = 9646
#: Where the conductor relays the embedded exchange's own ``/metrics`` (its port is ephemeral).
TARGET_PATH = "/metrics/target"

_N_KINDS = len(Kind)
_N_OUTCOMES = len(Outcome)
NS = 1_000_000_000
#: Run events the dashboard keeps (faults, phases, levels: a run has few).
MAX_LOGGED_EVENTS = 5000
#: Per outcome code: whether it carried a response / has a latency (the analysis's rules).
_ANSWERED = np.array([o in ANSWERED for o in Outcome])
_HAS_LATENCY = np.array([o not in UNSENT for o in Outcome])


def latency_buckets(slos: Iterable[Slo]) -> tuple[float, ...]:
    """The histogram's upper bounds (s): the base ladder plus every latency SLO limit."""
    bounds = (kind_of(s).latency_bound_ms(s) for s in slos)
    limits = {b / 1000.0 for b in bounds if b is not None and b > 0}
    return tuple(sorted(set(BASE_BUCKETS_S) | limits))


@dataclass
class RecordTally:
    """What some records add, per second and per group (the analysis's rules).

    Seconds are Unix seconds (``ns // 10**9``); the conductor starts a run on a whole second,
    so they are the analysis's 1-s windows from t0. Calls count in the second they were due
    (intended time), answers in the second they ended, lost sessions when they were lost.
    """

    seconds: np.ndarray  # [K] Unix seconds, ascending
    counts: np.ndarray  # [K, group, outcome] calls (websocket gaps are not calls)
    answered: np.ndarray  # [K, group] calls that got a response, by end second
    ok: np.ndarray  # [K, group] ok responses, by end second
    buckets: np.ndarray  # [K, group, bucket] latency counts (last column: above every bound)
    latency_sum_s: np.ndarray  # [K, group]
    reconnects: np.ndarray  # [K, outcome] ws_connect records with attempt >= 1
    sessions_lost: np.ndarray  # [K]

    @property
    def groups(self) -> int:
        return self.counts.shape[1]


def empty_tally(n_groups: int, width: int) -> RecordTally:
    """A tally of no records (``width`` latency buckets)."""
    return _zeros(np.empty(0, dtype=np.int64), n_groups, width)


def _zeros(seconds: np.ndarray, g: int, width: int) -> RecordTally:
    k = len(seconds)
    return RecordTally(
        seconds=seconds,
        counts=np.zeros((k, g, _N_OUTCOMES), dtype=np.int64),
        answered=np.zeros((k, g), dtype=np.int64),
        ok=np.zeros((k, g), dtype=np.int64),
        buckets=np.zeros((k, g, width), dtype=np.int64),
        latency_sum_s=np.zeros((k, g), dtype=np.float64),
        reconnects=np.zeros((k, _N_OUTCOMES), dtype=np.int64),
        sessions_lost=np.zeros(k, dtype=np.int64),
    )


def tally_records(
    rec: np.ndarray, group: np.ndarray, n_groups: int, bounds_ns: np.ndarray
) -> RecordTally:
    """Count ``rec`` (RECORD_DTYPE) whose group index (0..n_groups-1) is ``group``."""
    kind = np.minimum(rec["kind"], _N_KINDS - 1).astype(np.int64)
    outcome = np.minimum(rec["outcome"], _N_OUTCOMES - 1).astype(np.int64)
    due = rec["intended_ns"].astype(np.int64) // NS
    ended = rec["end_ns"].astype(np.int64) // NS
    request = kind != Kind.WS_GAP
    answered = request & _ANSWERED[outcome] & (rec["end_ns"] > 0)
    timed = request & _HAS_LATENCY[outcome]
    retried = (kind == Kind.WS_CONNECT) & (rec["attempt"] >= 1)
    gaps = (kind == Kind.WS_GAP) & (outcome != Outcome.OK)
    seconds = np.unique(np.concatenate([due[request | retried], ended[answered | gaps]]))
    width = len(bounds_ns) + 1
    out = _zeros(seconds, n_groups, width)
    k, g, o = len(seconds), n_groups, _N_OUTCOMES
    if not k:
        return out
    at_due = np.searchsorted(seconds, due)
    at_end = np.searchsorted(seconds, ended)
    cell = at_due[request] * g + group[request]
    out.counts = np.bincount(cell * o + outcome[request], minlength=k * g * o).reshape(k, g, o)
    cell = at_end[answered] * g + group[answered]
    out.answered = np.bincount(cell, minlength=k * g).reshape(k, g)
    good = outcome[answered] == Outcome.OK
    out.ok = np.bincount(cell[good], minlength=k * g).reshape(k, g)
    if timed.any():
        lat = np.maximum(rec["end_ns"][timed] - rec["intended_ns"][timed], 0)
        slot = np.searchsorted(bounds_ns, lat, side="left")
        cell = at_due[timed] * g + group[timed]
        out.buckets = np.bincount(cell * width + slot, minlength=k * g * width).reshape(k, g, width)
        out.latency_sum_s = np.bincount(cell, weights=lat / 1e9, minlength=k * g).reshape(k, g)
    out.reconnects = np.bincount(at_due[retried] * o + outcome[retried], minlength=k * o).reshape(
        k, o
    )
    out.sessions_lost = np.bincount(at_end[gaps], minlength=k)
    return out


def regroup(part: RecordTally, rows: np.ndarray, n_groups: int) -> RecordTally:
    """``part`` with its groups moved to rows ``rows`` of ``n_groups`` (a run-wide numbering)."""
    out = _zeros(part.seconds, n_groups, part.buckets.shape[2])
    for name in ("counts", "answered", "ok", "buckets", "latency_sum_s"):
        np.add.at(getattr(out, name), (slice(None), rows), getattr(part, name))
    out.reconnects = part.reconnects
    out.sessions_lost = part.sessions_lost
    return out


#: Most seconds one tally message may carry (a worker flushes every second; calls due up to a
#: client timeout earlier end in it): a bound on what a crafted message can make us allocate.
MAX_MESSAGE_SECONDS = 4096
#: Most groups one tally message may name.
MAX_MESSAGE_GROUPS = 256


class SourceTally:
    """A generator's own per-second tally of its records, for a master that does not get them
    (``--record-shards``): what ``LiveTally`` would have counted, by group name."""

    def __init__(self, bounds_s: Sequence[float]) -> None:
        self.bounds_s = tuple(float(b) for b in bounds_s)
        self._bounds_ns = np.array([round(b * 1e9) for b in self.bounds_s], dtype=np.int64)
        self.groups: list[str] = []
        self._group_index: dict[str, int] = {}
        self._id_group = np.empty(0, dtype=np.int64)

    def declare(self, names: dict[int, tuple[str, str]]) -> None:
        if not names:
            return
        top = max(names) + 1
        if top > len(self._id_group):
            pad = np.full(top - len(self._id_group), -1, dtype=np.int64)
            self._id_group = np.concatenate([self._id_group, pad])
        for name_id, (_name, group) in names.items():
            self._id_group[name_id] = self._index(group)

    def _index(self, group: str) -> int:
        idx = self._group_index.get(group)
        if idx is None:
            idx = self._group_index[group] = len(self.groups)
            self.groups.append(group)
        return idx

    def message(self, raw: bytes) -> dict[str, Any] | None:
        """The tally of ``raw``'s records as a message (plain lists), or None for no records.

        Arrays go sparse (flat indices and values of their non-zero cells): a second's records
        touch few of the cells of seconds × groups × buckets."""
        n = len(raw) // RECORD_DTYPE.itemsize
        if not n:
            return None
        rec = np.frombuffer(raw, dtype=RECORD_DTYPE, count=n)
        table = np.append(self._id_group, -1)
        group = table[np.minimum(rec["name_id"].astype(np.int64), len(table) - 1)]
        if (group < 0).any():
            group = np.where(group < 0, self._index("other"), group)
        part = tally_records(rec, group, len(self.groups), self._bounds_ns)
        msg: dict[str, Any] = {
            "groups": list(self.groups),
            "width": len(self.bounds_s) + 1,
            "seconds": part.seconds.tolist(),
        }
        for name in _MESSAGE_ARRAYS:
            msg[name] = _sparse(getattr(part, name))
        return msg


_MESSAGE_ARRAYS = (
    "counts",
    "answered",
    "ok",
    "buckets",
    "latency_sum_s",
    "reconnects",
    "sessions_lost",
)


def _sparse(arr: np.ndarray) -> list[list[float]]:
    flat = arr.ravel()
    at = np.flatnonzero(flat)
    return [at.tolist(), flat[at].tolist()]


def _dense(pair: Any, shape: tuple[int, ...], dtype: Any) -> np.ndarray | None:
    """A ``_sparse`` pair back into an array of ``shape``; None when it does not fit it."""
    size = int(np.prod(shape))
    try:
        at = np.asarray(pair[0], dtype=np.int64)
        values = np.asarray(pair[1], dtype=dtype)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if at.ndim != 1 or at.shape != values.shape or (at.size and (at.min() < 0 or at.max() >= size)):
        return None
    out = np.zeros(size, dtype=dtype)
    out[at] = values
    return out.reshape(shape)


def tally_from_message(msg: dict[str, Any], width: int) -> RecordTally | None:
    """``SourceTally.message`` read back; None when it is not a tally of ``width`` buckets or
    does not hold together (a message from the network is checked, never trusted)."""
    try:
        g = len(msg["groups"])
        seconds = np.asarray(msg["seconds"], dtype=np.int64)
        if int(msg["width"]) != width or seconds.ndim != 1:
            return None
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    k = len(seconds)
    if g > MAX_MESSAGE_GROUPS or k > MAX_MESSAGE_SECONDS or (np.diff(seconds) <= 0).any():
        return None
    shapes = {
        "counts": ((k, g, _N_OUTCOMES), np.int64),
        "answered": ((k, g), np.int64),
        "ok": ((k, g), np.int64),
        "buckets": ((k, g, width), np.int64),
        "latency_sum_s": ((k, g), np.float64),
        "reconnects": ((k, _N_OUTCOMES), np.int64),
        "sessions_lost": ((k,), np.int64),
    }
    arrays = {}
    for name, (shape, dtype) in shapes.items():
        arr = _dense(msg.get(name), shape, dtype)
        if arr is None or (arr < 0).any():
            return None
        arrays[name] = arr
    return RecordTally(seconds=seconds, **arrays)


class LiveTally:
    """Everything the exporter serves, merged over sources; a Prometheus custom collector.

    The same merge, second by second (``series``), is what the dashboard draws."""

    def __init__(
        self,
        slos: Sequence[Slo] = (),
        *,
        run_id: str = "",
        scenario: str = "",
        model: str = "",
        workers_expected: int = 0,
        settle_s: float = 12.0,
    ) -> None:
        self.slos = list(slos)
        self.info = {"run_id": run_id, "scenario": scenario, "model": model}
        self.workers_expected = workers_expected
        self.bounds_s = latency_buckets(self.slos)
        self._bounds_ns = np.array([round(b * 1e9) for b in self.bounds_s], dtype=np.int64)
        self.series = SecondSeries(self.bounds_s, settle_s, _N_OUTCOMES)
        #: The run's endpoint groups, numbered as they first appear (shared with ``series``).
        self.groups: list[str] = self.series.groups
        self._group_index: dict[str, int] = {}
        #: [group, outcome] calls (websocket gaps are silences, not calls).
        self.counts = np.zeros((0, _N_OUTCOMES), dtype=np.int64)
        self.answered = np.zeros(0, dtype=np.int64)
        #: [group, bucket] latency counts (not cumulative; last column = above every bound).
        self.buckets = np.zeros((0, len(self.bounds_s) + 1), dtype=np.int64)
        self.latency_sum_s = np.zeros(0, dtype=np.float64)
        self.reconnects = np.zeros(_N_OUTCOMES, dtype=np.int64)
        self.sessions_lost = 0
        self.late_sends = 0
        #: Per source: run-wide group index of each local name id (-1 = not declared yet).
        self._id_group: dict[str, np.ndarray] = {}
        self.records: dict[str, int] = {}
        self.latest: dict[str, dict[str, Any]] = {}
        self.alive: set[str] = set()
        self.lost: set[str] = set()
        self.phase: tuple[str, int] | None = None
        self.phase_starts: dict[tuple[str, int], float] = {}
        self.levels: dict[str, int] = {}
        self.events: dict[str, int] = {}
        #: The run's events as they came (faults, phases, levels), for the dashboard.
        self.log: deque[dict[str, Any]] = deque(maxlen=MAX_LOGGED_EVENTS)
        self.target_up = 1
        self.started_s: float | None = None
        self.status = "running"

    # -- what the collector sees -----------------------------------------------------------

    def start(self, t0_ns: int) -> None:
        """The run's time zero, once the conductor has chosen it."""
        self.series.start(t0_ns)

    def on_event(self, event: dict[str, Any]) -> None:
        kind = str(event.get("type"))
        t_s = int(event.get("t_ns") or 0) / 1e9
        self.events[kind] = self.events.get(kind, 0) + 1
        self.log.append(event)
        if kind == "run_start":
            self.started_s = t_s
        elif kind == "run_end":
            self.status = str(event.get("status") or "complete")
            self.series.settle(0, everything=True)
        elif kind == "phase":
            key = (str(event.get("name", "")), int(event.get("index", -1)))
            self.phase = key
            self.phase_starts.setdefault(key, t_s)
        elif kind == "level":
            verdict = str(event.get("verdict") or "unjudged")
            self.levels[verdict] = self.levels.get(verdict, 0) + 1
        elif kind == "worker_joined":
            self.alive.add(str(event["source"]))
        elif kind == "worker_lost":
            source = str(event["source"])
            self.alive.discard(source)
            self.lost.add(source)
            self.latest.pop(source, None)
        elif kind == "target_down":
            self.target_up = 0
        elif kind == "target_up":
            self.target_up = 1

    def on_batch(
        self,
        source: str,
        raw: bytes,
        names: dict[int, tuple[str, str]],
        sample: dict[str, Any] | None,
    ) -> None:
        if names:
            self._declare(source, names)
        n = len(raw) // RECORD_DTYPE.itemsize
        if n:
            self._add_records(source, np.frombuffer(raw, dtype=RECORD_DTYPE, count=n))
        self._take_sample(source, sample)

    def _take_sample(self, source: str, sample: dict[str, Any] | None) -> None:
        if sample is not None and source not in self.lost:
            self.latest[source] = sample
            self.alive.add(source)
            self.late_sends += int(sample.get("late_sends", 0))
            self.series.sample(source, sample)

    def _group(self, name: str) -> int:
        idx = self._group_index.get(name)
        if idx is None:
            idx = self._group_index[name] = len(self.groups)
            self.groups.append(name)
            g = len(self.groups)
            self.counts = _grow(self.counts, g)
            self.answered = _grow(self.answered, g)
            self.buckets = _grow(self.buckets, g)
            self.latency_sum_s = _grow(self.latency_sum_s, g)
        return idx

    def _declare(self, source: str, names: dict[int, tuple[str, str]]) -> None:
        table = self._id_group.get(source, np.full(0, -1, dtype=np.int64))
        top = max(names) + 1
        if top > len(table):
            table = np.concatenate([table, np.full(top - len(table), -1, dtype=np.int64)])
        for name_id, (_name, group) in names.items():
            table[name_id] = self._group(group)
        self._id_group[source] = table

    def _add_records(self, source: str, rec: np.ndarray) -> None:
        self.records[source] = self.records.get(source, 0) + len(rec)
        ids = rec["name_id"].astype(np.int64)
        # One slot past the largest id declared so far reads -1 for every undeclared id.
        table = np.append(self._id_group.get(source, np.empty(0, dtype=np.int64)), -1)
        group = table[np.minimum(ids, len(table) - 1)]
        if (group < 0).any():
            # An id whose name never arrived: the reader files it under "other" too.
            group = np.where(group < 0, self._group("other"), group)
        self._add(tally_records(rec, group, len(self.groups), self._bounds_ns))

    def on_counts(
        self,
        source: str,
        records: int,
        tally: dict[str, Any] | None,
        sample: dict[str, Any] | None,
    ) -> None:
        """A worker that keeps its own record shard: its per-second counts, pre-aggregated."""
        self.records[source] = self.records.get(source, 0) + int(records)
        if tally:
            self._add_message(tally)
        self._take_sample(source, sample)

    def _add_message(self, msg: dict[str, Any]) -> None:
        part = tally_from_message(msg, len(self.bounds_s) + 1)
        if part is None:
            return  # not a tally of these buckets (another scenario's SLOs): nothing to add
        rows = np.array([self._group(str(g)) for g in msg["groups"]], dtype=np.int64)
        self._add(regroup(part, rows, len(self.groups)))

    def _add(self, part: RecordTally) -> None:
        g = part.groups
        self.counts[:g] += part.counts.sum(axis=0)
        self.answered[:g] += part.answered.sum(axis=0)
        self.buckets[:g] += part.buckets.sum(axis=0)
        self.latency_sum_s[:g] += part.latency_sum_s.sum(axis=0)
        self.reconnects += part.reconnects.sum(axis=0)
        self.sessions_lost += int(part.sessions_lost.sum())
        self.series.add(part)

    # -- what a scrape gets ----------------------------------------------------------------

    def describe(self) -> list[Metric]:
        return []  # names are not fixed before the run: the registry must not cache them

    def collect(self) -> Iterator[Metric]:
        yield from self._counters()
        yield self._histogram()
        yield from self._gauges()

    def _counters(self) -> Iterator[Metric]:
        records = CounterMetricFamily(
            "surgeproof_records",
            "Records received from each generator process (what the run directory holds).",
            labels=["source"],
        )
        for source, n in sorted(self.records.items()):
            records.add_metric([source], n)
        yield records
        requests = CounterMetricFamily(
            "surgeproof_requests",
            "Requests and websocket connects/subscribes by endpoint group and outcome "
            "(errors by cause: outcome != ok).",
            labels=["group", "outcome"],
        )
        offered = CounterMetricFamily(
            "surgeproof_requests_offered",
            "Requests that came due on the schedule (sent or not; cancelled ones excluded).",
            labels=["group"],
        )
        answered = CounterMetricFamily(
            "surgeproof_requests_answered",
            "Requests that got a response from the target (achieved throughput).",
            labels=["group"],
        )
        for g, name in enumerate(self.groups):
            per_outcome = self.counts[g]
            if not per_outcome.any():
                continue
            for code, n in enumerate(per_outcome.tolist()):
                requests.add_metric([name, OUTCOME_NAMES[code]], n)
            offered.add_metric([name], int(per_outcome.sum() - per_outcome[Outcome.CANCELLED]))
            answered.add_metric([name], int(self.answered[g]))
        yield requests
        yield offered
        yield answered
        reconnects = CounterMetricFamily(
            "surgeproof_ws_reconnects",
            "Websocket reconnect attempts (ws_connect records with attempt >= 1) by outcome.",
            labels=["outcome"],
        )
        for code, n in enumerate(self.reconnects.tolist()):
            if n:
                reconnects.add_metric([OUTCOME_NAMES[code]], n)
        yield reconnects
        yield CounterMetricFamily(
            "surgeproof_ws_sessions_lost",
            "Websocket sessions lost (a ws_gap record with an error outcome).",
            value=self.sessions_lost,
        )
        yield CounterMetricFamily(
            "surgeproof_late_sends",
            "HTTP calls sent later than 50 ms after their intended time (generator behind).",
            value=self.late_sends,
        )
        levels = CounterMetricFamily(
            "surgeproof_levels",
            "Steady-state windows completed, by verdict (step search) or 'unjudged'.",
            labels=["verdict"],
        )
        for verdict, n in sorted(self.levels.items()):
            levels.add_metric([verdict], n)
        yield levels
        events = CounterMetricFamily(
            "surgeproof_events", "Run events (events.jsonl) by type.", labels=["type"]
        )
        for kind, n in sorted(self.events.items()):
            events.add_metric([kind], n)
        yield events

    def _histogram(self) -> Metric:
        hist = HistogramMetricFamily(
            "surgeproof_request_latency_seconds",
            "Latency from the intended send time to the answer or error, by endpoint group "
            "(missed, backlogged and cancelled calls have none).",
            labels=["group"],
        )
        bounds = [floatToGoString(b) for b in self.bounds_s] + ["+Inf"]
        for g, name in enumerate(self.groups):
            cumulative = np.cumsum(self.buckets[g]).tolist()
            if not cumulative[-1]:
                continue
            hist.add_metric(
                [name],
                list(zip(bounds, cumulative, strict=True)),
                sum_value=float(self.latency_sum_s[g]),
            )
        return hist

    def _gauges(self) -> Iterator[Metric]:
        latest = self.latest
        yield _gauge(
            "surgeproof_offered_users",
            "Offered concurrent (simulated) users: the plan's target now.",
            max((float(s.get("target_users", 0)) for s in latest.values()), default=0.0),
        )
        for key, metric, doc in (
            ("active_users", "surgeproof_active_users", "Simulated users alive, all generators."),
            ("inflight", "surgeproof_inflight_calls", "Calls sent and not answered yet."),
            ("ws_sessions", "surgeproof_ws_sessions", "Websocket sessions subscribed now."),
        ):
            yield _gauge(metric, doc, sum(float(s.get(key, 0)) for s in latest.values()))
        yield _gauge(
            "surgeproof_workers_alive",
            "Generator processes alive (workers joined and not lost; 1 for --workers 0).",
            len(self.alive),
        )
        yield _gauge(
            "surgeproof_workers_expected", "Workers the run waits for.", self.workers_expected
        )
        users = GaugeMetricFamily(
            "surgeproof_generator_users", "Users alive on each generator.", labels=["source"]
        )
        share = GaugeMetricFamily(
            "surgeproof_generator_share_ratio",
            "Each generator's share of the users alive (0-1).",
            labels=["source"],
        )
        cpu = GaugeMetricFamily(
            "surgeproof_generator_cpu_percent",
            "CPU of each generator process (100 = one core: saturation).",
            labels=["source"],
        )
        total = sum(float(s.get("active_users", 0)) for s in latest.values())
        for source, s in sorted(latest.items()):
            active = float(s.get("active_users", 0))
            users.add_metric([source], active)
            share.add_metric([source], active / total if total else 0.0)
            cpu.add_metric([source], float(s.get("cpu_percent", 0.0)))
        yield users
        yield share
        yield cpu
        yield from self._run_gauges()

    def _run_gauges(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "surgeproof_run_info",
            "The run being played (always 1).",
            labels=["run_id", "scenario", "model", "status"],
        )
        info.add_metric([*self.info.values(), self.status], 1)
        yield info
        if self.started_s is not None:
            yield _gauge(
                "surgeproof_run_start_timestamp_seconds", "When the run started.", self.started_s
            )
        phase = GaugeMetricFamily(
            "surgeproof_phase",
            "The phase (or step-search level) being played now: 1.",
            labels=["phase", "index"],
        )
        starts = GaugeMetricFamily(
            "surgeproof_phase_start_timestamp_seconds",
            "When each phase started (Grafana annotations: value as time).",
            labels=["phase", "index"],
        )
        if self.phase is not None:
            phase.add_metric([self.phase[0], str(self.phase[1])], 1)
        for (name, index), t in self.phase_starts.items():
            starts.add_metric([name, str(index)], t)
        yield phase
        yield starts
        yield _gauge(
            "surgeproof_phase_index", "Index of the phase being played (-1 before the first).",
            self.phase[1] if self.phase else -1,
        )  # fmt: skip
        yield _gauge(
            "surgeproof_target_up",
            "0 while the embedded target is down (an injected outage), else 1.",
            self.target_up,
        )
        # One gauge family per SLO kind, each holding the scenario's limits of that kind.
        families = {
            kind.name: GaugeMetricFamily(kind.gauge[0], kind.gauge[1], labels=list(kind.gauge[2]))
            for kind in SLO_KINDS
        }
        for slo in self.slos:
            labels, value = kind_of(slo).gauge_sample(slo)
            families[kind_of(slo).name].add_metric(labels, value)
        yield from families.values()


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _grow(arr: np.ndarray, rows: int) -> np.ndarray:
    """``arr`` with zero rows appended up to ``rows`` along the first axis."""
    extra = np.zeros((rows - arr.shape[0], *arr.shape[1:]), dtype=arr.dtype)
    return np.concatenate([arr, extra])


class LiveMetrics:
    """The tally served over HTTP (``/metrics``) from a gevent server in the conductor; the
    embedded exchange's own metrics relayed on ``/metrics/target``."""

    def __init__(self, tally: LiveTally, host: str, port: int) -> None:
        from gevent.pywsgi import WSGIServer
        from prometheus_client import CollectorRegistry, ProcessCollector, make_wsgi_app

        self.tally = tally
        self.target_url: str | None = None
        registry = CollectorRegistry(auto_describe=False)
        registry.register(tally)
        ProcessCollector(registry=registry)  # the conductor's own CPU and memory
        self._metrics = make_wsgi_app(registry)
        self._server = WSGIServer((host, port), self._route, log=None)
        try:
            self._server.init_socket()
        except OSError as exc:
            raise UserError(f"--metrics-port {port}: cannot listen on {host} ({exc})") from None
        self.host, self.port = self._server.socket.getsockname()[:2]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def _route(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path in ("/", "/metrics"):
            return self._metrics(environ, start_response)
        if path == TARGET_PATH and self.target_url:
            return self._relay(start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: /metrics, or /metrics/target with the embedded exchange\n"]

    def _relay(self, start_response):
        """The exchange's exposition as it answered; 502 while it is down (Prometheus: up 0)."""
        import urllib.request

        try:
            with urllib.request.urlopen(self.target_url + "/metrics", timeout=5) as r:
                body, ctype = r.read(), r.headers.get("Content-Type", "text/plain")
        except OSError as exc:
            start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
            return [f"target /metrics did not answer: {exc}\n".encode()]
        start_response("200 OK", [("Content-Type", ctype)])
        return [body]

    def start(self, target=None) -> None:
        """Start serving; relay ``target``'s /metrics when it is a surgeproof exchange
        (embedded, or on loopback)."""
        if target is not None and (target.embedded or (target.loopback and target.config)):
            self.target_url = target.url
        self._server.start()
        print(f"surgeproof run: live metrics on {self.url}", flush=True)

    def close(self) -> None:
        self._server.stop(timeout=1)


def open_live_metrics(opts, tally: LiveTally) -> LiveMetrics | None:
    """The exporter ``opts`` asks for (``--metrics-port``), bound but not serving yet; or None."""
    if opts.metrics_port is None:
        return None
    return LiveMetrics(tally, opts.metrics_host, opts.metrics_port)
