"""Whether an SLO holds on a finished analysis, by its own rules (requirements: see
``analysis.requirements``).

The gate judges the scenario's SLOs and the ones its flags add (``--max-p99 login=800ms``,
``--max-error-ratio 1%``) with these functions, on what ``analysis.json`` holds: the same
SLO evaluation (``slo.evaluate``: ``*`` is every group on its own, the sample minimums of
``settings``) over the same levels, so a flag can never be judged by another rule than the
analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from surgeproof.analysis.groupstats import AnsweredSeconds, GroupStats
from surgeproof.analysis.judging import Judging, as_judging
from surgeproof.analysis.slo import evaluate, judged_groups
from surgeproof.scenario.model import Slo
from surgeproof.scenario.slos import kind_of


@dataclass(frozen=True)
class SloHolds:
    """One SLO over the steady-state windows in scope (else the whole run)."""

    slo: Slo
    passed: bool | None  # None: nothing to judge it on
    value: float | None  # the worst breach, else the highest judged value
    group: str | None
    where: str  # "in window step-4 (70 sim. users)" | "over the whole run" | ""
    scope: str  # "steady-state windows", "... up to 594,000 real users", "whole run"
    note: str = ""


def judging_of(analysis: dict[str, Any]) -> Judging:
    """The thresholds ``analysis`` was judged by (its ``settings``), defaults where absent."""
    settings = analysis.get("settings") or {}
    rules = dict(settings.get("judging") or {})
    if isinstance(settings.get("min_samples"), int):
        rules["min_samples"] = settings["min_samples"]
    return as_judging(rules)


def slo_holds(analysis: dict[str, Any], slo: Slo, *, up_to_real: float | None = None) -> SloHolds:
    """``slo`` judged on every conclusive level up to ``up_to_real`` real users, worst deciding;
    on the whole-run figures when no level in scope could judge it (the scope says so)."""
    judging = judging_of(analysis)
    user_scale = float((analysis.get("scale") or {}).get("user_scale") or 1.0)
    real_words = _real_words(analysis)
    levels = [
        lv
        for lv in analysis.get("levels") or []
        if lv.get("verdict") != "inconclusive"
        and (up_to_real is None or _users(lv) / user_scale <= up_to_real * (1 + 1e-9))
    ]
    scope = "steady-state windows" + (
        f" up to {up_to_real:,.0f} {real_words}" if up_to_real else ""
    )
    found = _judge(slo, [(lv, _where(lv)) for lv in levels], judging)
    if found is None:
        overall = {"groups": (analysis.get("overall") or {}).get("groups") or {}}
        found, scope = _judge(slo, [(overall, "over the whole run")], judging), "whole run"
    if found is None:
        return SloHolds(
            slo,
            None,
            None,
            None,
            "",
            scope,
            f"no {slo.group} samples (at least {judging.samples_for(slo):,} per window) to judge "
            "it on",
        )
    passed, value, group, where = found
    return SloHolds(slo, passed, value, group, where, scope)


def _judge(
    slo: Slo, places: list[tuple[dict[str, Any], str]], judging: Judging
) -> tuple[bool, float, str, str] | None:
    """(passed, deciding value, its group, where) over ``places``; None if none could judge."""
    worst_breach: tuple[float, float, str, str] | None = None
    worst: tuple[float, float, str, str] | None = None
    kind = kind_of(slo)
    for place, where in places:
        stats = {g: group_stats(d) for g, d in (place.get("groups") or {}).items()}
        breaches, _ = evaluate([slo], stats, judging)
        for group in judged_groups(slo, stats, judging):
            value = kind.value(slo, stats[group])
            if value is None:
                continue
            ratio = kind.excess(slo, value)
            if worst is None or ratio > worst[0]:
                worst = (ratio, float(value), group, where)
        for b in breaches:
            ratio = kind.excess(slo, b.value)
            if worst_breach is None or ratio > worst_breach[0]:
                worst_breach = (ratio, b.value, b.group, where)
    if worst_breach is not None:
        return False, worst_breach[1], worst_breach[2], worst_breach[3]
    if worst is not None:
        return True, worst[1], worst[2], worst[3]
    return None


def group_stats(d: dict[str, Any]) -> GroupStats:
    """A group-stats object of analysis.json back as :class:`GroupStats`."""
    return GroupStats(
        count=int(d.get("count") or 0),
        ok=int(d.get("ok") or 0),
        errors={k: int(v) for k, v in (d.get("errors") or {}).items()},
        error_ratio=d.get("error_ratio"),
        latency_ms=dict(d.get("latency_ms") or {}),
        service_ms=dict(d.get("service_ms") or {}),
        seconds=AnsweredSeconds.from_dict(d["seconds"]) if d.get("seconds") else None,
    )


def _users(level: dict[str, Any]) -> float:
    return float(level.get("target_users") or level.get("offered_users") or 0.0)


def _where(level: dict[str, Any]) -> str:
    return f"in window {level.get('label')} ({_users(level):,.0f} sim. users)"


def _real_words(analysis: dict[str, Any]) -> str:
    """``real users`` (or the profile's unit: ``real orders``) from analysis.json's scale."""
    return "real " + str((analysis.get("scale") or {}).get("unit") or "users")
