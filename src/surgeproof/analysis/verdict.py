"""The run's verdict: its requirements met or not, or (without any) whether every level held."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from surgeproof.analysis.levels import LevelVerdict
from surgeproof.analysis.scale import Scale


def run_verdict(
    levels: Sequence[LevelVerdict],
    ceiling: dict[str, Any],
    comparison: dict[str, Any] | None,
    scale: Scale,
) -> dict[str, Any]:
    """The ``verdict`` object of analysis.json."""
    conclusive = [v for v in levels if v.verdict != "inconclusive"]
    reqs = [f for f in (comparison or {}).get("figures", []) if f["requirement"]]
    if reqs:
        reasons: list[str] = []
        status = "pass"
        top = max((scale.real(v.offered_users) for v in conclusive), default=None)
        # A level that failed at or below the required load disproves the requirement outright.
        lowest_fail = min(
            (scale.real(v.offered_users) for v in conclusive if v.verdict == "fail"), default=None
        )
        for f in reqs:
            required = f["requirement"]["required"]
            text = f"{f['requirement']['text']} ({required:,.0f} {scale.real_words})"
            if f["passed"]:
                reasons.append(f"met: {text}; measured ceiling {f['ceiling_real']:,.0f}")
            elif (top is not None and top >= required) or (
                lowest_fail is not None and lowest_fail <= required
            ):
                status = "fail"
                reasons.insert(0, f"not met: {text}; {ceiling['statement']}")
            else:
                if status == "pass":
                    status = "inconclusive"
                tested = f"{top:,.0f}" if top is not None else "no conclusive level"
                reasons.insert(
                    0 if status == "inconclusive" else len(reasons),
                    f"not demonstrated: {text}; the highest conclusive level was {tested}",
                )
        return {"status": status, "basis": "requirements", "reasons": reasons}
    if not conclusive:
        why = "no level was conclusive" if levels else "the run has no steady-state windows"
        return {"status": "inconclusive", "basis": "slos", "reasons": [why]}
    fails = [v for v in conclusive if v.verdict == "fail"]
    if fails:
        first = min(fails, key=lambda v: v.offered_users)
        return {
            "status": "fail",
            "basis": "slos",
            "reasons": [
                f"{first.label or 'a level'} at {first.offered_users:g} users: "
                + "; ".join(first.reasons)
            ],
        }
    return {
        "status": "pass",
        "basis": "slos",
        "reasons": [f"all {len(conclusive)} conclusive steady-state windows held every SLO"],
    }
