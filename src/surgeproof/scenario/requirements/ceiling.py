"""The measured ceiling against a capacity figure: ``peak * 1.2`` (``ceiling >= peak * 1.2``).

Source: the figure's own, from the capacity profile — for the built-in profiles the concurrent
users (Coinone: orders) Korea's Financial Supervisory Service published on 6 Feb 2025 for the
night of 3 Dec 2024 (normal, on the night, after expansion); or a number of real users.

Met when the measured ceiling (the last level that held every SLO, in real users) reaches the
figure times the factor; not met when a conclusive level at or above the required load was
measured, or a level at or below it failed; not demonstrated (inconclusive) when the required
load lies above every conclusive level.
"""

from __future__ import annotations

import re
from typing import Any

from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import Requirement, UsersExpr
from surgeproof.scenario.requirements.kind import Evidence, Judged, RequirementKind

_SAID = re.compile(r"^\s*ceiling\s*>=\s*")


class Ceiling(RequirementKind):
    name = "ceiling"
    rule = "measured ceiling >= a capacity figure times a factor"
    source = "the capacity profile's figure (built-in profiles: Korea FSS, 6 Feb 2025)"
    order = 0
    example = "peak * 1.2"

    def parse(self, f: Field) -> Requirement:
        from surgeproof.scenario.parse import parse_users

        if isinstance(f.value, str):  # "ceiling >= peak * 1.2" says the same
            f = Field(f.source, f.path, _SAID.sub("", f.value, count=1))
        expr = parse_users(f)
        if expr.figure is None:
            raise f.expected("a figure expression like 'peak * 1.2'")
        return Requirement(expr.figure, expr.value)

    def text(self, req: Requirement) -> str:
        return str(_users(req))

    def figures_used(self, req: Requirement) -> tuple[UsersExpr, ...]:
        return (_users(req),)

    def plan_text(self, req: Requirement, real: tuple[float, ...], unit: str) -> str:
        return f"ceiling >= {req.figure} * {req.factor:g} = {real[0]:,.0f} {unit}"

    def settings(self, req: Requirement) -> dict[str, Any]:
        return {"figure": req.figure, "factor": req.factor}

    def from_settings(self, d: dict[str, Any]) -> Requirement:
        return Requirement(d["figure"], float(d.get("factor", 1.0)))

    def figure_requirement(self, req: Requirement) -> tuple[str, float] | None:
        return (req.figure, req.factor) if req.figure is not None else None

    def judge(self, req: Requirement, ev: Evidence) -> Judged:
        expr = _users(req)
        found = ev.users(expr)
        name = f"ceiling >= {expr}"
        if isinstance(found, str):
            return Judged("unusable", name, "", "", found)
        required, unit = found
        source = "your figure"
        if expr.figure is not None:
            name += f" ({required:,.0f})"
            source = (ev.figure(expr.figure) or (0.0, "", ""))[2] or self.source
        limit = f">= {required:,.0f} real {unit}"
        text = f"ceiling >= {expr.figure} * {expr.value:g}" if expr.figure else name
        said = f"{text} ({required:,.0f} {ev.real_words})"
        figures = {"required_real": required, "ceiling_real": ev.ceiling_real}
        last = ev.ceiling_real
        if last is not None and last >= required:
            reason = f"met: {said}; measured ceiling {last:,.0f}"
            measured = f"{last:,.0f} real {unit}"
            return Judged("pass", name, measured, limit, "", reason, figures, source)
        top, lowest_fail = ev.top_conclusive_real, ev.lowest_fail_real
        if (top is not None and top >= required) or (
            lowest_fail is not None and lowest_fail <= required
        ):
            status, reason = "fail", f"not met: {said}; {ev.ceiling_statement}"
        else:
            tested = f"{top:,.0f}" if top is not None else "no conclusive level"
            status = "inconclusive"
            reason = f"not demonstrated: {said}; the highest conclusive level was {tested}"
        if last is None:
            why = {
                "upper_bound": "no level held the SLOs: even the lowest measured level failed",
                "none": "no conclusive level: nothing can be claimed",
            }.get(ev.ceiling_status, "no ceiling was measured")
            return Judged(status, name, "no ceiling", limit, why, reason, figures, source)
        if ev.first_fail_real is not None:
            note = f"failed at {ev.first_fail_real:,.0f} {ev.real_words}" + (
                f": {ev.failed_first}" if ev.failed_first else ""
            )
        else:
            note = "not demonstrated: no level at or above the required load was measured"
        if ev.generator_bound:
            note += "; levels above were generator-bound (no ceiling claimed there)"
        measured = f"{last:,.0f} real {unit}"
        return Judged(status, name, measured, limit, note, reason, figures, source)


def _users(req: Requirement) -> UsersExpr:
    """The required load: the figure times the factor, or (no figure) a number of real users."""
    return UsersExpr(req.factor, req.figure)


KIND = Ceiling()
