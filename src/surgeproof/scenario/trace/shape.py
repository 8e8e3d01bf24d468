"""What a stretch of the curve looks like, and the user mix that goes with it."""

from __future__ import annotations

from dataclasses import dataclass

#: Share of the baseline→peak range a phase must climb to count as a shock (a rising edge).
SHOCK_RISE = 0.10
#: ... and climb it fast: at least this share of the range per minute (10% within 5 minutes).
SHOCK_SLOPE_PER_MIN = 0.02
#: Phases that stay within this share of the range above baseline are baseline traffic.
BASELINE_BAND = 0.15


@dataclass(frozen=True)
class PhaseKind:
    """The behaviour of one kind of stretch: mix, intensity, sell bias, retries."""

    name: str
    mix: dict[str, float]
    intensity: float
    sell_bias: float
    retry: bool


#: Defaults after BRIEF §3: baseline = mostly market-data viewers; shock (rising edges) = app
#: opens, logins, panic sells, retries; rebound (elevated plateau or slow fall) = buyers back.
KINDS: dict[str, PhaseKind] = {
    "baseline": PhaseKind(
        "baseline", {"market_watcher": 0.7, "app_user": 0.25, "api_bot": 0.05}, 1.0, 0.5, False
    ),
    "shock": PhaseKind(
        "shock",
        {
            "app_user": 0.45,
            "market_watcher": 0.35,
            "panic_seller": 0.1,
            "retrying_client": 0.05,
            "api_bot": 0.05,
        },
        1.5,
        0.75,
        True,
    ),
    "rebound": PhaseKind(
        "rebound",
        {"market_watcher": 0.5, "app_user": 0.35, "api_bot": 0.1, "retrying_client": 0.05},
        1.2,
        0.4,
        False,
    ),
}


def classify(
    from_users: float, to_users: float, baseline: float, peak: float, minutes: float
) -> str:
    """``shock`` for a steep rising edge, ``baseline`` near the baseline, else ``rebound``."""
    span = peak - baseline
    if span <= 0:
        return "baseline"
    rise = (to_users - from_users) / span
    if rise >= SHOCK_RISE and rise / max(minutes, 1e-9) >= SHOCK_SLOPE_PER_MIN:
        return "shock"
    if (max(from_users, to_users) - baseline) / span <= BASELINE_BAND:
        return "baseline"
    return "rebound"
