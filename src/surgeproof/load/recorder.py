"""Exact per-call recording into preallocated numpy buffers, drained to a sink every second.

Every intended call becomes one record (ok, error by cause, missed or cancelled). The recorder
runs inside gevent greenlets of one process; ``record`` never yields, so no lock is needed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from surgeproof.rundir.schema import RECORD_DTYPE, Kind, Outcome

#: Records held between drains; a full buffer is drained early rather than dropped.
BUFFER_RECORDS = 1 << 16


@dataclass
class SecondCounters:
    """What this process saw since the last timeline sample (reset every second)."""

    late_sends: int = 0
    missed: int = 0
    backlogged: int = 0
    sent: int = 0
    errors: int = 0


@dataclass
class Recorder:
    """Per-process record buffer, name table and counters."""

    #: Send lag beyond which a send counts as late in the timeline (the generator fell behind).
    late_after_ns: int = 50_000_000
    names: dict[str, int] = field(default_factory=dict)
    groups: dict[int, tuple[str, str]] = field(default_factory=dict)
    counters: SecondCounters = field(default_factory=SecondCounters)
    total: int = 0

    def __post_init__(self) -> None:
        self._buf = np.zeros(BUFFER_RECORDS, dtype=RECORD_DTYPE)
        self._n = 0
        self._new_names: dict[int, tuple[str, str]] = {}
        self._overflow: list[np.ndarray] = []
        self.inflight = 0

    def name_id(self, name: str, group: str) -> int:
        """The id of ``name`` in this source's names file, declaring it on first use."""
        nid = self.names.get(name)
        if nid is None:
            nid = len(self.names)
            self.names[name] = nid
            self.groups[nid] = (name, group)
            self._new_names[nid] = (name, group)
        return nid

    def record(
        self,
        intended_ns: int,
        sent_ns: int,
        end_ns: int,
        name_id: int,
        status: int,
        outcome: int,
        kind: int = Kind.HTTP,
        attempt: int = 0,
        flags: int = 0,
        user: int = 0,
        concurrency: int = 0,
    ) -> None:
        """Append one record; never yields to other greenlets."""
        if self._n == len(self._buf):
            self._overflow.append(self._buf)
            self._buf = np.zeros(BUFFER_RECORDS, dtype=RECORD_DTYPE)
            self._n = 0
        self._buf[self._n] = (
            intended_ns,
            sent_ns,
            end_ns,
            name_id,
            status,
            outcome,
            kind,
            min(attempt, 255),
            flags,
            user,
            concurrency,
        )
        self._n += 1
        self.total += 1
        c = self.counters
        if outcome == Outcome.MISSED:
            c.missed += 1
            return
        if outcome == Outcome.BACKLOGGED:
            c.backlogged += 1
            return
        if outcome == Outcome.INVALID_REQUEST:  # never sent: an error, not a send
            c.errors += 1
            return
        if kind == Kind.HTTP:
            c.sent += 1
            if sent_ns - intended_ns > self.late_after_ns:
                c.late_sends += 1
            if outcome != Outcome.OK:
                c.errors += 1

    def unsent(
        self,
        intended_ns: int,
        name_id: int,
        user: int,
        concurrency: int,
        flags: int = 0,
        outcome: int = Outcome.BACKLOGGED,
    ) -> None:
        """A call that fell due while its user had the most calls out it may have: backlogged
        (they were sent and unanswered) or missed (some still waited to be sent)."""
        self.record(
            intended_ns,
            0,
            0,
            name_id,
            0,
            outcome,
            Kind.HTTP,
            0,
            flags,
            user,
            concurrency,
        )

    def drain(self) -> tuple[bytes, dict[int, tuple[str, str]]]:
        """Records and newly declared names since the last drain, as raw bytes and a dict."""
        parts = [*self._overflow, self._buf[: self._n]]
        raw = b"".join(np.ascontiguousarray(p).tobytes() for p in parts)
        self._overflow = []
        self._n = 0
        names, self._new_names = self._new_names, {}
        return raw, names

    def take_counters(self) -> SecondCounters:
        """The counters of the interval just ended; starts a new interval."""
        c, self.counters = self.counters, SecondCounters()
        return c


def now_ns() -> int:
    """Wall-clock Unix time in ns: the time base of every record and event."""
    return time.time_ns()
