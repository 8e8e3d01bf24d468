"""A run that is stuck still answers SIGTERM and SIGINT, stops within a bound, and says so.

The conductor's stop handling runs on gevent's hub: a signal sets the stop reason, the loop
drains and writes run.json. A greenlet that never yields — a C call that never returns, a
loop that never sleeps — keeps the hub from running, so the signal would be noted and never
acted on (``run.json`` left ``running``, SIGKILL the only way out).

This guard takes the signals with Python's own handler, which the interpreter runs between
bytecodes even while a greenlet hogs the hub, and watches a heartbeat that a greenlet beats
while the hub turns, from a real OS thread (not a greenlet: it runs while the hub cannot).
After a signal the normal stop proceeds; if the heartbeat then stays silent for
``stuck_after_s`` (the generator is stuck), or the stop takes longer than ``finish_cap_s``, or
a second signal comes, the guard ends the run itself: run.json marked (``partial`` with the
records flushed so far, or ``failed`` when there are none), the run's own child processes
(exchange, local workers) terminated, and the process exits with 3.

What it cannot reach is a C call that holds the GIL forever (Python's ``re`` backtracking on a
hostile pattern): no Python thread runs then. That case is removed at the source: dialect
patterns run on RE2 (``dialect/pattern.py``), which cannot backtrack.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from surgeproof.load.meta import end_status, iso_pair
from surgeproof.load.recorder import now_ns
from surgeproof.rundir.writer import write_meta

#: Signals that stop a run.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
#: Heartbeat silence after a stop signal that means the generator is stuck.
STUCK_AFTER_S = 5.0
#: Exit code of a run the guard had to end (as a partial run's).
EXIT_STUCK = 3


def _original(module: str, name: str) -> Any:
    """The unpatched function (gevent replaces threads and sleeps with greenlets)."""
    try:
        from gevent import monkey

        return monkey.get_original(module, name)
    except ImportError:  # pragma: no cover - gevent is a dependency of locust
        return getattr(__import__(module), name)


class StopGuard:
    """Python-level signal handlers and an OS-thread watch: a hard stop when the hub stops
    answering after a stop signal (see the module's doc)."""

    def __init__(
        self,
        run_dir: Path,
        on_signal: Callable[[str], None],
        last_words: Callable[[], tuple[dict[str, Any], int, int, str | None]],
        *,
        stuck_after_s: float = STUCK_AFTER_S,
        finish_cap_s: float = 120.0,
    ) -> None:
        """``on_signal(name)`` starts the normal stop; ``last_words()`` gives (run.json so far,
        records on disk, calls sent, stop reason) for a hard stop."""
        self.run_dir = run_dir
        self.on_signal = on_signal
        self.last_words = last_words
        self.stuck_after_s = stuck_after_s
        self.finish_cap_s = finish_cap_s
        self._beat = time.monotonic()
        self._signalled_at: float | None = None
        self._signals = 0
        self._done = False
        self._previous: dict[int, Any] = {}

    def start(self) -> None:
        """Take SIGTERM and SIGINT, watch from an OS thread, beat from a greenlet."""
        import gevent

        self._previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._on_signal)
        _original("_thread", "start_new_thread")(self._watch, ())
        gevent.spawn(self._heartbeat)

    def done(self) -> None:
        """The run ended by itself: stop watching, give the signals back."""
        self._done = True
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)

    def beat(self) -> None:
        self._beat = time.monotonic()

    def signalled(self, name: str) -> None:
        """A stop signal arrived: the first starts the normal stop, a second ends the run."""
        if self._done:
            return
        self._signals += 1
        if self._signals == 1:
            self._signalled_at = time.monotonic()
            self.on_signal(name)
        else:
            self._hard_stop(f"a second {name}: stopped at once, without draining")

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self.signalled(signal.Signals(signum).name)

    def _heartbeat(self) -> None:
        import gevent

        while not self._done:
            self.beat()
            gevent.sleep(0.25)

    def _watch(self) -> None:
        sleep = _original("time", "sleep")
        while not self._done:
            sleep(0.2)
            at = self._signalled_at
            if at is None or self._done:
                continue
            now = time.monotonic()
            if now - self._beat > self.stuck_after_s:
                self._hard_stop(
                    f"stuck: the generator did not answer for {self.stuck_after_s:g} s after the "
                    "signal; stopped without draining"
                )
            elif now - at > self.finish_cap_s:
                self._hard_stop(f"the stop took longer than {self.finish_cap_s:g} s")

    def _hard_stop(self, why: str) -> None:
        """Mark run.json, end this run's child processes, exit."""
        try:
            meta, records, sent, stop_reason = self.last_words()
            reason = f"{stop_reason}; {why}" if stop_reason else why
            status, because = end_status(reason, records, sent)
            utc, kst = iso_pair(now_ns())
            extra: dict[str, Any] = {
                "status": status,
                "ended_at_utc": utc,
                "ended_at_kst": kst,
                "stopped_at_utc": utc,
                "partial_reason": reason,
            }
            if status == "failed":
                extra["failed_reason"] = because
            write_meta(self.run_dir, {**meta, **extra})
            print(f"surgeproof run: {status} ({because})", flush=True)
        finally:
            _end_children()
            sys.stdout.flush()
            os._exit(EXIT_STUCK)


def _end_children(grace_s: float = 3.0) -> None:
    """Terminate this process's own children (then kill what is left): exchange, workers.

    Runs on the guard's OS thread: sleeps with the unpatched ``time.sleep``, not gevent's."""
    sleep = _original("time", "sleep")
    try:
        children = psutil.Process().children(recursive=True)
    except psutil.Error:
        return
    for child in children:
        try:
            child.terminate()
        except psutil.Error:
            continue
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(_alive(c) for c in children):
        sleep(0.1)
    for child in children:
        if _alive(child):
            try:
                child.kill()
            except psutil.Error:
                continue


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
