"""The ceiling as a bracket: the last level that held every SLO and the first that did not.

Inconclusive levels (generator-bound, too short, cut short) are listed but never move the
bracket. Levels that passed above the lowest failure (non-monotonic data) are named in the
statement with the failure, never summarised away.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from surgeproof.analysis.levels import LevelVerdict
from surgeproof.analysis.scale import Scale


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
        {
            "label": v.label,
            "users": v.offered_users,
            "reasons": list(v.reasons),
            "too_short": v.too_short,
            "generator": v.generator.bound,
        }
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
    out["statement"] = _statement(out, last_pass, first_fail, scale, generator_bound, non_monotonic)
    return out


def _failed_first(v: LevelVerdict | None) -> dict[str, Any] | None:
    if v is None:
        return None
    if v.breaches:
        return v.breaches[0].to_dict()
    sat = v.saturation or {}
    return {
        "slo": "target saturated",
        "group": "*",
        "metric": "achieved_rps",
        "value": v.achieved_rps,
        "limit": sat.get("demand_rps"),
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
    above: Sequence[LevelVerdict] = (),
) -> str:
    parts = []
    if last_pass:
        parts.append(f"held {_users(last_pass.offered_users, scale)}")
    elif first_fail and above:
        parts.append("no level below the lowest failure held every SLO")
    elif first_fail:
        parts.append("no level held every SLO")
    else:
        parts.append("no conclusive level: no ceiling can be claimed")
    if first_fail:
        why = first_fail.reasons[0] if first_fail.reasons else "failed"
        parts.append(f"failed at {_users(first_fail.offered_users, scale)}: {why}")
    elif last_pass:
        parts.append("no conclusive level failed, so the ceiling is at least that")
    if first_fail and above:
        held = ", ".join(f"{v.offered_users:g}" for v in sorted(above, key=_by_users))
        parts.append(
            f"yet {held} users held every SLO above that failure (non-monotonic: the levels "
            "disagree; the ceiling is taken below the lowest failure)"
        )
    short = [i for i in out["inconclusive"] if i.get("too_short")]
    if short:
        parts.append(
            f"{len(short)} level{'s' if len(short) > 1 else ''} too short to judge "
            f"(inconclusive): " + ", ".join(f"{i['label']} ({i['users']:g} users)" for i in short)
        )
    if generator_bound:
        parts.append(
            "the generator was the bottleneck at "
            + ", ".join(f"{i['users']:g}" for i in out["inconclusive"] if i.get("generator"))
            + " users (inconclusive, not counted)"
        )
    return "; ".join(parts)


def _by_users(v: LevelVerdict) -> float:
    return v.offered_users


def _users(sim: float, scale: Scale) -> str:
    if not scale.scaled:
        return f"{sim:,.0f} users"
    return (
        f"{sim:,.0f} simulated users ({scale.real(sim):,.0f} {scale.real_words} at "
        f"{scale.ratio_text})"
    )
