"""The ceiling as a bracket: the last level that held every SLO and the first that did not.

Inconclusive (generator-bound) levels are listed but never move the bracket. A throughput
plateau — more users, no more completed requests — is the saturation signal, and the only one
closed-model data give.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from surgeproof.analysis.levels import LevelVerdict
from surgeproof.analysis.scale import Scale

#: A plateau: at least this much more load ...
PLATEAU_LOAD_STEP = 0.10
#: ... bought less than this much more throughput.
PLATEAU_GAIN = 0.05


def level_ref(v: LevelVerdict | None) -> dict[str, Any] | None:
    """The short reference to a level the bracket uses."""
    if v is None:
        return None
    return {
        "label": v.label,
        "users": v.offered_users,
        "start_ns": v.start_ns,
        "end_ns": v.end_ns,
        "achieved_rps": v.achieved_rps,
    }


def throughput_plateau(levels: Sequence[LevelVerdict]) -> dict[str, Any]:
    """Where achieved throughput stopped rising with offered users (conclusive levels only)."""
    pts = sorted(
        (v for v in levels if v.verdict != "inconclusive" and v.records),
        key=lambda v: v.offered_users,
    )
    for prev, cur in itertools.pairwise(pts):
        more_load = cur.offered_users >= prev.offered_users * (1 + PLATEAU_LOAD_STEP)
        gain = cur.achieved_rps - prev.achieved_rps
        if more_load and prev.achieved_rps > 0 and gain < PLATEAU_GAIN * prev.achieved_rps:
            return {
                "detected": True,
                "from_users": prev.offered_users,
                "throughput_rps": prev.achieved_rps,
                "note": (
                    f"throughput stopped rising: {prev.achieved_rps:.1f} req/s at "
                    f"{prev.offered_users:g} users, {cur.achieved_rps:.1f} req/s at "
                    f"{cur.offered_users:g} users"
                ),
            }
    return {
        "detected": False,
        "from_users": None,
        "throughput_rps": None,
        "note": "throughput rose with every conclusive level" if pts else "no conclusive level",
    }


def apply_closed_model_plateau(levels: Sequence[LevelVerdict], plateau: dict[str, Any]) -> None:
    """Closed-model data hide overload: levels past the plateau fail as saturated."""
    if not plateau["detected"]:
        return
    edge = plateau["from_users"]
    for v in levels:
        if v.verdict == "pass" and v.offered_users > edge * (1 + PLATEAU_LOAD_STEP / 2):
            v.verdict = "fail"
            v.saturated = True
            v.reasons = [
                f"throughput plateau (closed model): {v.achieved_rps:.1f} req/s at "
                f"{v.offered_users:g} users, no more than at {edge:g} users"
            ]


def ceiling_bracket(
    levels: Sequence[LevelVerdict], scale: Scale, plateau: dict[str, Any]
) -> dict[str, Any]:
    """The ``ceiling`` object of analysis.json."""
    passes = [v for v in levels if v.verdict == "pass"]
    fails = [v for v in levels if v.verdict == "fail"]
    first_fail = min(fails, key=lambda v: v.offered_users, default=None)
    below = [v for v in passes if first_fail is None or v.offered_users < first_fail.offered_users]
    last_pass = max(below, key=lambda v: v.offered_users, default=None)
    non_monotonic = [
        v for v in passes if first_fail is not None and v.offered_users >= first_fail.offered_users
    ]
    if last_pass and first_fail:
        status = "bracketed"
    elif last_pass:
        status = "lower_bound"
    elif first_fail:
        status = "upper_bound"
    else:
        status = "none"
    inconclusive = [
        {"label": v.label, "users": v.offered_users, "reasons": list(v.reasons)}
        for v in levels
        if v.verdict == "inconclusive"
    ]
    generator_bound = any(v.generator.bound for v in levels if v.verdict == "inconclusive")
    width = (
        (first_fail.offered_users - last_pass.offered_users) / last_pass.offered_users
        if last_pass and first_fail and last_pass.offered_users
        else None
    )
    failed_first = _failed_first(first_fail)
    out = {
        "status": status,
        "unit": "concurrent simulated users",
        "last_pass": level_ref(last_pass),
        "first_fail": level_ref(first_fail),
        "width_ratio": width,
        "real": {
            "last_pass_users": scale.real(last_pass.offered_users) if last_pass else None,
            "first_fail_users": scale.real(first_fail.offered_users) if first_fail else None,
        },
        "failed_first": failed_first,
        "inconclusive": inconclusive,
        "plateau": plateau,
        "generator_bound": generator_bound,
        "non_monotonic": [level_ref(v) for v in non_monotonic],
    }
    out["statement"] = _statement(out, last_pass, first_fail, scale, generator_bound)
    return out


def _failed_first(v: LevelVerdict | None) -> dict[str, Any] | None:
    if v is None:
        return None
    if v.breaches:
        return v.breaches[0].to_dict()
    return {
        "slo": "target saturated",
        "group": "*",
        "metric": "achieved_rps",
        "value": v.achieved_rps,
        "limit": v.sent_rps,
        "unit": "req/s",
        "first_s": None,
        "reason": v.reasons[0] if v.reasons else None,
    }


def _statement(
    out: dict[str, Any],
    last_pass: LevelVerdict | None,
    first_fail: LevelVerdict | None,
    scale: Scale,
    generator_bound: bool,
) -> str:
    parts = []
    if last_pass:
        parts.append(f"held {_users(last_pass.offered_users, scale)}")
    else:
        parts.append("no level held every SLO")
    if first_fail:
        why = first_fail.reasons[0] if first_fail.reasons else "failed"
        parts.append(f"failed at {_users(first_fail.offered_users, scale)}: {why}")
    elif last_pass:
        parts.append("no conclusive level failed, so the ceiling is at least that")
    if generator_bound:
        parts.append(
            "the generator was the bottleneck at "
            + ", ".join(f"{i['users']:g}" for i in out["inconclusive"])
            + " users (inconclusive, not counted)"
        )
    return "; ".join(parts)


def _users(sim: float, scale: Scale) -> str:
    if not scale.scaled:
        return f"{sim:,.0f} users"
    return f"{sim:,.0f} simulated users ({scale.real(sim):,.0f} real at {scale.ratio_text})"
