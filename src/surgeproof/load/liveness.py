"""How fast a dead worker or a dead master is noticed, and the process ties that make it fast.

Plain Locust beats once a second and declares a worker missing after three silent beats, which
with its bookkeeping comes to 4-5 s before any redistribution starts (8 s to users restored in
our runs). surgeproof beats twice a second, watches the processes of the workers it started
itself (an exit is seen within one conductor tick), and ties every child it starts to its own
life so that a SIGKILLed conductor leaves no orphan generating load.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
from dataclasses import dataclass, field

#: Heartbeat period of master and workers (Locust's default is 1 s).
HEARTBEAT_INTERVAL_S = 0.5
#: Silent beats before the master declares a worker missing: 4 x 0.5 s = 2-2.5 s.
HEARTBEAT_LIVENESS = 4
#: A worker whose master has not answered a heartbeat for this long stops by itself.
MASTER_SILENCE_S = 6.0
#: A stopping worker that has not exited after this long (e.g. its socket lingering toward a
#: dead master) is ended by SIGALRM's default action.
WORKER_EXIT_GRACE_S = 5

_PR_SET_PDEATHSIG = 1


def tune_locust_heartbeat() -> None:
    """Locust's heartbeat constants for this process (master and workers read them at run time)."""
    import locust.runners as runners

    runners.HEARTBEAT_INTERVAL = HEARTBEAT_INTERVAL_S
    runners.HEARTBEAT_LIVENESS = HEARTBEAT_LIVENESS


def die_with_parent() -> None:
    """``preexec_fn``: the kernel sends SIGTERM to this child when its parent dies (Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the worker's master-silence timer still stops it


@dataclass
class LocalWorkers:
    """The worker processes this conductor started, and which Locust node each one is."""

    procs: list[subprocess.Popen] = field(default_factory=list)
    #: Locust node id -> process id, from the worker's hello.
    node_pid: dict[str, int] = field(default_factory=dict)
    reported: set[str] = field(default_factory=set)

    def exited_nodes(self) -> list[str]:
        """Node ids of local workers whose process has exited and was not reported yet."""
        dead = {p.pid for p in self.procs if p.poll() is not None}
        out = [n for n, pid in self.node_pid.items() if pid in dead and n not in self.reported]
        self.reported.update(out)
        return out
