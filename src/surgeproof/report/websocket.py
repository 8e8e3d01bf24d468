"""Websocket activity for the report's chart: client connects per second (ok / failed) from the
raw records, beside the open sessions the embedded exchange counted itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from surgeproof.rundir.reader import open_record_sources, read_server_metrics
from surgeproof.rundir.schema import Kind, Outcome


@dataclass(frozen=True)
class WebsocketSeries:
    """Websocket activity per second from ``t0``: client connects and the server's open sessions."""

    t_s: np.ndarray
    connects_ok: np.ndarray
    connects_failed: np.ndarray
    server_t_s: np.ndarray
    server_open: np.ndarray  # open websocket connections as the embedded exchange counts them


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
