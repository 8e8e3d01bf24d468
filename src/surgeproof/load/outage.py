"""A target outage injected into a run: the embedded exchange killed for real, then restarted.

``--inject-target-outage AT:SECONDS`` SIGKILLs the embedded exchange process AT seconds into
the run, leaves its port dark for SECONDS, and starts it again on the same port with the same
command (same seed, so the same accounts and markets; sessions, orders and websockets that
lived only in the dead process are gone). The run goes on throughout: calls fail with
connection errors, users re-establish what they lost, and ``target_down`` / ``target_up`` events
mark the outage for the analysis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from surgeproof.errors import UserError
from surgeproof.load.collector import Collector
from surgeproof.load.recorder import now_ns
from surgeproof.load.target import Target, restart_embedded
from surgeproof.scenario.numbers import parse_number


@dataclass(frozen=True)
class TargetOutage:
    """Kill the embedded target ``at_s`` seconds after t0 and keep it down ``seconds``."""

    at_s: float
    seconds: float


def parse_outage(text: str) -> TargetOutage:
    """``AT:SECONDS`` (e.g. ``8:3``) → a TargetOutage; a one-line UserError otherwise."""
    at, sep, secs = text.partition(":")
    try:
        outage = TargetOutage(parse_number(at), parse_number(secs))
    except ValueError:
        outage = None
    if not sep or outage is None or outage.at_s < 0 or outage.seconds <= 0:
        raise UserError(f"--inject-target-outage {text!r}: expected AT:SECONDS like 8:3")
    return outage


def play_outage(
    target: Target,
    collector: Collector,
    seconds: float,
    on_down: Callable[[int, int], None] | None = None,
) -> tuple[int, int, int] | None:
    """Kill the exchange, wait ``seconds``, restart it on its port; record both edges.

    Returns (down_ns, up_ns, new pid), or None when the exchange was already gone; ``on_down``
    hears (down_ns, pid) as soon as the process is killed."""
    import gevent

    proc = target.process
    if proc is None or proc.poll() is not None:
        return None
    down = now_ns()
    collector.event("target_down", t_ns=down, cause="injected", signal="SIGKILL", pid=proc.pid)
    proc.kill()
    if on_down is not None:
        on_down(down, proc.pid)
    proc.wait()
    gevent.sleep(max(0.0, seconds - (now_ns() - down) / 1e9))
    new = restart_embedded(target)
    up = now_ns()
    collector.event("target_up", t_ns=up, down_s=(up - down) / 1e9, pid=new.pid)
    return down, up, new.pid


@dataclass
class TargetWatch:
    """Notices an embedded exchange that died on its own (not by an injected outage)."""

    target: Target
    reported_pid: int | None = None

    def check(self, collector: Collector, injecting: bool) -> None:
        proc = self.target.process
        if injecting or proc is None or proc.pid == self.reported_pid:
            return
        code = proc.poll()
        if code is not None:
            self.reported_pid = proc.pid
            collector.event("target_down", cause=f"exited with code {code}", pid=proc.pid)
            print(
                f"surgeproof run: the embedded exchange exited (code {code}); "
                "every further call fails with a connection error",
                flush=True,
            )
