"""Judging a run against its requirements: the measured ceiling, and SLOs per steady-state window.

Every check is decided by the analysis (``analysis.holds``): the same SLO evaluation as the level
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

from surgeproof.analysis.holds import ceiling_holds, slo_holds
from surgeproof.errors import UserError
from surgeproof.report.checks import Check, GateResult
from surgeproof.report.requirements import CeilingRequirement, SloRequirement
from surgeproof.scenario.model import CapacityProfile
from surgeproof.scenario.slos import kind_of


def judge_run(
    run_dir: Path,
    analysis: dict[str, Any],
    ceilings: list[CeilingRequirement],
    slos: list[SloRequirement],
    profile: CapacityProfile | None,
) -> GateResult:
    """Every ceiling and SLO requirement judged against ``analysis``."""
    result = GateResult(str(run_dir), str(analysis["input"].get("run_id") or Path(run_dir).name))
    result.caveats.extend(caveats(analysis))
    required = [_required_users(c, profile) for c in ceilings]
    for req, (users, unit) in zip(ceilings, required, strict=True):
        result.checks.append(judge_ceiling(analysis, req, users, unit))
    top = max((users for users, _ in required), default=None)
    for req in slos:
        result.checks.append(judge_slo(analysis, req, up_to_real=top))
    return result


def caveats(analysis: dict[str, Any]) -> list[str]:
    """What a reader of the gate result must know to trust its numbers."""
    out = []
    scale = analysis.get("scale") or {}
    if scale.get("scaled"):
        out.append(f"scaled run: {scale.get('statement')}")
    quality = analysis.get("data_quality") or {}
    if quality.get("partial"):
        out.append(f"partial run: {quality.get('partial_reason') or 'cut short'}")
    generator = analysis.get("generator") or {}
    if generator.get("bottleneck"):
        out.append(f"generator: {generator.get('statement')}")
    return out


def _required_users(req: CeilingRequirement, profile: CapacityProfile | None) -> tuple[float, str]:
    try:
        users = req.users.resolve(profile)
    except KeyError:
        known = ", ".join(profile.figures) if profile else "none: the run has no profile.yaml"
        raise UserError(
            f"{req.origin} {req.users}: the run's capacity profile has no figure "
            f"{req.users.figure!r} (figures: {known})"
        ) from None
    unit = "concurrent users"
    if profile is not None and req.users.figure in profile.figures:
        unit = profile.figures[req.users.figure].unit
    return users, unit


def judge_ceiling(
    analysis: dict[str, Any], req: CeilingRequirement, required: float, unit: str
) -> Check:
    """The measured ceiling (last level that held every SLO, real users) against ``required``."""
    held = ceiling_holds(analysis, required)
    name = f"ceiling >= {req.users}" + ("" if req.users.figure is None else f" ({required:,.0f})")
    limit = f">= {required:,.0f} real {unit}"
    if held.ceiling_real is None:
        return Check("ceiling", name, False, "no ceiling", limit, req.origin, held.note)
    measured = f"{held.ceiling_real:,.0f} real {unit}"
    return Check("ceiling", name, held.passed, measured, limit, req.origin, held.note)


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
