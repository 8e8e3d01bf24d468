"""One clock per generator process for every user's next call, instead of a greenlet per user.

An open-model user spends almost all of its life waiting for its next call to fall due. A
sleeping greenlet per user makes each call cost a timer, two switches into and out of that
user's greenlet, and a new greenlet to carry the call (whose Python frame stack is mapped and
unmapped every time). The clock keeps every user's next due time in one heap: one greenlet sleeps
until the earliest, then hands each call that is due to the user's ``on_due(intended_ns)``, which
decides what to send and sets its next due time. What is due is handed over in due order at or
after its time, never before it; the time handed over is the intended time the call is recorded
against, so a clock that falls behind shows as late sends, as a sleeping user's would.
"""

from __future__ import annotations

import heapq
import itertools
import sys
from collections.abc import Callable

import gevent
from gevent.hub import Waiter

from surgeproof.load.recorder import now_ns

#: While the clock is held (the run is draining), how often it looks again.
HELD_POLL_S = 0.1


class Due:
    """One scheduled call: when, and whom to tell (None once cancelled or handed over)."""

    __slots__ = ("at_ns", "call", "seq")

    def __init__(self, at_ns: int, seq: int, call: Callable[[int], None]) -> None:
        self.at_ns = at_ns
        self.seq = seq
        self.call: Callable[[int], None] | None = call

    def __lt__(self, other: Due) -> bool:
        return (self.at_ns, self.seq) < (other.at_ns, other.seq)

    @property
    def pending(self) -> bool:
        """Neither handed over nor cancelled yet."""
        return self.call is not None


class DueCalls:
    """The heap itself: due times earliest first, ties in the order they were set."""

    __slots__ = ("_heap", "_pending", "_seq")

    def __init__(self) -> None:
        self._heap: list[Due] = []
        self._seq = itertools.count()
        self._pending = 0

    def __len__(self) -> int:
        """Calls set and neither handed over nor cancelled."""
        return self._pending

    def add(self, at_ns: int, call: Callable[[int], None]) -> Due:
        """Set ``call(at_ns)`` to be handed over once ``at_ns`` has come."""
        due = Due(at_ns, next(self._seq), call)
        heapq.heappush(self._heap, due)
        self._pending += 1
        return due

    def cancel(self, due: Due | None) -> None:
        """Forget ``due`` if it is still pending (its heap slot is dropped when reached)."""
        if due is not None and due.call is not None:
            due.call = None
            self._pending -= 1

    def next_at(self) -> int | None:
        """The earliest pending due time, or None when nothing is pending."""
        heap = self._heap
        while heap and heap[0].call is None:
            heapq.heappop(heap)
        return heap[0].at_ns if heap else None

    def take(self, now: int) -> tuple[int, Callable[[int], None]] | None:
        """The earliest pending call due at or before ``now`` (now handed over), or None."""
        heap = self._heap
        while heap and heap[0].call is None:
            heapq.heappop(heap)
        if not heap or heap[0].at_ns > now:
            return None
        due = heapq.heappop(heap)
        call, due.call = due.call, None
        self._pending -= 1
        assert call is not None
        return due.at_ns, call


class CallClock:
    """The process's clock: one greenlet hands every due call to its user, in due order.

    ``held()`` true (the run draining) stops handing calls over without forgetting them.
    A user's ``on_due`` must not block: it decides and hands the sending to another greenlet.
    """

    def __init__(self, held: Callable[[], bool] = lambda: False) -> None:
        self.calls = DueCalls()
        self.held = held
        self._runner = None
        self._waiter = None
        self._sleeping_until = 0

    def __len__(self) -> int:
        return len(self.calls)

    def at(self, at_ns: int, call: Callable[[int], None]) -> Due:
        """Hand ``call(at_ns)`` over once ``at_ns`` has come; the handle cancels it."""
        due = self.calls.add(at_ns, call)
        if self._runner is None or self._runner.dead:
            self._runner = gevent.spawn(self._run)
        elif self._waiter is not None and at_ns < self._sleeping_until:
            self._wake()
        return due

    def cancel(self, due: Due | None) -> None:
        self.calls.cancel(due)

    def _run(self) -> None:
        calls = self.calls
        while len(calls):
            if self.held():
                self._sleep(HELD_POLL_S)
                continue
            now = now_ns()
            while (item := calls.take(now)) is not None:
                at_ns, call = item
                try:
                    call(at_ns)
                except Exception:  # one user's fault must not stop every other user's calls
                    gevent.get_hub().print_exception(self._runner, *sys.exc_info())
            nxt = calls.next_at()
            if nxt is not None:
                self._sleep((nxt - now_ns()) / 1e9, nxt)

    def _sleep(self, seconds: float, until_ns: int = 0) -> None:
        """Sleep ``seconds``, or less if a call is set earlier than ``until_ns`` meanwhile.

        Always yields, even when the next call is already due: the calls just handed over are
        carried by other greenlets, which must get to run before the clock hands over more.
        """
        if seconds <= 0:
            gevent.sleep(0)
            return
        hub = gevent.get_hub()
        waiter = Waiter(hub)
        timer = hub.loop.timer(seconds)
        self._waiter, self._sleeping_until = waiter, until_ns
        timer.start(waiter.switch, None)
        try:
            waiter.get()
        finally:
            timer.close()
            self._waiter, self._sleeping_until = None, 0

    def _wake(self) -> None:
        """Cut the runner's sleep short (called from another greenlet: the hub switches)."""
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            gevent.get_hub().loop.run_callback(waiter.switch, None)
