"""The terminal line every few seconds: phase, users, req/s, errors, time left."""

from __future__ import annotations

from surgeproof.load.collector import Collector
from surgeproof.load.state import LoadState
from surgeproof.terminal import one_line


class Progress:
    def __init__(self, collector: Collector, program, t0_ns: int, every_s: float) -> None:
        self.collector = collector
        self.program = program
        self.every_s = every_s
        self._next = 0.0

    def maybe_print(self, t_s: float, state: LoadState) -> None:
        if self.every_s <= 0 or t_s < self._next:
            return
        self._next = t_s + self.every_s
        latest = list(self.collector.latest.values())
        sent = sum(int(s.get("sent", 0)) for s in latest)
        errors = sum(int(s.get("errors", 0)) for s in latest)
        active = sum(int(s.get("active_users", 0)) for s in latest)
        backlog = sum(int(s.get("backlogged", 0)) for s in latest)
        left = max(0.0, self.program.end_s - t_s)
        err = f"{100 * errors / sent:.1f}%" if sent else "-"
        phase = one_line(state.phase_name)
        print(
            f"[{t_s:6.0f}s] {phase:<28} users {active:>6}/{state.target_users:<7.0f} "
            f"req/s {sent:>6}  errors {err:>6}  backlog {backlog:>4}  left {left:5.0f}s"
            + worker_shares(self.collector.latest),
            flush=True,
        )


def worker_shares(latest: dict[str, dict]) -> str:
    """`` | worker-ab12 10u 40r/s, ...``: each worker's share (a summary past four workers)."""
    workers = {s: v for s, v in latest.items() if s != "local"}
    if len(workers) < 2:
        return ""
    users = {s: int(v.get("active_users", 0)) for s, v in workers.items()}
    if len(workers) <= 4:
        parts = [f"{s} {users[s]}u {int(workers[s].get('sent', 0))}r/s" for s in sorted(workers)]
        return " | " + ", ".join(parts)
    return f" | {len(workers)} workers, {min(users.values())}-{max(users.values())} users each"
