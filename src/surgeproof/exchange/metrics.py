"""The exchange's own per-second truth, by arrival second (server clock).

Each request is counted once when it arrives and once more when its outcome is known, in the
second it *arrived*; an entry is ``final`` once every request of that second has an outcome.
"""

from __future__ import annotations

from collections import deque

#: Outcome counters; requests = sum of these (plus those still in flight).
OUTCOMES = (
    "served",
    "shed_503",
    "rate_limited_429",
    "blocked_418",
    "client_errors",
    "server_errors",
)
_GROUP_KEYS = {
    "served": "served",
    "shed_503": "shed",
    "rate_limited_429": "rate_limited",
    "blocked_418": "blocked",
    "client_errors": "client_errors",
    "server_errors": "server_errors",
}
KEEP_SECONDS = 3600


class SecondStats:
    """Counters of one whole second."""

    __slots__ = (
        "active_sessions",
        "blocked_418",
        "by_group",
        "client_errors",
        "fills",
        "inflight",
        "logins",
        "orders_acked",
        "queue_depth_max",
        "rate_limited_429",
        "requests",
        "served",
        "server_errors",
        "shed_503",
        "t",
        "utilisation",
        "workers",
        "ws_connections",
        "ws_connects",
        "ws_gateways",
        "ws_messages_dropped",
        "ws_messages_sent",
    )

    def __init__(self, t: int) -> None:
        self.t = t
        self.requests = 0
        self.inflight = 0
        self.served = self.shed_503 = self.rate_limited_429 = self.blocked_418 = 0
        self.client_errors = self.server_errors = 0
        self.by_group: dict[str, dict[str, int]] = {}
        self.orders_acked = self.fills = self.logins = self.ws_connects = 0
        self.active_sessions = self.ws_connections = 0
        self.ws_messages_sent = self.ws_messages_dropped = 0
        # Per gateway process (id as a string): gauges and this second's counts.
        self.ws_gateways: dict[str, dict] = {}
        self.queue_depth_max: dict[str, int] = {}
        self.utilisation: dict[str, float] = {}
        self.workers: dict[str, int] = {}

    def group(self, name: str) -> dict[str, int]:
        g = self.by_group.get(name)
        if g is None:
            g = self.by_group[name] = {"requests": 0, **{v: 0 for v in _GROUP_KEYS.values()}}
        return g

    def to_json(self, now_second: int) -> dict:
        out = {name: getattr(self, name) for name in self.__slots__ if name != "inflight"}
        out["final"] = self.inflight == 0 and self.t < now_second
        out["in_flight"] = self.inflight
        return out


class Metrics:
    """The last hour of SecondStats."""

    def __init__(self) -> None:
        self.seconds: deque[SecondStats] = deque()
        self._index: dict[int, SecondStats] = {}
        self._current: SecondStats | None = None

    def at(self, t: int) -> SecondStats:
        """The stats of second ``t`` (created when first touched)."""
        cur = self._current
        if cur is not None and cur.t == t:
            return cur
        stats = self._index.get(t)
        if stats is None:
            stats = SecondStats(t)
            self._index[t] = stats
            self.seconds.append(stats)
            while self.seconds and self.seconds[0].t < t - KEEP_SECONDS:
                del self._index[self.seconds.popleft().t]
        if t >= (cur.t if cur else 0):
            self._current = stats
        return stats

    def arrive(self, t: int, group: str) -> SecondStats:
        """Count one arriving request of ``group`` in second ``t``."""
        stats = self.at(t)
        stats.requests += 1
        stats.inflight += 1
        stats.group(group)["requests"] += 1
        return stats

    @staticmethod
    def outcome(stats: SecondStats, group: str, outcome: str) -> None:
        """Record the outcome of a request counted by ``arrive``."""
        setattr(stats, outcome, getattr(stats, outcome) + 1)
        stats.inflight -= 1
        stats.group(group)[_GROUP_KEYS[outcome]] += 1

    def since(self, since: float | None, now_second: int) -> list[dict]:
        """Entries with ``t >= since`` (all kept seconds when None), oldest first."""
        start = int(since) if since is not None else -1
        return [s.to_json(now_second) for s in self.seconds if s.t >= start]
