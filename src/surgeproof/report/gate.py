"""Judging a run against its requirements (any kind: the measured ceiling, regulators' rules,
recovery objectives) and SLOs per steady-state window.

Every check is decided by the analysis: requirements by ``analysis.requirements`` (their kinds'
rules, on analysis.json), SLOs by ``analysis.holds``: the same SLO evaluation as the level
verdicts (``*`` = every group on its own, the analysis's sample minimums), on what
``analysis.json`` holds; the gate only picks the scope and formats. An SLO is judged on every
conclusive steady-state window (level) up to the highest required ceiling, the worst window
deciding, because that is the load the requirement says must be held; without a ceiling
requirement, on every conclusive window. A run without steady-state windows is judged on its
whole-run figures, and the check says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from surgeproof.analysis.contract import Analysis, as_analysis
from surgeproof.analysis.contract.requirements import JudgedRequirement
from surgeproof.analysis.holds import slo_holds
from surgeproof.analysis.requirements import evidence_of, judge_requirement
from surgeproof.errors import UserError
from surgeproof.report.checks import Check, GateResult
from surgeproof.report.requirements import RequirementCheck, SloRequirement
from surgeproof.scenario.slos import kind_of


def judge_run(
    run_dir: Path,
    analysis: dict[str, Any],
    requirements: list[RequirementCheck],
    slos: list[SloRequirement],
) -> GateResult:
    """Every requirement and SLO judged against ``analysis`` (by the analysis's own rules)."""
    typed = as_analysis(analysis)
    result = GateResult(str(run_dir), typed.input.run_id or Path(run_dir).name)
    result.caveats.extend(caveats(typed))
    evidence = evidence_of(analysis)
    judged = [
        JudgedRequirement.from_json(
            judge_requirement(analysis, r.requirement, r.origin, evidence), "requirement"
        )
        for r in requirements
    ]
    for entry in judged:
        result.checks.append(requirement_check(entry))
    # SLOs are judged up to the highest load a requirement asks to be held.
    top = max(
        (e.figures["required_real"] for e in judged if "required_real" in e.figures),
        default=None,
    )
    for req in slos:
        result.checks.append(judge_slo(analysis, req, up_to_real=top))
    return result


def requirement_check(entry: JudgedRequirement | dict[str, Any]) -> Check:
    """A requirement's ``requirements`` entry (as the analysis judged it) as a gate check; one
    the run's input cannot judge (no profile for its figure) is a one-line UserError."""
    if isinstance(entry, dict):
        entry = JudgedRequirement.from_json(entry, "requirement")
    if entry.status == "unusable":
        raise UserError(f"{entry.origin} {entry.text}: {entry.note}")
    return Check(
        entry.kind,
        entry.name,
        entry.status == "pass",
        entry.measured,
        entry.limit,
        entry.origin,
        entry.note,
        source=entry.source,
        applicable=entry.status != "not_applicable",
    )


def caveats(analysis: Analysis | dict[str, Any]) -> list[str]:
    """What a reader of the gate result must know to trust its numbers."""
    a = as_analysis(analysis)
    out = []
    if a.scale.scaled:
        out.append(f"scaled run: {a.scale.statement}")
    if a.data_quality.partial:
        out.append(f"partial run: {a.data_quality.partial_reason or 'cut short'}")
    if a.generator.bottleneck:
        out.append(f"generator: {a.generator.statement}")
    return out


def judge_slo(analysis: dict[str, Any], req: SloRequirement, *, up_to_real: float | None) -> Check:
    """The SLO as the analysis judges it, over the steady-state windows up to ``up_to_real``."""
    slo = req.slo
    kind = kind_of(slo)
    limit = kind.format_limit(slo)
    held = slo_holds(analysis, slo, up_to_real=up_to_real)
    name = f"{slo} ({held.scope})"
    if held.passed is None or held.value is None:
        return Check(kind.name, name, False, "no data", limit, req.origin, held.note)
    on = f" on {held.group}" if slo.group == "*" and held.group else ""
    measured = f"{kind.format_value(slo, held.value)}{on} {held.where}"
    return Check(kind.name, name, held.passed, measured, limit, req.origin)
