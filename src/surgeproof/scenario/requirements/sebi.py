"""SEBI: installed capacity of at least 1.5 times the projected peak load, and action when
utilisation passes 75% (``sebi: peak``).

Source: Securities and Exchange Board of India, circular SEBI/HO/MRD/TPD/CIR/P/2024/171 —
market infrastructure institutions keep installed capacity of at least 1.5 times the projected
peak load, and act (add capacity) once utilisation passes 75% of it.

The projected peak is the user's: a capacity-profile figure (``sebi: peak``, ``sebi: peak *
1.1``) or a number of real users (``sebi: 600000``). The installed capacity is the measured
ceiling (the last level that held every SLO, real users); the utilisation is the run's measured
peak load (the most users it offered at once) over that ceiling.

Met when the ceiling reaches 1.5 times the projected peak and the utilisation stays at or below
75%. Not met when a conclusive level at or above 1.5 times the projected peak was measured, or a
level at or below it failed (as for any ceiling requirement), or when the utilisation passes 75%.
Not demonstrated (inconclusive) when 1.5 times the projected peak lies above every conclusive
level. A step search climbs past its ceiling on purpose, so its highest load is a probe, not a
peak load: its utilisation is not judged (the capacity part still is), and the note gives the
utilisation at the projected peak instead.
"""

from __future__ import annotations

from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import Requirement, UsersExpr
from surgeproof.scenario.requirements.kind import Evidence, Judged, RequirementKind

#: Installed capacity as a multiple of the projected peak load.
MULTIPLE = 1.5
#: Utilisation beyond which the circular asks for action.
UTILISATION = 0.75


class Sebi(RequirementKind):
    name = "sebi"
    rule = "installed capacity >= 1.5 x the projected peak load; act when utilisation passes 75%"
    source = "SEBI circular SEBI/HO/MRD/TPD/CIR/P/2024/171"
    order = 20
    example = "sebi: peak"

    def parse(self, f: Field) -> Requirement:
        from surgeproof.scenario.parse import parse_users

        expr = parse_users(f)
        if expr.value <= 0:
            raise f.expected("a projected peak load greater than 0")
        return Requirement(expr.figure, expr.value, kind=self.name)

    def text(self, req: Requirement) -> str:
        return f"{self.name}: {_projected(req)}"

    def figures_used(self, req: Requirement) -> tuple[UsersExpr, ...]:
        return (_projected(req),) if req.figure is not None else ()

    def plan_text(self, req: Requirement, real: tuple[float, ...], unit: str) -> str:
        projected = real[0] if real else req.factor
        return (
            f"SEBI: ceiling >= {MULTIPLE:g} x {_projected(req)} = {MULTIPLE * projected:,.0f} "
            f"{unit}; act when utilisation passes {UTILISATION:.0%}"
        )

    def settings(self, req: Requirement) -> dict[str, object]:
        return {"kind": self.name, "figure": req.figure, "factor": req.factor}

    def from_settings(self, d: dict[str, object]) -> Requirement:
        figure = d.get("figure")
        value = d["factor"]
        what = f"{figure} * {value}" if figure is not None else value
        return self.parse(Field("settings", "requirements.sebi", what))

    def judge(self, req: Requirement, ev: Evidence) -> Judged:
        expr = _projected(req)
        name = f"SEBI: ceiling >= {MULTIPLE:g} x {expr}"
        found = ev.users(expr)
        if isinstance(found, str):
            return Judged("unusable", name, "", "", found)
        projected, unit = found
        required = MULTIPLE * projected
        name += f" ({required:,.0f}); utilisation <= {UTILISATION:.0%}"
        limit = f">= {required:,.0f} real {unit}; utilisation <= {UTILISATION:.0%}"
        said = f"SEBI: ceiling >= {MULTIPLE:g} x {expr} ({required:,.0f} {ev.real_words})"
        ceiling, peak = ev.ceiling_real, ev.peak_load_real
        figures = {
            "required_real": required,
            "projected_real": projected,
            "ceiling_real": ceiling,
            "peak_load_real": peak,
            "utilisation": None,
        }
        if ceiling is None:
            status, reason = _capacity(ev, required, said)
            why = "no level held the SLOs: no installed capacity was measured"
            return Judged(status, name, "no ceiling", limit, why, reason, figures)
        notes = []
        utilisation = None
        if ev.peak_load_is_probe:
            notes.append(
                f"utilisation not judged: the run climbs past its ceiling on purpose (a step "
                f"search); at the projected peak it would be {projected / ceiling:.0%}"
            )
        elif peak is not None:
            utilisation = peak / ceiling
            figures["utilisation"] = utilisation
        measured = f"ceiling {ceiling:,.0f} real {unit}" + (
            f"; utilisation {utilisation:.0%} (peak load {peak:,.0f})"
            if utilisation is not None and peak is not None
            else ""
        )
        over = utilisation is not None and utilisation > UTILISATION
        if over:
            notes.insert(
                0,
                f"utilisation {utilisation:.0%} of the ceiling at the run's peak load passes "
                f"{UTILISATION:.0%}: act (add capacity)",
            )
        if ceiling >= required and not over:
            reason = f"met: {said}; measured ceiling {ceiling:,.0f}"
            if utilisation is not None:
                reason += f", utilisation {utilisation:.0%}"
            return Judged("pass", name, measured, limit, "; ".join(notes), reason, figures)
        status, reason = _capacity(ev, required, said)
        if over:
            status = "fail"
            reason = f"not met: {said}; {notes[0]}"
        return Judged(status, name, measured, limit, "; ".join(notes), reason, figures)


def _capacity(ev: Evidence, required: float, said: str) -> tuple[str, str]:
    """(status, reason) of a ceiling short of ``required``: not met, or not demonstrated."""
    top, lowest_fail = ev.top_conclusive_real, ev.lowest_fail_real
    if (top is not None and top >= required) or (
        lowest_fail is not None and lowest_fail <= required
    ):
        return "fail", f"not met: {said}; {ev.ceiling_statement}"
    tested = f"{top:,.0f}" if top is not None else "no conclusive level"
    return "inconclusive", f"not demonstrated: {said}; the highest conclusive level was {tested}"


def _projected(req: Requirement) -> UsersExpr:
    """The projected peak load: a figure times a factor, or a number of real users."""
    return _Projected(req.factor, req.figure)


class _Projected(UsersExpr):
    """A users expression that reads as written: ``peak``, not ``peak * 1``."""

    def __str__(self) -> str:
        return self.figure if self.figure and self.value == 1 else super().__str__()


KIND = Sebi()
