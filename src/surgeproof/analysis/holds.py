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

from surgeproof.analysis.contract import ABSENT, Analysis, ContractError, as_analysis
from surgeproof.analysis.contract.levels import GroupStats as StatsRecord
from surgeproof.analysis.contract.levels import Level
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


def judging_of(analysis: Analysis | dict[str, Any]) -> Judging:
    """The thresholds ``analysis`` was judged by (its ``settings``)."""
    settings = as_analysis(analysis).settings
    return as_judging({**settings.judging.to_json(), "min_samples": settings.min_samples})


def slo_holds(
    analysis: Analysis | dict[str, Any], slo: Slo, *, up_to_real: float | None = None
) -> SloHolds:
    """``slo`` judged on every conclusive level up to ``up_to_real`` real users, worst deciding;
    on the whole-run figures when no level in scope could judge it (the scope says so)."""
    a = as_analysis(analysis)
    judging = judging_of(a)
    levels = [
        lv
        for lv in a.levels
        if lv.verdict != "inconclusive"
        and (up_to_real is None or lv.users / a.user_scale <= up_to_real * (1 + 1e-9))
    ]
    scope = "steady-state windows" + (
        f" up to {up_to_real:,.0f} real {a.real_unit}" if up_to_real else ""
    )
    found = _judge(slo, [(lv.groups, _where(lv)) for lv in levels], judging)
    if found is None:
        places = [(a.overall.groups, "over the whole run")]
        found, scope = _judge(slo, places, judging), "whole run"
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
    slo: Slo, places: list[tuple[dict[str, StatsRecord], str]], judging: Judging
) -> tuple[bool, float, str, str] | None:
    """(passed, deciding value, its group, where) over ``places``; None if none could judge."""
    worst_breach: tuple[float, float, str, str] | None = None
    worst: tuple[float, float, str, str] | None = None
    kind = kind_of(slo)
    for place, where in places:
        stats = {g: group_stats(d) for g, d in place.items()}
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


def group_stats(d: StatsRecord) -> GroupStats:
    """A group-stats record of analysis.json back as the analysis's :class:`GroupStats`."""
    seconds = None
    if d.seconds is not ABSENT:
        up = {}
        for bound, n in d.seconds.up_within_ms.items():
            try:
                up[float(bound)] = n
            except ValueError:
                raise ContractError(
                    f"analysis.json: seconds.up_within_ms: {bound[:40]!r} is not a bound in ms"
                ) from None
        seconds = AnsweredSeconds(d.seconds.judged, up)
    return GroupStats(
        count=d.count,
        ok=d.ok,
        errors=dict(d.errors),
        error_ratio=d.error_ratio,
        latency_ms=dict(d.latency_ms),
        service_ms=dict(d.service_ms),
        seconds=seconds,
    )


def _where(level: Level) -> str:
    return f"in window {level.label} ({level.users:,.0f} sim. users)"
