"""Per-endpoint figures and websocket sessions for the report, from the raw records.

``analysis.json`` summarises per endpoint *group*; an SRE also wants the endpoint itself
(``POST /v1/orders`` vs ``DELETE /v1/order``). These use the analyzer's own definitions (which
outcomes count, which are capacity errors, exact percentiles from the intended send time), so the
table and the analysis cannot disagree on what an error or a latency is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from surgeproof.analysis.causes import cause_counts, has_latency, is_capacity_error
from surgeproof.analysis.percentiles import exact_percentiles
from surgeproof.rundir.reader import open_record_sources, read_server_metrics
from surgeproof.rundir.schema import Kind, Outcome


@dataclass(frozen=True)
class EndpointRow:
    """One endpoint's whole-run figures."""

    name: str
    group: str
    count: int
    ok: int
    error_ratio: float | None
    errors: dict[str, int]
    latency_ms: dict[str, float | None]


@dataclass(frozen=True)
class WebsocketSeries:
    """Websocket activity per second from ``t0``: client connects and the server's open sessions."""

    t_s: np.ndarray
    connects_ok: np.ndarray
    connects_failed: np.ndarray
    server_t_s: np.ndarray
    server_open: np.ndarray  # open websocket connections as the embedded exchange counts them


def endpoint_table(run_dir: Path) -> list[EndpointRow]:
    """Whole-run figures per endpoint name (busiest first); websocket gap records excluded."""
    opened = open_record_sources(Path(run_dir))
    ids, outcomes, latencies = [], [], []
    for src in opened.sources:
        rec = src.records
        if not len(rec):
            continue
        keep = np.asarray(rec["kind"]) != Kind.WS_GAP
        ids.append(opened.global_ids(src, np.asarray(rec["name_id"])[keep]))
        outcomes.append(np.asarray(rec["outcome"])[keep])
        latencies.append(
            (np.asarray(rec["end_ns"])[keep] - np.asarray(rec["intended_ns"])[keep]) / 1e6
        )
    if not ids:
        return []
    name_ids, outcome, latency = (np.concatenate(x) for x in (ids, outcomes, latencies))
    rows = []
    for nid in np.unique(name_ids):
        mine = name_ids == nid
        out = outcome[mine]
        errors = cause_counts(out)
        count = int(len(out) - errors["missed"] - errors["cancelled"])
        counted = has_latency(out)
        bad = int(np.count_nonzero(is_capacity_error(out)))
        rows.append(
            EndpointRow(
                name=opened.names[int(nid)],
                group=opened.groups[int(nid)],
                count=count,
                ok=int(np.count_nonzero(out == Outcome.OK)),
                error_ratio=bad / count if count else None,
                errors=errors,
                latency_ms=exact_percentiles(latency[mine][counted]),
            )
        )
    return sorted(rows, key=lambda r: (-r.count, r.name))


def websocket_series(run_dir: Path, t0_ns: int) -> WebsocketSeries:
    """Websocket connects per second (ok / failed) and the server's open-connection count."""
    opened = open_record_sources(Path(run_dir))
    t_parts, ok_parts = [], []
    for src in opened.sources:
        rec = src.records
        if not len(rec):
            continue
        mine = np.asarray(rec["kind"]) == Kind.WS_CONNECT
        if not mine.any():
            continue
        t_parts.append((np.asarray(rec["intended_ns"])[mine] - t0_ns) / 1e9)
        ok_parts.append(np.asarray(rec["outcome"])[mine] == Outcome.OK)
    rows, _ = read_server_metrics(Path(run_dir))
    server = [(float(r["t"]) - t0_ns / 1e9, r.get("ws_connections")) for r in rows if "t" in r]
    server = [(t, float(v)) for t, v in server if v is not None]
    server_t = np.array([t for t, _ in server])
    server_open = np.array([v for _, v in server])
    if not t_parts:
        empty = np.empty(0)
        return WebsocketSeries(empty, empty, empty, server_t, server_open)
    t, ok = np.concatenate(t_parts), np.concatenate(ok_parts)
    span = int(np.ceil(max(t.max(), 0))) + 1
    bins = np.clip(np.floor(t).astype(np.int64), 0, span - 1)
    connects_ok = np.bincount(bins[ok], minlength=span)
    connects_failed = np.bincount(bins[~ok], minlength=span)
    return WebsocketSeries(
        np.arange(span, dtype=float), connects_ok, connects_failed, server_t, server_open
    )


def as_dict(row: EndpointRow) -> dict[str, Any]:
    """The row as JSON-ready data (for report.json-like consumers and tests)."""
    return {
        "name": row.name,
        "group": row.group,
        "count": row.count,
        "ok": row.ok,
        "error_ratio": row.error_ratio,
        "errors": row.errors,
        "latency_ms": row.latency_ms,
    }
