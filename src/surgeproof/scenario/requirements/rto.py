"""Recovery time objective: every fault the run had recovered within a duration (``rto: 2h``).

Source: the team's business-continuity objective; regulators state such objectives, e.g. US Reg
SCI, 17 CFR 242.1001(a)(2) (critical SCI systems resumed within two hours) and Singapore's MAS
Technology Risk Management Notice (a recovery time objective of at most four hours). Korea's FSS
asked the exchanges for business-continuity plans checked to work (6 Feb 2025).

The recovery is the run's recovery figure (``analysis/recovery.py``), read from its per-fault
records: for each fault the run had (a fault command, a fault opened by a mark, an injected
outage, a websocket gateway's death, a stall), the time from the fault's start until every SLO
held again for a whole window; the slowest counts, and the gate line names it. Measured on the
run's own clock: time compression shortens the scenario, not a restart.

Met when every fault recovered within the objective. Not met when one took longer, or was still
not recovered longer than the objective after it happened. Not demonstrated (inconclusive) when
the run ended before an unrecovered fault had lasted the objective. Not applicable when the run
had no fault to recover from: drill one (``--fault-command AT:COMMAND``).
"""

from __future__ import annotations

from typing import Any

from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import Requirement
from surgeproof.scenario.requirements.kind import Evidence, Judged, RequirementKind
from surgeproof.scenario.units import format_duration


class RecoveryTimeObjective(RequirementKind):
    name = "rto"
    rule = "every fault recovered (SLOs held again) within the recovery time objective"
    source = (
        "your business-continuity objective (e.g. US Reg SCI 17 CFR 242.1001(a)(2): 2 h; "
        "MAS TRM Notice: 4 h)"
    )
    order = 30
    example = "rto: 2h"
    objective = True

    def parse(self, f: Field) -> Requirement:
        return Requirement(kind=self.name, options=(("rto_s", f.duration()),))

    def from_settings(self, d: dict[str, Any]) -> Requirement:
        return self.parse(Field("settings", "requirements.rto_s", d["rto_s"]))

    def text(self, req: Requirement) -> str:
        return f"{self.name}: {format_duration(_rto(req))}"

    def plan_text(self, req: Requirement, real: tuple[float, ...], unit: str) -> str:
        return f"recovery from every fault within {format_duration(_rto(req))}"

    def judge(self, req: Requirement, ev: Evidence) -> Judged:
        rto = _rto(req)
        name = f"recovery time objective: every fault recovered within {format_duration(rto)}"
        limit = f"<= {format_duration(rto)}"
        said = f"{name}"
        r = ev.recovery
        if r is None or r.faults == 0:
            why = (
                "the run had no fault to recover from (drill one: --fault-command AT:COMMAND "
                "or --inject-target-outage AT:SECONDS)"
                if r is not None
                else "the input records no faults"
            )
            return Judged("not_applicable", name, "no fault", limit, why, f"not applicable: {why}")
        figures = {
            "rto_s": rto,
            "faults": r.faults,
            "worst_s": r.worst_s,
            "unrecovered": r.unrecovered,
            "unrecovered_for_s": r.unrecovered_for_s,
        }
        measured = (
            f"slowest recovery {r.worst_s:,.1f} s ({r.worst})"
            if r.worst_s is not None
            else "no fault recovered"
        )
        if r.unrecovered:
            measured += f"; {r.unrecovered} of {r.faults} faults not recovered"
        late = r.worst_s is not None and r.worst_s > rto
        stuck = r.unrecovered > 0 and r.unrecovered_for_s is not None and r.unrecovered_for_s > rto
        if late or stuck:
            note = (
                f"{r.worst} took {r.worst_s:,.1f} s"
                if late
                else f"{r.unrecovered_worst or 'a fault'} was still not recovered "
                f"{r.unrecovered_for_s:,.1f} s after it"
            )
            return Judged("fail", name, measured, limit, note, f"not met: {said}; {note}", figures)
        if r.unrecovered:
            seen = r.unrecovered_for_s
            note = (
                f"the run ended {seen:,.1f} s after a fault that had not recovered, before the "
                f"objective ran out: run longer after the fault"
                if seen is not None
                else "a fault had not recovered when the run ended"
            )
            reason = f"not demonstrated: {said}; {note}"
            return Judged("inconclusive", name, measured, limit, note, reason, figures)
        reason = f"met: {said}; slowest recovery {r.worst_s:,.1f} s ({r.worst})"
        return Judged("pass", name, measured, limit, "", reason, figures)


def _rto(req: Requirement) -> float:
    rto = req.option("rto_s")
    if rto is None:
        raise ValueError("rto requirement without 'rto_s'")
    return rto


KIND = RecoveryTimeObjective()
