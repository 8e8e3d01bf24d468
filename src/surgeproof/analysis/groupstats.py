"""Latency percentiles and error ratios per endpoint group over one stretch of records."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from surgeproof.analysis.causes import CAPACITY_ERRORS, CAUSES, has_latency
from surgeproof.analysis.keyed import exact_store
from surgeproof.analysis.pass_wire import travels
from surgeproof.analysis.percentiles import PERCENTILE_KEYS, QS
from surgeproof.analysis.samples import Samples
from surgeproof.analysis.shards import Execution
from surgeproof.rundir.schema import Kind, Outcome

#: Key of the all-groups entry (computed from the raw samples of every group together).
ALL_GROUPS = "*"

_NS_PER_MS = 1_000_000.0


@dataclass(frozen=True)
class AnsweredSeconds:
    """One group's seconds in one window, for SLO kinds that judge second by second
    (``analysis.seconds`` computes them; ``scenario.slos.AnsweredSeconds``)."""

    judged: int
    #: Bound (ms) → seconds in which every call was answered within it, without capacity error.
    up_within: Mapping[float, int]

    def up(self, bound_ms: float) -> int:
        return int(self.up_within[bound_ms])

    def to_dict(self) -> dict[str, Any]:
        return {
            "judged": self.judged,
            # Shortest text that reads back as the same float (800.0 → "800").
            "up_within_ms": {
                repr(float(b)).removesuffix(".0"): n for b, n in sorted(self.up_within.items())
            },
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AnsweredSeconds:
        """The ``seconds`` of a group-stats object in analysis.json, read back."""
        up = d.get("up_within_ms") or {}
        return cls(int(d.get("judged") or 0), {float(b): int(n) for b, n in up.items()})


@dataclass
class GroupStats:
    """What one endpoint group saw: volume, errors by cause, latency and service time (ms)."""

    count: int
    ok: int
    errors: dict[str, int]
    error_ratio: float | None
    latency_ms: dict[str, float | None]
    service_ms: dict[str, float | None]
    #: Answered seconds, where some SLO's kind asks for them (``analysis.seconds``).
    seconds: AnsweredSeconds | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "count": self.count,
            "ok": self.ok,
            "errors": dict(self.errors),
            "error_ratio": self.error_ratio,
            "latency_ms": dict(self.latency_ms),
            "service_ms": dict(self.service_ms),
        }
        if self.seconds is not None:
            out["seconds"] = self.seconds.to_dict()
        return out


def latency_ms(s: Samples) -> np.ndarray:
    """Latency from the intended send time (coordinated-omission safe), in ms."""
    return (s.end_ns - s.intended_ns) / _NS_PER_MS


def service_ms(s: Samples) -> np.ndarray:
    """Service time from the actual send, in ms."""
    return (s.end_ns - s.sent_ns) / _NS_PER_MS


def group_stats(s: Samples) -> dict[str, GroupStats]:
    """Per group present in ``s`` (plus ``*``): counts, causes, error ratio, exact percentiles."""
    n_groups = max(len(s.groups), 1)
    everything = [(np.zeros(n_groups, dtype=np.int64), 1)]
    stats = KeyedStats(n_groups, len(s), sample_bounds(s), coarser=everything)
    stats.add(s, s.group.astype(np.int64))
    per_group = stats.results()
    stats.coarsen()
    out = {s.groups[k]: v for k, v in per_group.items()}
    if out:
        out[ALL_GROUPS] = stats.results()[0]
    stats.release()
    return out


def sample_bounds(s: Samples) -> tuple[tuple[int, int], tuple[int, int]]:
    """(latency, service time) integer ns ranges of the counted rows of ``s``."""
    counted = s.counted()
    if not counted.any():
        return (0, 0), (0, 0)
    lat = s.end_ns[counted] - s.intended_ns[counted]
    svc = s.end_ns[counted] - s.sent_ns[counted]
    return (int(lat.min()), int(lat.max())), (int(svc.min()), int(svc.max()))


@travels
class KeyedStats:
    """Per key (group, window·group, level·group, endpoint, ...): outcomes tallied and exact
    latency and service-time percentiles, filled chunk by chunk.

    ``add`` takes one key per row (negative = not counted anywhere); websocket gap records are
    never requests. ``coarser`` declares the coarser keys read after the finer ones (e.g.
    window·group → window): ``coarsen`` moves to the next of them once the finer results have
    been read. The percentiles are kept as samples when ``estimate`` samples fit the memory
    ``execution`` allows, else as counts over repeated passes (``ranks.py``): the same numbers.
    """

    def __init__(
        self,
        n_keys: int,
        capacity: int,
        bounds: tuple[tuple[int, int], tuple[int, int]],
        *,
        service: bool = True,
        coarser: Sequence[tuple[np.ndarray, int]] = (),
        qs: tuple[float, ...] = QS,
        service_qs: tuple[float, ...] = QS,
        estimate: int | None = None,
        execution: Execution | None = None,
    ) -> None:
        self.n_keys = max(int(n_keys), 1)
        self.coarser = [(np.asarray(m, dtype=np.int64), max(int(n), 1)) for m, n in coarser]
        (lat_lo, lat_hi), (svc_lo, svc_hi) = bounds
        exe = execution or Execution()
        stores = 2 if service else 1
        est = capacity if estimate is None else estimate
        common = {"coarser": self.coarser, "execution": exe, "stores": stores}
        self.latency = exact_store(capacity, est, self.n_keys, lat_lo, lat_hi, qs=qs, **common)
        self.service = (
            exact_store(capacity, est, self.n_keys, svc_lo, svc_hi, qs=service_qs, **common)
            if service
            else None
        )
        self.tally: np.ndarray | None = np.zeros((self.n_keys, N_OUTCOMES), dtype=np.int64)

    def add(
        self, s: Samples, keys: np.ndarray, tally: bool = True, *, gaps_keyed: bool = True
    ) -> None:
        """Count the rows of ``s`` under ``keys`` (aligned with the rows); ``tally=False`` in a
        later round of a pass (only the percentiles are fed again); ``gaps_keyed=False``: the
        caller already keyed every websocket gap record -1 (they are not looked for again)."""
        req = (s.kind != Kind.WS_GAP) & (keys >= 0) if gaps_keyed else keys >= 0
        if not req.any():
            return
        every = bool(req.all())  # the usual chunk: no row left out, so no copies of columns
        if tally:
            if self.tally is None:
                self.tally = np.zeros((self.n_keys, N_OUTCOMES), dtype=np.int64)
            add_tally(self.tally, *((keys, s.outcome) if every else (keys[req], s.outcome[req])))
        sel = req & has_latency(s.outcome)
        if sel.all():
            k, end, intended, sent = keys, s.end_ns, s.intended_ns, s.sent_ns
        else:
            k, end, intended, sent = keys[sel], s.end_ns[sel], s.intended_ns[sel], s.sent_ns[sel]
        self.latency.add_span(k, intended, end)
        if self.service is not None:
            self.service.add_span(k, sent, end)

    # A pass's part (``shards.RecordPass.parts``): copied for shards and merged back.

    def stores(self) -> list:
        return [st for st in (self.latency, self.service) if st is not None]

    def fresh(self) -> KeyedStats:
        out = copy.copy(self)
        out.tally = None
        out.latency = self.latency.fresh()
        out.service = self.service.fresh() if self.service is not None else None
        return out

    def merge(self, other: KeyedStats, first: bool) -> None:
        if first and other.tally is not None:
            if other.tally.shape != (self.n_keys, N_OUTCOMES):
                raise ValueError(f"tally of shape {other.tally.shape} for {self.n_keys} keys")
            if self.tally is None:  # a copy that was never fed (a shard's result merges in)
                self.tally = np.zeros((self.n_keys, N_OUTCOMES), dtype=np.int64)
            self.tally += other.tally
        self.latency.merge(other.latency, first)
        if self.service is not None:
            self.service.merge(other.service, first)

    def compact(self) -> None:
        for st in self.stores():
            st.compact()

    def percentiles(
        self, qs: tuple[float, ...] = QS, *, service: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """(keys with samples, percentiles ``qs`` per key) of latency or service time (ms)."""
        store = self.service if service else self.latency
        if store is None:
            raise ValueError("service times were not kept")
        keys, _, table = store.table(qs)
        return keys, table

    def results(self) -> dict[int, GroupStats]:
        """GroupStats per key that saw any request."""
        lat_keys, lat = self.percentiles(self.latency.qs)
        lat_rows = dict(zip(lat_keys.tolist(), lat, strict=True))
        svc_rows: dict[int, np.ndarray] = {}
        if self.service is not None:
            svc_keys, svc = self.percentiles(self.service.qs, service=True)
            svc_rows = dict(zip(svc_keys.tolist(), svc, strict=True))
        out: dict[int, GroupStats] = {}
        for k in np.flatnonzero(self.tally.sum(axis=1)).tolist():
            out[k] = stats_of_tally(self.tally[k], _row(lat_rows.get(k)), _row(svc_rows.get(k)))
        return out

    def coarsen(self) -> None:
        """Move to the next declared coarser keys (after the finer results were read)."""
        mapping, n_keys = self.coarser.pop(0)
        tally = np.zeros((n_keys, N_OUTCOMES), dtype=np.int64)
        np.add.at(tally, mapping[: self.n_keys], self.tally)
        self.tally = tally
        self.n_keys = n_keys
        self.latency.rekey(mapping, n_keys)
        if self.service is not None:
            self.service.rekey(mapping, n_keys)

    def release(self) -> None:
        """Free the samples (the tallies stay)."""
        self.latency.release()
        if self.service is not None:
            self.service.release()


#: Outcome codes fit in 4 bits: tallies keep 16 columns per key.
N_OUTCOMES = 16


def add_tally(tally: np.ndarray, keys: np.ndarray, outcome: np.ndarray) -> None:
    """``tally[key, outcome] += 1`` for each row, touching only the keys present.

    A chunk's keys span a narrow range (records arrive roughly in time order), so counting over
    that range costs no more than the chunk itself, however many keys the whole run has.
    """
    if len(keys) == 0:
        return
    lo, hi = int(keys.min()), int(keys.max())
    flat = np.subtract(keys, lo, dtype=np.int64)
    np.multiply(flat, N_OUTCOMES, out=flat)
    np.add(flat, outcome, out=flat, casting="unsafe")
    counts = np.bincount(flat, minlength=(hi - lo + 1) * N_OUTCOMES)
    tally[lo : hi + 1] += counts.reshape(hi - lo + 1, N_OUTCOMES)


def stats_of_tally(
    tally: np.ndarray, lat: dict[str, float | None], svc: dict[str, float | None]
) -> GroupStats:
    """GroupStats from one key's outcome tally and its percentiles."""
    errors = {name: int(tally[Outcome[name.upper()]]) for name in CAUSES}
    total = int(tally.sum())
    count = total - errors["missed"] - errors["cancelled"]
    bad = int(sum(int(tally[o]) for o in CAPACITY_ERRORS))
    return GroupStats(
        count=count,
        ok=int(tally[Outcome.OK]),
        errors=errors,
        error_ratio=(bad / count) if count else None,
        latency_ms=lat,
        service_ms=svc,
    )


def _row(row: np.ndarray | None) -> dict[str, float | None]:
    if row is None:
        return dict.fromkeys(PERCENTILE_KEYS)
    return {k: float(v) for k, v in zip(PERCENTILE_KEYS, row, strict=True)}
