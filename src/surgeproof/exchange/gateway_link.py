"""One gateway id as the core sees it: its current process, and totals over all its processes."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time

from surgeproof.exchange.gateway_channel import Channel
from surgeproof.exchange.metrics import SecondStats

#: How long a gateway whose channel closed may take to exit before it is killed.
REAP_GRACE_S = 1.0


class GatewayLink:
    """One gateway id as the core sees it: its current process, and totals over all of them."""

    def __init__(self, gid: int) -> None:
        self.gid = gid
        self.process: subprocess.Popen | None = None
        self.channel: Channel | None = None
        self.serving: asyncio.Task | None = None  # reads the current process's channel
        self.ready: asyncio.Future[dict] | None = None
        self.pid = 0
        self.alive = False  # said hello, channel open
        self.generation = 0  # 1 for the original process, +1 per replacement
        self.started = 0.0  # monotonic time the current process was spawned
        self.fd_limit = 0
        self.budget = 0
        self.live = 0  # open connections
        self.reserved = 0  # granted, upgrade not finished
        self.pending: dict[int, SecondStats] = {}
        self.reported = {"sent": 0, "dropped": 0}  # the current process's own totals
        # Over every process of this id, so the per-second counts never go backwards.
        self.connects = 0
        self.sent = 0
        self.dropped = 0
        # What sample() has already booked into per-second metrics.
        self.booked = {"connects": 0, "sent": 0, "dropped": 0}
        self.restarts = 0
        self.lives: list[float] = []  # seconds each dead process lived, oldest first
        self.died_at: float | None = None
        self.restarted_at: float | None = None
        self.last_exit: str | None = None

    def attach(self, process: subprocess.Popen) -> None:
        """A new process serves this id: its connections and reports count from zero."""
        self.process = process
        self.pid = process.pid
        self.generation += 1
        self.started = time.monotonic()
        self.ready = asyncio.get_running_loop().create_future()
        self.reported = {"sent": 0, "dropped": 0}
        self.live = self.reserved = 0

    def describe(self) -> dict:
        return {
            "id": self.gid,
            "pid": self.pid,
            "alive": self.alive,
            "restarts": self.restarts,
            "restarted_at": self.restarted_at,
            "died_at": self.died_at,
            "last_exit": self.last_exit,
            "connections": self.live,
            "connects_total": self.connects,
            "messages_sent_total": self.sent,
            "messages_dropped_total": self.dropped,
            "fd_limit": self.fd_limit,
            "connection_budget": self.budget,
        }


def describe_exit(returncode: int) -> str:
    """A process's exit status in words: ``exit code 1`` or ``killed by SIGKILL``."""
    if returncode >= 0:
        return f"exit code {returncode}"
    try:
        return f"killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"


async def reap(process: subprocess.Popen) -> tuple[int, bool]:
    """The exit status of a gateway whose channel closed, and whether it hung and was killed."""
    deadline = time.monotonic() + REAP_GRACE_S
    while process.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    hung = process.poll() is None
    if hung:
        # A gateway that dropped its channel but hangs must not keep its listener: the kernel
        # would keep handing it connections nobody admits.
        process.kill()
        while process.poll() is None:
            await asyncio.sleep(0.02)
    return process.returncode, hung
