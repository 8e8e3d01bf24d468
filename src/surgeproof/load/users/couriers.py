"""Greenlets that carry calls and are kept for the next one instead of ending after each.

A call sent in a fresh greenlet pays for that greenlet: its object, its first switch, and the
Python frame stack it maps on first use and unmaps when it ends (measured with py-spy on 10,000
users calling every 40 s: spawning and unmapping were about a quarter of the generator's CPU).
A courier that finished its call waits, parked, for the next; a busy process makes more, and
keeps at most ``spare`` parked ones for the quiet moments after a burst.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import gevent
from gevent.hub import Waiter

#: Parked couriers a process keeps; beyond that a courier that finished its call ends.
SPARE_COURIERS = 256


class Couriers:
    """``run(fn, *args)`` runs ``fn`` in a greenlet of its own, reusing parked ones."""

    def __init__(self, spare: int = SPARE_COURIERS) -> None:
        self.spare = spare
        self._parked: list[Waiter] = []
        #: Couriers alive: carrying a call, about to, or parked.
        self.alive = 0

    @property
    def parked(self) -> int:
        return len(self._parked)

    def run(self, fn: Callable[..., Any], *args: Any) -> None:
        """Start ``fn(*args)`` in a courier; returns at once (the call runs when this yields)."""
        if self._parked:
            waiter = self._parked.pop()
            gevent.get_hub().loop.run_callback(waiter.switch, (fn, args))
        else:
            self.alive += 1
            gevent.spawn(self._carry, fn, args)

    def _carry(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            while True:
                try:
                    fn(*args)
                except Exception:  # a failed call is reported, as an ended greenlet's would be
                    gevent.get_hub().print_exception(gevent.getcurrent(), *sys.exc_info())
                # Drop references before parking: a parked courier holds no user alive.
                fn = args = None  # type: ignore[assignment]
                if len(self._parked) >= self.spare:
                    return
                waiter = Waiter()
                self._parked.append(waiter)
                try:
                    fn, args = waiter.get()
                except BaseException:  # killed while parked: never hand it a call again
                    if waiter in self._parked:
                        self._parked.remove(waiter)
                    raise
        finally:
            self.alive -= 1
