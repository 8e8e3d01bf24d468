"""What every simulated user needs to know right now: offered users and the current phase.

The conductor (local runner or master) asks the program for a ``LoadState`` every tick (the
record is the programs', ``scenario.programs``) and hands it to every process; users only read
it. Workers receive it as a Locust custom message, so they need neither the scenario file nor
the plan.
"""

from __future__ import annotations

from surgeproof.scenario.programs import LoadState

__all__ = ["LoadState", "role_for"]


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
