"""The Locust shape: the program's user count every tick, spawned at once.

Spawning is made instantaneous (a spawn rate far above any step) so ``start()`` never blocks the
shape greenlet; the smooth arrival curve comes from the one-second lookahead of the program and
from each new user waiting a random part of that second before it starts.
"""

from __future__ import annotations

from locust import LoadTestShape

from surgeproof.load.recorder import now_ns

SPAWN_RATE = 100_000.0


class SurgeShape(LoadTestShape):
    """Follows the plan's program (``scenario.programs.Program``) from the run's ``t0``."""

    def __init__(self, program, t0_ns: int) -> None:
        super().__init__()
        self.program = program
        self.t0_ns = t0_ns
        self._last = (0, SPAWN_RATE)

    def tick(self) -> tuple[int, float]:
        # The shape never ends the test itself (Locust would quit workers before they shipped
        # their last records): at the program's end it holds, and the conductor finishes.
        t_s = (now_ns() - self.t0_ns) / 1e9
        users = self.program.users_for_tick(t_s)
        if users is not None:
            self._last = (users, SPAWN_RATE)
        return self._last
