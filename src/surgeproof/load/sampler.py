"""Drain a process's recorder once a second into a batch: records, names and a timeline sample."""

from __future__ import annotations

from typing import Any

import psutil

from surgeproof.load.context import LoadContext
from surgeproof.load.recorder import now_ns
from surgeproof.load.subscription import GAP_CLOCK


class Sampler:
    """Per-process: builds the timeline sample (FORMAT.md) that goes with each drained batch."""

    def __init__(self, ctx: LoadContext) -> None:
        self.ctx = ctx
        self._proc = psutil.Process()
        self._proc.cpu_percent(None)

    def take(self) -> tuple[bytes, dict[int, tuple[str, str]], dict[str, Any]]:
        ctx = self.ctx
        raw, names = ctx.recorder.drain()
        c = ctx.recorder.take_counters()
        sample = {
            "t_ns": now_ns(),
            "source": ctx.source,
            "target_users": ctx.state.target_users,
            "active_users": ctx.active_users,
            "cpu_percent": self._proc.cpu_percent(None),
            "late_sends": c.late_sends,
            "missed": c.missed,
            "backlogged": c.backlogged,
            "inflight": ctx.recorder.inflight,
            "sent": c.sent,
            "errors": c.errors,
            "phase": ctx.state.phase_name,
            # Subscribed and being read now: records show connects and losses, not who is live.
            "ws_sessions": len(GAP_CLOCK),
        }
        invalid = ctx.take_invalid()
        if invalid:  # the collector turns these into events; they stay out of the timeline
            sample["invalid_requests"] = invalid
        return raw, names, sample
