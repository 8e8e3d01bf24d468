"""Bounded worker pools: the exact, CPU-free capacity of the exchange.

A pool has ``workers`` slots and at most ``max_queue`` waiters; a waiter gives up at its
deadline (arrival + queue timeout). Work is simulated by sleeping while holding a slot, so the
pool's throughput is exactly workers / service time no matter how busy the CPU is.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque


class Shed(Exception):
    """The pool refused the request: its queue was full or the wait ran past the deadline."""

    def __init__(self, pool: str, reason: str):
        super().__init__(f"{pool}: {reason}")
        self.pool = pool
        self.reason = reason  # "queue_full" | "queue_timeout"


class WorkerPool:
    """``workers`` slots with a bounded FIFO queue; tracks busy time per whole second."""

    def __init__(self, name: str, workers: int, max_queue: int) -> None:
        self.name = name
        self.workers = workers
        self.max_queue = max_queue
        self.busy = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._last = time.time()
        self._busy_time: dict[int, float] = {}
        self.queue_depth_max: dict[int, int] = {}

    @property
    def queued(self) -> int:
        return len(self._waiters)

    def _account(self, now: float) -> None:
        """Add busy-slot time since the last change into per-second buckets."""
        last, busy = self._last, self.busy
        if busy:
            while int(last) < int(now):
                edge = float(int(last) + 1)
                sec = int(last)
                self._busy_time[sec] = self._busy_time.get(sec, 0.0) + busy * (edge - last)
                last = edge
            sec = int(now)
            self._busy_time[sec] = self._busy_time.get(sec, 0.0) + busy * (now - last)
        self._last = now

    def utilisation(self, second: int) -> float:
        """Busy fraction of the pool's slots during one whole second (0..1)."""
        self._account(time.time())
        if not self.workers:
            return 0.0
        return min(self._busy_time.get(second, 0.0) / self.workers, 1.0)

    def forget_before(self, second: int) -> None:
        """Drop per-second bookkeeping older than ``second``."""
        for table in (self._busy_time, self.queue_depth_max):
            for key in [k for k in table if k < second]:
                del table[key]

    async def acquire(self, deadline: float) -> None:
        """Take a slot, waiting in the queue until ``deadline`` (unix seconds) at most."""
        now = time.time()
        if self.busy < self.workers and not self._waiters:
            self._account(now)
            self.busy += 1
            return
        if len(self._waiters) >= self.max_queue:
            raise Shed(self.name, "queue_full")
        timeout = deadline - now
        if timeout <= 0:
            raise Shed(self.name, "queue_timeout")
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        sec = int(now)
        depth = len(self._waiters)
        if depth > self.queue_depth_max.get(sec, 0):
            self.queue_depth_max[sec] = depth
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            if fut.done() and not fut.cancelled():
                return  # the slot was handed over just as the wait ended: keep it
            raise Shed(self.name, "queue_timeout") from None
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # handed a slot, then cancelled: pass it on
            raise
        finally:
            if not fut.done():
                fut.cancel()
            with contextlib.suppress(ValueError):
                self._waiters.remove(fut)

    def release(self) -> None:
        """Give the slot to the oldest live waiter, or free it."""
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # the slot passes on; busy count unchanged
                return
        self._account(time.time())
        self.busy -= 1

    def resize(self, workers: int) -> None:
        """Change the number of slots (the auto-scaler); wakes waiters if slots were added."""
        self._account(time.time())
        self.workers = workers
        while self.busy < self.workers and self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                self.busy += 1
                fut.set_result(None)

    async def hold(self, deadline: float, seconds: float) -> None:
        """Acquire, sleep ``seconds`` (the simulated service time), and keep the slot."""
        await self.acquire(deadline)
        if seconds > 0:
            try:
                await asyncio.sleep(seconds)
            except BaseException:
                self.release()
                raise


class AutoScaler:
    """Adds workers ``lag_s`` after utilisation of a pool first crosses ``threshold``.

    Only scales up (the night's problem was the lag, not the way back down).
    """

    def __init__(self, pool: WorkerPool, threshold: float, lag_s: float, step: int, cap: int):
        self.pool = pool
        self.threshold = threshold
        self.lag_s = lag_s
        self.step = step
        self.cap = cap
        self.pending_at: float | None = None
        self.events: list[dict] = []

    def observe(self, second: int, now: float) -> None:
        """Called once per second with the last whole second's utilisation."""
        pool = self.pool
        if self.pending_at is not None and now >= self.pending_at:
            new = min(pool.workers + self.step, self.cap)
            self.events.append({"t": now, "from": pool.workers, "to": new})
            pool.resize(new)
            self.pending_at = None
        if self.pending_at is None and pool.workers < self.cap:
            hot = pool.utilisation(second) >= self.threshold or pool.queued > 0
            if hot:
                self.pending_at = now + self.lag_s
