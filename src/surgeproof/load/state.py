"""What every simulated user needs to know right now: offered users and the current phase.

The conductor (local runner or master) computes a ``LoadState`` from the plan every tick and
hands it to every process; users only read it. Workers receive it as a Locust custom message,
so they need neither the scenario file nor the plan.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from surgeproof.scenario.model import RetryPolicy


@dataclass(frozen=True)
class LoadState:
    """The offered load at one instant, as every user of every process sees it."""

    target_users: float = 0.0
    phase_index: int = -1
    phase_name: str = ""
    mix: dict[str, float] = field(default_factory=lambda: {"market_watcher": 1.0})
    intensity: float = 1.0
    sell_bias: float = 0.5
    retry: RetryPolicy | None = None
    #: Bumped when a phase with ``reconnect`` starts: every websocket drops and reconnects.
    reconnect_epoch: int = 0
    closed_model: bool = False

    def to_message(self) -> dict[str, Any]:
        """Plain data for a Locust message (msgpack) or a JSON event."""
        out = asdict(self)
        out["retry"] = None if self.retry is None else asdict(self.retry)
        return out

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> LoadState:
        retry = data.get("retry")
        return cls(
            target_users=float(data["target_users"]),
            phase_index=int(data["phase_index"]),
            phase_name=str(data["phase_name"]),
            mix={str(k): float(v) for k, v in data["mix"].items()},
            intensity=float(data["intensity"]),
            sell_bias=float(data["sell_bias"]),
            retry=None if retry is None else RetryPolicy(**retry),
            reconnect_epoch=int(data["reconnect_epoch"]),
            closed_model=bool(data["closed_model"]),
        )


def role_for(user_id: int, mix: dict[str, float]) -> str:
    """The behaviour a user plays under ``mix``: stable per user, shares honoured across users.

    A fixed low-discrepancy point per user (golden-ratio sequence) is placed on the cumulative
    mix, so that 100 users under a 70/30 mix give 70 and 30, and a user keeps its role as long
    as the mix does not move its point into another band.
    """
    u = (user_id * 0.6180339887498949 + 0.5) % 1.0
    total = sum(mix.values()) or 1.0
    acc = 0.0
    for name, share in mix.items():
        acc += share / total
        if u < acc:
            return name
    return next(reversed(mix))
