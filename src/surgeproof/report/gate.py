"""Judging a run against its requirements: the measured ceiling, and SLOs per steady-state window.

An SLO is judged on every conclusive steady-state window (level) up to the highest required
ceiling, the worst window deciding, because that is the load the requirement says must be held;
without a ceiling requirement, on every conclusive window. A run without steady-state windows is
judged on its whole-run figures, and the check says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from surgeproof.errors import UserError
from surgeproof.report.checks import Check, GateResult
from surgeproof.report.requirements import CeilingRequirement, SloRequirement
from surgeproof.scenario.model import CapacityProfile, Slo

#: Fewer samples than this in a window do not judge an SLO (the analyzer's default too).
MIN_SAMPLES = 20


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
    user_scale = float(analysis["scale"].get("user_scale") or 1.0)
    required = [_required_users(c, profile) for c in ceilings]
    for req, (users, unit) in zip(ceilings, required, strict=True):
        result.checks.append(judge_ceiling(analysis, req, users, unit))
    top = max((users for users, _ in required), default=None)
    for req in slos:
        result.checks.append(judge_slo(analysis, req, up_to_real=top, user_scale=user_scale))
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
    ceiling = analysis.get("ceiling") or {}
    last = (ceiling.get("real") or {}).get("last_pass_users")
    name = f"ceiling >= {req.users}" + ("" if req.users.figure is None else f" ({required:,.0f})")
    limit = f">= {required:,.0f} real {unit}"
    if last is None:
        why = {
            "upper_bound": "no level held the SLOs: even the lowest measured level failed",
            "none": "no conclusive level: nothing can be claimed",
        }.get(str(ceiling.get("status")), "no ceiling was measured")
        return Check("ceiling", name, False, "no ceiling", limit, req.origin, why)
    passed = float(last) >= required
    note = ""
    if not passed:
        first = (ceiling.get("real") or {}).get("first_fail_users")
        if first is not None:
            failed = (ceiling.get("failed_first") or {}).get("slo")
            note = f"failed at {float(first):,.0f} real users" + (f": {failed}" if failed else "")
        else:
            note = "not demonstrated: no level at or above the required load was measured"
        if ceiling.get("generator_bound"):
            note += "; levels above were generator-bound (no ceiling claimed there)"
    measured = f"{float(last):,.0f} real {unit}"
    return Check("ceiling", name, passed, measured, limit, req.origin, note)


def judge_slo(
    analysis: dict[str, Any], req: SloRequirement, *, up_to_real: float | None, user_scale: float
) -> Check:
    """The SLO's worst value over the steady-state windows up to ``up_to_real`` real users."""
    slo = req.slo
    unit = "" if slo.metric == "error_ratio" else " ms"
    limit = f"<= {_fmt(slo.limit, slo.metric)}{unit}"
    windows = [
        lv
        for lv in analysis.get("levels") or []
        if lv.get("verdict") != "inconclusive"
        and (up_to_real is None or _level_users(lv) / user_scale <= up_to_real * (1 + 1e-9))
    ]
    worst: tuple[float, str] | None = None
    for lv in windows:
        value = slo_value((lv.get("groups") or {}).get(slo.group), slo)
        if value is not None and (worst is None or value > worst[0]):
            worst = (value, f"in window {lv.get('label')} ({_level_users(lv):,.0f} sim. users)")
    scope = "steady-state windows" + (f" up to {up_to_real:,.0f} real users" if up_to_real else "")
    if worst is None:
        overall = ((analysis.get("overall") or {}).get("groups") or {}).get(slo.group)
        value = slo_value(overall, slo)
        if value is not None:
            worst, scope = (value, "over the whole run"), "whole run"
    name = f"{slo} ({scope})"
    if worst is None:
        note = f"no {slo.group} samples (at least {MIN_SAMPLES} per window) to judge it on"
        return Check(_kind(slo), name, False, "no data", limit, req.origin, note)
    value, where = worst
    measured = f"{_fmt(value, slo.metric)}{unit} {where}"
    return Check(_kind(slo), name, value <= slo.limit, measured, limit, req.origin)


def slo_value(stats: dict[str, Any] | None, slo: Slo) -> float | None:
    """The SLO's metric in one group-stats object; None when too few samples to judge."""
    if not stats or int(stats.get("count") or 0) < MIN_SAMPLES:
        return None
    if slo.metric == "error_ratio":
        value = stats.get("error_ratio")
    else:
        value = (stats.get("latency_ms") or {}).get(slo.metric)
    return None if value is None else float(value)


def _level_users(level: dict[str, Any]) -> float:
    return float(level.get("target_users") or level.get("offered_users") or 0.0)


def _kind(slo: Slo) -> str:
    return "error_ratio" if slo.metric == "error_ratio" else "latency"


def _fmt(value: float, metric: str) -> str:
    if metric == "error_ratio":
        return f"{value:.4g} ({value:.2%})"
    return f"{value:,.1f}"
