"""Sessions restored: every websocket session a fault cost was subscribed again within a duration
(``sessions-restored: 2m``).

Source: the team's business-continuity objective. On 3 Dec 2024 users who got in could not see
prices; a failover that brings the API back but leaves the market-data feeds dark has not
recovered the service people watch (FSS, 6 Feb 2025: a business-continuity plan checked to work).

The toll is the analysis' per-fault recovery record (``analysis/recovery.py``, ``websocket``):
the sessions lost from the fault's start to its recovery, each paired with the first data
message after its user subscribed again (as ``amplification.websocket`` pairs them), seconds
from the loss.

Met when every session lost at every fault came back within the duration (also when no fault
cost a session). Not met when one took longer, or one never came back while the run went on
longer than the duration after it was lost. Not demonstrated (inconclusive) when a session not
back had been seen down for less than the duration when the data ended. Not applicable when the
run had no fault, or no websocket session at all.
"""

from __future__ import annotations

from typing import Any

from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import Requirement
from surgeproof.scenario.requirements.kind import Evidence, Judged, RequirementKind
from surgeproof.scenario.units import format_duration


class SessionsRestored(RequirementKind):
    name = "sessions-restored"
    rule = "every websocket session a fault cost subscribed again within the duration"
    source = "your business-continuity objective (FSS, 6 Feb 2025: a BCP checked to work)"
    order = 32
    example = "sessions-restored: 2m"
    objective = True

    def parse(self, f: Field) -> Requirement:
        return Requirement(kind=self.name, options=(("within_s", f.duration()),))

    def from_settings(self, d: dict[str, Any]) -> Requirement:
        return self.parse(Field("settings", "requirements.within_s", d["within_s"]))

    def text(self, req: Requirement) -> str:
        return f"{self.name}: {format_duration(_within(req))}"

    def plan_text(self, req: Requirement, real: tuple[float, ...], unit: str) -> str:
        return f"websocket sessions lost at a fault back within {format_duration(_within(req))}"

    def judge(self, req: Requirement, ev: Evidence) -> Judged:
        within = _within(req)
        shown = format_duration(within)
        name = f"sessions restored: every websocket session a fault cost back within {shown}"
        limit = f"<= {shown}"
        s = ev.sessions
        why = (
            "the input records no websocket sessions per fault"
            if s is None
            else "the run had no fault (drill one: --fault-command AT:COMMAND)"
            if not s.faults
            else "the run had no websocket session"
            if not s.websocket
            else ""
        )
        if s is None or why:
            return Judged("not_applicable", name, "no fault" if s is not None and not s.faults
                          else "no session", limit, why, f"not applicable: {why}")  # fmt: skip
        lost = sum(f.lost for f in s.faults)
        back = sum(f.back for f in s.faults)
        never = sum(f.never_back for f in s.faults)
        slow = max(
            ((f.slowest_s, f.fault) for f in s.faults if f.slowest_s is not None), default=None
        )
        waiting = max(
            ((f.never_back_for_s, f.fault) for f in s.faults if f.never_back_for_s is not None),
            default=None,
        )
        figures = {
            "within_s": within,
            "faults": len(s.faults),
            "sessions_lost": lost,
            "sessions_back": back,
            "never_back": never,
            "slowest_s": slow[0] if slow else None,
            "slowest_fault": slow[1] if slow else None,
            "never_back_for_s": waiting[0] if waiting else None,
        }
        if not lost:
            measured = f"no session lost at {len(s.faults):,} fault(s)"
            return Judged("pass", name, measured, limit, "", f"met: {name}; {measured}", figures)
        measured = f"{back:,} of {lost:,} sessions back" + (
            f", slowest {slow[0]:,.1f} s ({slow[1]})" if slow else ""
        )
        if slow is not None and slow[0] > within:
            note = f"a session lost at {slow[1]} took {slow[0]:,.1f} s to come back"
            return Judged("fail", name, measured, limit, note, f"not met: {name}; {note}", figures)
        if never:
            seen, which = waiting if waiting is not None else (None, "a fault")
            if seen is not None and seen > within:
                note = f"{never:,} session(s) lost at {which} not back {seen:,.1f} s after"
                return Judged("fail", name, measured, limit, note, f"not met: {name}; {note}",
                              figures)  # fmt: skip
            note = f"{never:,} session(s) lost at {which} not back when the data ended" + (
                f" {seen:,.1f} s later, before the objective ran out: run longer after the fault"
                if seen is not None
                else ""
            )
            return Judged("inconclusive", name, measured, limit, note,
                          f"not demonstrated: {name}; {note}", figures)  # fmt: skip
        return Judged("pass", name, measured, limit, "", f"met: {name}; {measured}", figures)


def _within(req: Requirement) -> float:
    within = req.option("within_s")
    if within is None:
        raise ValueError("sessions-restored requirement without 'within_s'")
    return within


KIND = SessionsRestored()
