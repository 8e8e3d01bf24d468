"""Requirements judged once, here, on a finished analysis document: the evidence their kinds read
(``scenario.requirements``), and the ``requirements`` entries of analysis.json.

The builder judges the run's requirements when it writes analysis.json; the gate judges the ones
its flags add with the same function on the same document, so no requirement is ever decided by
another rule. Report and gate show the entries' words; the run's verdict counts their status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from surgeproof.analysis.order_status import order_lookups_figure
from surgeproof.analysis.recovery import recovery_figure, sessions_figure
from surgeproof.analysis.settings import as_profile
from surgeproof.scenario.model import Requirement
from surgeproof.scenario.requirements import Evidence, kind_of


def evidence_of(analysis: Mapping[str, Any]) -> Evidence:
    """What the analysis document measured, as requirement kinds read it."""
    scale = analysis.get("scale") or {}
    user_scale = float(scale.get("user_scale") or 1.0)
    ceiling = analysis.get("ceiling") or {}
    real = ceiling.get("real") or {}
    conclusive = [lv for lv in analysis.get("levels") or [] if lv.get("verdict") != "inconclusive"]
    top = max((_users(lv) / user_scale for lv in conclusive), default=None)
    lowest_fail = min(
        (_users(lv) / user_scale for lv in conclusive if lv.get("verdict") == "fail"),
        default=None,
    )
    last_pass, first_fail = ceiling.get("last_pass") or {}, ceiling.get("first_fail") or {}
    failed = next(
        (
            lv
            for lv in conclusive
            if first_fail
            and lv.get("start_ns") == first_fail.get("start_ns")
            and lv.get("label") == first_fail.get("label")
        ),
        {},
    )
    offered = [u for u in (analysis.get("timeseries") or {}).get("offered_users") or [] if u]
    settings = analysis.get("settings") or {}
    profile = settings.get("profile")
    return Evidence(
        profile=as_profile(profile) if profile else None,
        real_words="real " + str(scale.get("unit") or "users"),
        scale_statement=str(scale.get("statement") or ""),
        ceiling_status=str(ceiling.get("status") or "none"),
        ceiling_statement=str(ceiling.get("statement") or ""),
        ceiling_real=_number(real.get("last_pass_users")),
        first_fail_real=_number(real.get("first_fail_users")),
        failed_first=(ceiling.get("failed_first") or {}).get("slo"),
        generator_bound=bool(ceiling.get("generator_bound")),
        top_conclusive_real=top,
        lowest_fail_real=lowest_fail,
        ceiling_rps_real=_real_rps(last_pass.get("achieved_rps"), user_scale),
        first_fail_rps_real=_real_rps(failed.get("asked_rps"), user_scale),
        peak_load_real=max(offered) / user_scale if offered else None,
        peak_load_is_probe=bool((analysis.get("input") or {}).get("probing")),
        recovery=recovery_figure(analysis),
        orders=order_lookups_figure(analysis),
        sessions=sessions_figure(analysis),
    )


def judge_requirement(
    analysis: Mapping[str, Any], req: Requirement, origin: str, evidence: Evidence | None = None
) -> dict[str, Any]:
    """``req`` judged on ``analysis``: its ``requirements`` entry."""
    kind = kind_of(req)
    judged = kind.judge(req, evidence if evidence is not None else evidence_of(analysis))
    figure = kind.figure_requirement(req)
    return {
        "kind": kind.name,
        "text": str(req),
        "rule": kind.rule,
        "source": judged.source or kind.source,
        "origin": origin,
        "figure": figure[0] if figure else None,
        "status": judged.status,
        "name": judged.name,
        "measured": judged.measured,
        "limit": judged.limit,
        "note": judged.note,
        "reason": judged.reason,
        "figures": dict(judged.figures),
    }


def judge_requirements(
    analysis: Mapping[str, Any], requirements: Iterable[Requirement], origin: str
) -> list[dict[str, Any]]:
    """Every requirement of the run judged on ``analysis`` (one evidence for all)."""
    evidence = evidence_of(analysis)
    return [judge_requirement(analysis, req, origin, evidence) for req in requirements]


def figure_requirements(
    requirements: Sequence[Requirement], judged: Sequence[Mapping[str, Any]]
) -> dict[str, tuple[float, bool]]:
    """Profile figure → (factor, met) of the requirements stated against a figure, for the
    capacity comparison (the last one on a figure wins)."""
    out: dict[str, tuple[float, bool]] = {}
    for req, entry in zip(requirements, judged, strict=True):
        figure = kind_of(req).figure_requirement(req)
        if figure is not None:
            out[figure[0]] = (figure[1], entry["status"] == "pass")
    return out


def _users(level: Mapping[str, Any]) -> float:
    return float(level.get("target_users") or level.get("offered_users") or 0.0)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _real_rps(rps: Any, user_scale: float) -> float | None:
    """A measured (simulated-scale) rate scaled back: each simulated user stands for
    1 / user_scale real ones with the same per-user rate."""
    return float(rps) / user_scale if isinstance(rps, int | float) else None
