"""Per-process load context: the recorder, the current state, accounts and in-flight calls.

One exists per generator process (the local runner, or each worker), attached to the Locust
environment as ``environment.surgeproof`` so that user classes can reach it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from surgeproof.dialect.catalog import DEFAULT, load_dialect
from surgeproof.dialect.model import Dialect
from surgeproof.load.accounts import Account
from surgeproof.load.order_journal import OrderJournal
from surgeproof.load.recorder import Recorder, now_ns
from surgeproof.load.state import LoadState
from surgeproof.rundir.schema import Kind, Outcome

#: Distinct reasons for requests that could not be built told per process (one per endpoint
#: and cause in practice; the bound keeps a pathological dialect from flooding the timeline).
MAX_INVALID_REASONS = 64


@dataclass
class InFlight:
    """A call that was sent and has not come back yet (cancelled if the run ends first)."""

    intended_ns: int
    sent_ns: int
    name_id: int
    attempt: int
    flags: int
    user: int
    concurrency: int
    kind: int = Kind.HTTP
    greenlet: Any = None


@dataclass
class LoadContext:
    """Everything the simulated users of one process share."""

    source: str
    recorder: Recorder = field(default_factory=Recorder)
    #: Order calls and their answers (order ids), drained with each batch into ``orders/``.
    orders: OrderJournal = field(default_factory=OrderJournal)
    state: LoadState = field(default_factory=LoadState)
    accounts: list[Account] = field(default_factory=list)
    #: The API the target speaks (set by the runner; Upbit's unless a run names another).
    dialect: Dialect = field(default_factory=lambda: load_dialect(DEFAULT))
    #: Whether ``ws://`` of the target is reachable (market watchers subscribe); set by the runner.
    ws_url: str | None = None
    #: Most calls a user keeps in flight before further due calls are recorded as ``backlogged``.
    max_inflight_per_user: int = 4
    #: Spread of arrivals: a spawned user waits a random part of this before it starts.
    arrival_spread_s: float = 1.0
    active_users: int = 0
    #: Users that left and still finish their calls and log out (the drain waits for them).
    leaving: int = 0
    ready: bool = True
    #: Set when the run ends: users send nothing new while calls in flight get time to return.
    finishing: bool = False
    #: Also feed Locust's own statistics (its web UI, plain-Locust runs); surgeproof's records
    #: do not need them, so ``surgeproof run`` leaves this off.
    locust_stats: bool = False
    on_state: list[Callable[[LoadState], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        from surgeproof.load.users.call_clock import CallClock
        from surgeproof.load.users.couriers import Couriers

        #: Every user's next call (one clock per process; it hands nothing over while draining).
        self.calls = CallClock(held=lambda: self.finishing)
        #: The greenlets that carry calls, reused.
        self.couriers = Couriers()
        self._ids = itertools.count(1)
        self._inflight: dict[int, InFlight] = {}
        self._tokens = itertools.count(1)
        #: (endpoint, reason) of requests the dialect could not build, first sight only;
        #: ``take_invalid`` hands the new ones to the next timeline sample.
        self._invalid_seen: set[tuple[str, str]] = set()
        self._invalid_new: list[dict[str, str]] = []

    def note_invalid(self, endpoint: str, reason: str) -> None:
        """A request of ``endpoint`` could not be built; ``reason`` names no value (a
        ``RequestError``). Each distinct reason is told once, up to MAX_INVALID_REASONS."""
        key = (endpoint, reason.removeprefix(f"{endpoint}: "))
        if key in self._invalid_seen or len(self._invalid_seen) >= MAX_INVALID_REASONS:
            return
        self._invalid_seen.add(key)
        self._invalid_new.append({"endpoint": key[0], "reason": key[1]})

    def take_invalid(self) -> list[dict[str, str]]:
        """The reasons noted since the last call."""
        new, self._invalid_new = self._invalid_new, []
        return new

    def next_user_id(self) -> int:
        return next(self._ids)

    def account_for(self, user_id: int) -> Account | None:
        if not self.accounts:
            return None
        return self.accounts[user_id % len(self.accounts)]

    def set_state(self, state: LoadState) -> None:
        self.state = state
        for cb in self.on_state:
            cb(state)

    def begin(self, entry: InFlight) -> int:
        """Register a call as in flight; returns the token ``end`` takes."""
        token = next(self._tokens)
        self._inflight[token] = entry
        self.recorder.inflight = len(self._inflight)
        return token

    def end(self, token: int) -> InFlight | None:
        """Unregister a call; None when it was already recorded as cancelled."""
        entry = self._inflight.pop(token, None)
        self.recorder.inflight = len(self._inflight)
        return entry

    def drain(self, grace_s: float) -> int:
        """Stop new calls and wait up to ``grace_s`` for those in flight; how many are left.

        Cancelling at once would leave calls that were counted as sent but may or may not have
        reached the target, so client and server counts could not be reconciled exactly. Users
        that are leaving count too: their logouts are about to be sent.
        """
        import gevent

        self.finishing = True
        deadline = time.monotonic() + grace_s
        while (self._inflight or self.leaving) and time.monotonic() < deadline:
            gevent.sleep(0.05)
        return len(self._inflight)

    def cancel_all(self) -> int:
        """Record every call still in flight as cancelled and stop them; returns how many."""
        entries = list(self._inflight.values())
        self._inflight.clear()
        self.recorder.inflight = 0
        t = now_ns()
        for e in entries:
            self.recorder.record(
                e.intended_ns,
                e.sent_ns,
                t,
                e.name_id,
                0,
                Outcome.CANCELLED,
                e.kind,
                e.attempt,
                e.flags,
                e.user,
                e.concurrency,
            )
        for e in entries:
            if e.greenlet is not None:
                e.greenlet.kill(block=False)
        return len(entries)
