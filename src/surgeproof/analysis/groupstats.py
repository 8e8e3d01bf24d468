"""Latency percentiles and error ratios per endpoint group over one stretch of records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from surgeproof.analysis.causes import cause_counts, is_capacity_error
from surgeproof.analysis.percentiles import PERCENTILE_KEYS, exact_percentiles, grouped_percentiles
from surgeproof.analysis.samples import Samples
from surgeproof.rundir.schema import Kind, Outcome

#: Key of the all-groups entry (computed from the raw samples of every group together).
ALL_GROUPS = "*"

_NS_PER_MS = 1_000_000.0


@dataclass
class GroupStats:
    """What one endpoint group saw: volume, errors by cause, latency and service time (ms)."""

    count: int
    ok: int
    errors: dict[str, int]
    error_ratio: float | None
    latency_ms: dict[str, float | None]
    service_ms: dict[str, float | None]

    def metric(self, name: str) -> float | None:
        """An SLO metric: ``error_ratio`` or a latency percentile key."""
        if name == "error_ratio":
            return self.error_ratio
        return self.latency_ms.get(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "ok": self.ok,
            "errors": dict(self.errors),
            "error_ratio": self.error_ratio,
            "latency_ms": dict(self.latency_ms),
            "service_ms": dict(self.service_ms),
        }


def latency_ms(s: Samples) -> np.ndarray:
    """Latency from the intended send time (coordinated-omission safe), in ms."""
    return (s.end_ns - s.intended_ns) / _NS_PER_MS


def service_ms(s: Samples) -> np.ndarray:
    """Service time from the actual send, in ms."""
    return (s.end_ns - s.sent_ns) / _NS_PER_MS


def group_stats(s: Samples) -> dict[str, GroupStats]:
    """Per group present in ``s`` (plus ``*``): counts, causes, error ratio, exact percentiles."""
    requests = s.kind != Kind.WS_GAP
    counted = s.counted()
    lat = latency_ms(s)
    svc = service_ms(s)
    out: dict[str, GroupStats] = {}
    sel = counted
    gkeys = s.group[sel].astype(np.int64)
    lat_keys, _, lat_table = grouped_percentiles(lat[sel], gkeys)
    svc_keys, _, svc_table = grouped_percentiles(svc[sel], gkeys)
    lat_rows = {int(k): row for k, row in zip(lat_keys, lat_table, strict=True)}
    svc_rows = {int(k): row for k, row in zip(svc_keys, svc_table, strict=True)}
    present = np.unique(s.group[requests]).astype(np.int64)
    for g in present:
        in_group = requests & (s.group == g)
        out[s.groups[g]] = _stats(
            s.outcome[in_group],
            _row(lat_rows.get(int(g))),
            _row(svc_rows.get(int(g))),
        )
    if len(present):
        out[ALL_GROUPS] = _stats(
            s.outcome[requests], exact_percentiles(lat[sel]), exact_percentiles(svc[sel])
        )
    return out


def _row(row: np.ndarray | None) -> dict[str, float | None]:
    if row is None:
        return dict.fromkeys(PERCENTILE_KEYS)
    return {k: float(v) for k, v in zip(PERCENTILE_KEYS, row, strict=True)}


def _stats(
    outcome: np.ndarray, lat: dict[str, float | None], svc: dict[str, float | None]
) -> GroupStats:
    errors = cause_counts(outcome)
    count = int(len(outcome) - errors["missed"] - errors["cancelled"])
    bad = int(np.count_nonzero(is_capacity_error(outcome)))
    return GroupStats(
        count=count,
        ok=int(np.count_nonzero(outcome == Outcome.OK)),
        errors=errors,
        error_ratio=(bad / count) if count else None,
        latency_ms=lat,
        service_ms=svc,
    )
