"""One saturation concept for open- and closed-model data: a level is saturated when the
throughput it bought is well below what its users asked for.

*What the users asked for* (the level's demand):

* open model: the calls they asked the target for in the window (sent, plus backlogged: due while
  the user's earlier calls were still unanswered), per second;
* closed model: users wait for each answer, so the calls they make fall as the target slows;
  their demand is what they would have asked at low load: users × the per-user throughput of the
  lowest-load conclusive level (the low-load rate).

A level is **saturated** when any of these holds (thresholds in ``Judging``):

1. it achieved less than ``saturation_ratio`` of its demand;
2. its demand exceeds the highest throughput any conclusive level measured by more than
   ``demand_margin`` while its own throughput is at that top (within ``plateau_flat``): the
   asymptotic bounds of operational analysis, throughput ≤ min(demand, capacity), crossed;
3. closed model only, latency grew at flat throughput (Little's law): the users' share of their
   cycle spent at the target, throughput × mean latency / users, closed ``queue_growth`` of the
   gap to 100% from its low-load value. Users pacing themselves (Locust ``constant_throughput``)
   keep their per-user rate until the target's latency eats their whole pacing interval; past
   that point every one of them waits at the target all the time.

The level verdicts, the plateau (a hard cap: flat throughput at the top) and the knee (where
demand meets the measured maximum, inside the bracket the verdicts give) all come from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from surgeproof.analysis.judging import Judging
from surgeproof.analysis.level_verdict import LevelVerdict


@dataclass(frozen=True)
class Saturation:
    """What the rule measured for one level."""

    judged: bool
    saturated: bool
    basis: str  # "asked" (open model) | "low-load rate" (closed model)
    demand_rps: float | None
    achieved_rps: float
    share: float | None  # achieved / demand
    per_user_rps: float | None
    reference: dict[str, Any] | None  # the low-load level: {"label", "users", "per_user_rps"}
    top_rps: float | None  # highest throughput of any conclusive level
    in_target_share: float | None  # closed model: throughput × mean latency / users
    reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def settle(
    levels: Sequence[LevelVerdict],
    judging: Judging,
    *,
    closed_model: bool,
    earlier: Sequence[LevelVerdict] = (),
) -> None:
    """Apply the minimum number of calls and the saturation rule to ``levels`` (in place).

    ``earlier`` = levels settled before (a step search's live judge), used as references only.
    A level that passed on its own but has fewer than ``min_calls`` calls becomes inconclusive
    (too short); a conclusive level found saturated fails, the reason after its SLO breaches.
    """
    for v in levels:
        if v.verdict == "pass" and v.calls < judging.min_calls:
            from surgeproof.analysis.level_rule import too_short_reason

            v.verdict = "inconclusive"
            v.too_short = True
            v.reasons = [too_short_reason(v.duration_s, v.calls, judging)]
    pool = [v for v in (*earlier, *levels) if _conclusive(v, judging)]
    ref = reference_level(pool) if closed_model else None
    top = max((v.achieved_rps for v in pool), default=None)
    for v in levels:
        sat = measure(v, ref, top, judging, closed_model=closed_model)
        v.saturation = sat.to_dict()
        if not sat.judged or v.verdict == "inconclusive":
            if sat.saturated and v.verdict == "inconclusive":
                v.reasons.append(f"not counted: {sat.reason}")
            continue
        v.saturated = sat.saturated
        if sat.saturated:
            if v.verdict == "pass":
                v.reasons = []
            v.verdict = "fail"
            v.reasons.append(str(sat.reason))


def reference_level(levels: Sequence[LevelVerdict]) -> LevelVerdict | None:
    """The low-load level of a closed-model run: the lowest-load conclusive one."""
    pts = [v for v in levels if v.offered_users > 0]
    return min(pts, key=lambda v: (v.offered_users, -v.calls), default=None)


def measure(
    v: LevelVerdict,
    ref: LevelVerdict | None,
    top: float | None,
    judging: Judging,
    *,
    closed_model: bool,
) -> Saturation:
    """The saturation rule on one level, against the reference level and the top throughput."""
    per_user = v.per_user_rps
    judged = v.calls >= judging.min_calls and judging.long_enough(v.duration_s)
    q = _in_target(v)
    if closed_model:
        basis = "low-load rate"
        ref_rate = ref.per_user_rps if ref is not None else None
        demand = v.offered_users * ref_rate if ref_rate else None
        reference = (
            {"label": ref.label, "users": ref.offered_users, "per_user_rps": ref_rate}
            if ref is not None
            else None
        )
    else:
        basis, demand, reference = "asked", v.asked_rps, None
    share = v.achieved_rps / demand if demand else None
    out = {
        "basis": basis,
        "demand_rps": demand,
        "achieved_rps": v.achieved_rps,
        "share": share,
        "per_user_rps": per_user,
        "reference": reference,
        "top_rps": top,
        "in_target_share": q,
    }
    if not judged or demand is None or share is None:
        return Saturation(judged=False, saturated=False, reason=None, **out)
    reason = None
    if share < judging.saturation_ratio:
        reason = _ratio_reason(v, share, demand, reference, closed_model)
    elif (
        top is not None
        and demand > top * (1 + judging.demand_margin)
        and v.achieved_rps >= top * (1 - judging.plateau_flat)
    ):
        reason = (
            f"target saturated: its users asked for {demand:,.0f} req/s, "
            f"{demand / top:.2f}× the most any level achieved ({top:,.0f} req/s), and got "
            f"{v.achieved_rps:,.0f}: throughput is at its top"
        )
    elif closed_model and ref is not None and q is not None:
        q_ref = _in_target(ref)
        if q_ref is not None and q_ref < 1 and q >= q_ref + judging.queue_growth * (1 - q_ref):
            reason = (
                f"target saturated: latency grew at flat throughput: by Little's law its "
                f"{v.offered_users:g} users spent {q:.0%} of their time waiting at the target "
                f"(mean latency {v.mean_latency_ms:,.0f} ms), {q_ref:.0%} at "
                f"{ref.offered_users:g} users"
            )
    return Saturation(judged=True, saturated=reason is not None, reason=reason, **out)


def throughput_plateau(levels: Sequence[LevelVerdict], judging: Judging) -> dict[str, Any]:
    """A hard cap: saturated levels at flat throughput, from the first level at the top on."""
    pts = sorted((v for v in levels if v.verdict != "inconclusive"), key=lambda v: v.offered_users)
    none = {
        "detected": False,
        "from_users": None,
        "throughput_rps": None,
        "max_rps": max((v.achieved_rps for v in pts), default=None),
        "max_at_users": None,
        "levels": 0,
        "note": "no conclusive level" if not pts else "",
    }
    if not pts:
        return none
    best = max(pts, key=lambda v: v.achieved_rps)
    top = best.achieved_rps
    none["max_at_users"] = best.offered_users
    flat = [v for v in pts if v.achieved_rps >= top * (1 - judging.plateau_flat)]
    first = flat[0]
    above = [v for v in pts if v.offered_users >= first.offered_users]
    hard_cap = (
        len(flat) >= 2
        and flat == above
        and any(v.saturated for v in flat)
        and flat[-1].offered_users > first.offered_users
    )
    if not hard_cap:
        sat = [v for v in pts if v.saturated]
        none["note"] = (
            "throughput kept up with demand at every conclusive level"
            if not sat
            else f"no flat top: throughput peaked at {top:,.1f} req/s at {best.offered_users:g} "
            "users and fell above it"
            if best.offered_users < pts[-1].offered_users
            else "the highest level is the only one at the top: no plateau measured"
        )
        return none
    return {
        "detected": True,
        "from_users": first.offered_users,
        "throughput_rps": top,
        "max_rps": top,
        "max_at_users": best.offered_users,
        "levels": len(flat),
        "note": (
            f"hard cap: throughput flat at {top:,.1f} req/s (highest measured, at "
            f"{best.offered_users:g} users) from {first.offered_users:g} users to "
            f"{flat[-1].offered_users:g} users: more users bought no more throughput"
        ),
    }


def find_knee(levels: Sequence[LevelVerdict], closed_model: bool) -> dict[str, Any]:
    """The ``knee`` of analysis.json: where the users' demand meets the measured maximum.

    Asymptotic bounds: throughput ≤ min(users × per-user demand, capacity); with the highest
    measured throughput for capacity and the lowest-load level's demand per user, the two lines
    cross at ``top / demand per user`` users, kept inside the bracket the saturation verdicts
    give (last unsaturated, first saturated level).
    """
    pts = sorted((v for v in levels if v.verdict != "inconclusive"), key=lambda v: v.offered_users)
    out: dict[str, Any] = {
        "users": None,
        "throughput_rps": None,
        "method": "asymptotic bounds",
        "last_unsaturated_users": None,
        "first_saturated_users": None,
        "extrapolated": False,
        "note": "",
    }
    first_sat = next((v for v in pts if v.saturated), None)
    if first_sat is None:
        out["note"] = (
            f"no saturated level: throughput kept up with demand up to {pts[-1].offered_users:g} "
            "users"
            if pts
            else "no conclusive level"
        )
        return out
    below = [v for v in pts if v.offered_users < first_sat.offered_users and not v.saturated]
    last = below[-1] if below else None
    ref = pts[0]
    per_user = ref.per_user_rps if closed_model else ref.asked_rps / max(ref.offered_users, 1e-12)
    top = max(v.achieved_rps for v in pts)
    out.update(
        first_saturated_users=first_sat.offered_users,
        last_unsaturated_users=last.offered_users if last else None,
        throughput_rps=top,
    )
    if not per_user or last is None:
        out["note"] = (
            f"saturated from the lowest conclusive level ({first_sat.offered_users:g} users) on: "
            "the knee lies below the measured range"
        )
        return out
    crossing = top / per_user
    users = min(max(crossing, last.offered_users), first_sat.offered_users)
    out["users"] = users
    out["note"] = (
        f"the users' demand ({per_user:.3f} req/s each at {ref.offered_users:g} users) meets "
        f"the highest measured throughput ({top:,.1f} req/s) at {crossing:,.1f} users"
        + (
            f", kept inside the saturation bracket ({last.offered_users:g}, "
            f"{first_sat.offered_users:g}]"
            if users != crossing
            else ""
        )
    )
    return out


def _conclusive(v: LevelVerdict, judging: Judging) -> bool:
    return v.verdict != "inconclusive" and v.calls >= judging.min_calls


def _in_target(v: LevelVerdict) -> float | None:
    if v.mean_latency_ms is None or v.offered_users <= 0:
        return None
    return v.achieved_rps * v.mean_latency_ms / 1000.0 / v.offered_users


def _ratio_reason(
    v: LevelVerdict,
    share: float,
    demand: float,
    reference: dict[str, Any] | None,
    closed_model: bool,
) -> str:
    if closed_model and reference is not None:
        per_user = v.per_user_rps or 0.0
        return (
            f"target saturated: throughput per user {per_user:.3f} req/s, {share:.0%} of the "
            f"{reference['per_user_rps']:.3f} req/s at {reference['users']:g} users (low load): "
            f"{v.achieved_rps:,.0f} req/s where its {v.offered_users:g} users asked for "
            f"{demand:,.0f}"
        )
    return (
        f"target saturated: achieved {v.achieved_rps:,.0f} req/s of {demand:,.0f} asked "
        f"({share:.0%})"
    )
