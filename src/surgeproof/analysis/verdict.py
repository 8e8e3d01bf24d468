"""The run's verdict: its requirements met or not, or (without any) whether every level held.

Each requirement is judged by its kind (``analysis.requirements``); a requirement not met makes
the run fail, one not demonstrated either way makes it inconclusive, and the reasons say which,
the deciding one first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from surgeproof.analysis.levels import LevelVerdict


def run_verdict(
    levels: Sequence[LevelVerdict], requirements: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The ``verdict`` object of analysis.json from the judged ``requirements`` entries (those
    met, not met or not demonstrated count; not applicable or unusable ones do not)."""
    conclusive = [v for v in levels if v.verdict != "inconclusive"]
    counted = [r for r in requirements if r["status"] in ("pass", "fail", "inconclusive")]
    if counted:
        reasons: list[str] = []
        status = "pass"
        for r in counted:
            if r["status"] == "pass":
                reasons.append(r["reason"])
            elif r["status"] == "fail":
                status = "fail"
                reasons.insert(0, r["reason"])
            else:
                if status == "pass":
                    status = "inconclusive"
                reasons.insert(0 if status == "inconclusive" else len(reasons), r["reason"])
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
