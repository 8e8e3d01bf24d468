"""One level's own verdict from its measures: no data, not flushed, too short, generator-bound,
SLOs broken, too few samples, or held. Whether the target kept up needs the other levels too
(``saturation.settle``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from surgeproof.analysis.groupstats import GroupStats
from surgeproof.analysis.judging import Judging
from surgeproof.analysis.level_verdict import LevelMeasure, LevelSpec, LevelVerdict
from surgeproof.analysis.slo import SloBreach, groups_of
from surgeproof.scenario.model import Slo
from surgeproof.scenario.slos import kind_of


def decide(
    spec: LevelSpec,
    m: LevelMeasure,
    slos: Sequence[Slo],
    judging: Judging,
    *,
    timeline: Sequence[dict[str, Any]] = (),
    check_fresh: bool = False,
    lost_sources: Collection[str] = (),
) -> LevelVerdict:
    """One window's own verdict: no data, not flushed, too short, generator-bound, SLOs broken.

    Whether the target kept up (saturation) needs the other levels too and is settled after
    all of them (``saturation.settle``), which also applies the minimum number of calls.
    """
    start_ns, end_ns = spec.start_ns, spec.end_ns
    duration = max((end_ns - start_ns) / 1e9, 1e-9)
    offered_users = (
        float(spec.target_users) if spec.target_users is not None else float(m.median_users)
    )
    health = m.health
    verdict = LevelVerdict(
        verdict="pass",
        reasons=[],
        start_ns=int(start_ns),
        end_ns=int(end_ns),
        offered_users=offered_users,
        offered_rps=m.intended / duration,
        sent_rps=m.sent / duration,
        achieved_rps=m.answered / duration,
        ok_rps=m.ok / duration,
        records=m.records,
        groups=m.groups,
        generator=health,
        label=spec.label,
        active_users=(
            m.active_users
            if m.active_users is not None
            else mean_active_users(timeline, start_ns, end_ns)
        ),
        ws_gap_ms=m.ws_gap_ms,
        calls=m.calls,
        mean_latency_ms=m.mean_latency_ms,
    )
    verdict.breaches = sorted(m.breaches, key=_breach_order)
    verdict.unjudged = m.unjudged
    if m.intended == 0:
        verdict.verdict = "inconclusive"
        verdict.reasons.append("no records in the window")
        return verdict
    if check_fresh:
        stale = [src for src in _stale_sources(timeline, end_ns) if src not in lost_sources]
        if stale:
            verdict.verdict = "inconclusive"
            verdict.short_of = stale
            verdict.reasons.append(
                "data not yet flushed: the timeline of "
                + ", ".join(stale)
                + " ends before the window does (still running, or the worker was lost)"
            )
            return verdict
    failures = [b.describe() for b in verdict.breaches]
    if not judging.long_enough(duration):
        verdict.verdict = "inconclusive"
        verdict.too_short = True
        verdict.reasons.append(too_short_reason(duration, m.calls, judging))
        if failures:
            verdict.reasons.append("not counted: " + "; ".join(failures))
        return verdict
    if health.bound:
        verdict.verdict = "inconclusive"
        verdict.reasons.extend(health.reasons)
        verdict.reasons.append("the generator was the bottleneck: this level proves nothing")
        if failures:
            verdict.reasons.append("not counted: " + "; ".join(failures))
        return verdict
    if failures:
        verdict.verdict = "fail"
        verdict.reasons.extend(failures)
        return verdict
    judgeable = _judgeable(slos, m.groups)
    if judgeable and len(verdict.unjudged) >= len(judgeable):
        verdict.verdict = "inconclusive"
        verdict.reasons.append("too few samples to judge any SLO: " + "; ".join(verdict.unjudged))
        return verdict
    verdict.reasons.append(f"held every SLO at {offered_users:g} users")
    return verdict


def too_short_reason(duration_s: float, calls: int, judging: Judging) -> str:
    """``inconclusive: too short: 0.25 s window with 14 calls (a verdict needs at least ...)``."""
    return (
        f"inconclusive: too short: a {duration_s:.3g} s window with {calls:,} calls (a verdict "
        f"needs at least {judging.min_window_s:g} s and {judging.min_calls:,} calls)"
    )


def _breach_order(b: SloBreach) -> tuple[float, float]:
    """Earliest first; among simultaneous breaches, the one furthest past its limit."""
    first = b.first_s if b.first_s is not None else float("inf")
    return (first, -kind_of(b.slo).excess(b.slo, b.value))


def _judgeable(slos: Sequence[Slo], stats: dict[str, GroupStats]) -> list[tuple[Slo, str]]:
    return [(slo, g) for slo in slos for g in groups_of(slo, stats)]


def _stale_sources(timeline: Sequence[dict[str, Any]], end_ns: int) -> list[str]:
    latest: dict[str, int] = {}
    for row in timeline:
        t = row.get("t_ns")
        if isinstance(t, int):
            src = str(row.get("source", "local"))
            latest[src] = max(latest.get(src, t), t)
    return sorted(src for src, t in latest.items() if t < end_ns)


def mean_active_users(
    timeline: Sequence[dict[str, Any]], start_ns: int, end_ns: int
) -> float | None:
    """Mean over the window's seconds of the sum across sources of ``active_users``."""
    per_second: dict[int, float] = {}
    for row in timeline:
        t = row.get("t_ns")
        a = row.get("active_users")
        if isinstance(t, int) and start_ns <= t < end_ns and isinstance(a, int | float):
            sec = (t - start_ns) // 1_000_000_000
            per_second[sec] = per_second.get(sec, 0.0) + float(a)
    return float(np.mean(list(per_second.values()))) if per_second else None
