"""Judging one steady-state window (a level): pass, fail, or inconclusive — and why.

The step-to-break search calls :func:`judge_level` between levels on a run that is still being
written; the full analysis judges every ``level`` event the same way with :func:`judge_samples`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from surgeproof.analysis.causes import is_answered
from surgeproof.analysis.generator import GeneratorHealth, GeneratorTolerance, generator_health
from surgeproof.analysis.groupstats import GroupStats, group_stats
from surgeproof.analysis.percentiles import exact_percentiles
from surgeproof.analysis.samples import Samples, load_samples
from surgeproof.analysis.slo import DEFAULT_SLOS, SloBreach, evaluate
from surgeproof.rundir.reader import read_meta, read_timeline
from surgeproof.rundir.schema import Kind, Outcome
from surgeproof.scenario.model import Slo

Verdict = Literal["pass", "fail", "inconclusive"]


@dataclass
class LevelVerdict:
    """The judgement of one steady-state window, with the numbers behind it."""

    verdict: Verdict
    reasons: list[str]
    start_ns: int
    end_ns: int
    offered_users: float
    offered_rps: float
    sent_rps: float
    achieved_rps: float
    ok_rps: float
    records: int
    groups: dict[str, GroupStats]
    generator: GeneratorHealth
    breaches: list[SloBreach] = field(default_factory=list)
    unjudged: list[str] = field(default_factory=list)
    saturated: bool = False
    label: str | None = None
    active_users: float | None = None
    ws_gap_ms: dict[str, float | None] | None = None

    @property
    def duration_s(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9

    def to_dict(self, t0_ns: int | None = None) -> dict[str, Any]:
        """The ``levels`` entry of analysis.json."""
        return {
            "label": self.label,
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "t_start_s": (self.start_ns - t0_ns) / 1e9 if t0_ns is not None else None,
            "duration_s": self.duration_s,
            "target_users": self.offered_users,
            "offered_users": self.offered_users,
            "active_users": self.active_users,
            "offered_rps": self.offered_rps,
            "sent_rps": self.sent_rps,
            "achieved_rps": self.achieved_rps,
            "ok_rps": self.ok_rps,
            "records": self.records,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "breaches": [b.to_dict() for b in self.breaches],
            "unjudged": list(self.unjudged),
            "saturated": self.saturated,
            "groups": {g: st.to_dict() for g, st in self.groups.items()},
            "ws_gap_ms": self.ws_gap_ms,
            "generator": self.generator.to_dict(),
        }


def judge_level(
    run_dir: str | Path,
    start_ns: int,
    end_ns: int,
    slos: Sequence[Slo],
    *,
    target_users: float | None = None,
    label: str | None = None,
    tolerance: GeneratorTolerance | None = None,
) -> LevelVerdict:
    """Judge the steady-state window ``[start_ns, end_ns)`` of a (possibly running) run."""
    run_dir = Path(run_dir)
    samples = load_samples(run_dir, start_ns=start_ns, end_ns=end_ns)
    # Achieved throughput counts answers that *end* in the window, including those of requests
    # intended just before it: read those too.
    timeline, _ = read_timeline(run_dir)
    # Only a run still being written can lack the window's data; a finished one has all it has.
    running = read_meta(run_dir).get("status") == "running"
    return judge_samples(
        samples,
        timeline,
        start_ns,
        end_ns,
        slos,
        target_users=target_users,
        label=label,
        tolerance=tolerance,
        ended=_ended_in(run_dir, start_ns, end_ns),
        check_fresh=running,
    )


def judge_samples(
    window: Samples,
    timeline: Sequence[dict[str, Any]],
    start_ns: int,
    end_ns: int,
    slos: Sequence[Slo],
    *,
    target_users: float | None = None,
    label: str | None = None,
    tolerance: GeneratorTolerance | None = None,
    ended: tuple[int, int] | None = None,
    check_fresh: bool = False,
    closed_model: bool = False,
) -> LevelVerdict:
    """Judge records already selected for ``[start_ns, end_ns)`` (``window``).

    ``ended`` = (answers, ok answers) whose end falls in the window, when known from the whole
    run; otherwise counted from ``window`` alone.
    """
    tol = tolerance or GeneratorTolerance()
    slos = tuple(slos) or DEFAULT_SLOS
    duration = max((end_ns - start_ns) / 1e9, 1e-9)
    req = window.kind != Kind.WS_GAP
    conc = window.concurrency[req]
    offered_users = (
        float(target_users)
        if target_users is not None
        else (float(np.median(conc)) if len(conc) else 0.0)
    )
    if ended is None:
        in_win = (window.end_ns >= start_ns) & (window.end_ns < end_ns) & req
        answered = int(np.count_nonzero(in_win & is_answered(window.outcome)))
        ok = int(np.count_nonzero(in_win & (window.outcome == Outcome.OK)))
    else:
        answered, ok = ended
    intended = int(np.count_nonzero(req & (window.outcome != Outcome.CANCELLED)))
    sent = int(np.count_nonzero(req & (window.sent_ns > 0)))
    stats = group_stats(window)
    health = generator_health(window.take(req), timeline, start_ns, end_ns, tol)
    gaps = window.kind == Kind.WS_GAP
    verdict = LevelVerdict(
        verdict="pass",
        reasons=[],
        start_ns=int(start_ns),
        end_ns=int(end_ns),
        offered_users=offered_users,
        offered_rps=intended / duration,
        sent_rps=sent / duration,
        achieved_rps=answered / duration,
        ok_rps=ok / duration,
        records=int(np.count_nonzero(req)),
        groups=stats,
        generator=health,
        label=label,
        active_users=_mean_active(timeline, start_ns, end_ns),
        ws_gap_ms=(
            exact_percentiles((window.end_ns[gaps] - window.sent_ns[gaps]) / 1e6)
            if gaps.any()
            else None
        ),
    )
    breaches, unjudged = evaluate(slos, stats, tol.min_samples)
    verdict.breaches = sorted(
        (_with_first_time(b, window, start_ns, end_ns) for b in breaches),
        key=lambda b: (
            b.first_s if b.first_s is not None else 1e18,
            -b.value / max(b.limit, 1e-12),
        ),
    )
    verdict.unjudged = unjudged
    if not closed_model and sent and verdict.achieved_rps < tol.saturation_ratio * verdict.sent_rps:
        verdict.saturated = True

    if intended == 0:
        verdict.verdict = "inconclusive"
        verdict.reasons.append("no records in the window")
        return verdict
    if check_fresh:
        stale = _stale_sources(timeline, end_ns)
        if stale:
            verdict.verdict = "inconclusive"
            verdict.reasons.append(
                "data not yet flushed: the timeline of "
                + ", ".join(stale)
                + " ends before the window does (still running, or the worker was lost)"
            )
            return verdict
    failures = [b.describe() for b in verdict.breaches]
    if verdict.saturated:
        failures.append(
            f"target saturated: achieved {verdict.achieved_rps:.0f} req/s of "
            f"{verdict.sent_rps:.0f} sent ({verdict.achieved_rps / verdict.sent_rps:.0%}); "
            "answers arrive late"
        )
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
    if unjudged and len(unjudged) == sum(1 for _ in _judgeable(slos, stats)):
        verdict.verdict = "inconclusive"
        verdict.reasons.append("too few samples to judge any SLO: " + "; ".join(unjudged))
        return verdict
    verdict.reasons.append(f"held every SLO at {offered_users:g} users")
    return verdict


def _breach_order(b: SloBreach) -> tuple[float, float]:
    """Earliest first; among simultaneous breaches, the one furthest over its limit."""
    first = b.first_s if b.first_s is not None else float("inf")
    return (first, -b.value / max(b.limit, 1e-12))


def _judgeable(slos: Sequence[Slo], stats: dict[str, GroupStats]) -> list[tuple[Slo, str]]:
    from surgeproof.analysis.slo import groups_of

    return [(slo, g) for slo in slos for g in groups_of(slo, stats)]


def _with_first_time(b: SloBreach, s: Samples, start_ns: int, end_ns: int) -> SloBreach:
    """The breach with the offset of the first 1-s window in which it already broke."""
    sel = (s.kind != Kind.WS_GAP) & s.counted()
    if b.group != "*":
        sel &= np.isin(s.group, [i for i, g in enumerate(s.groups) if g == b.group])
    if not sel.any():
        return b
    sub = s.take(sel)
    seconds = (sub.intended_ns - start_ns) // 1_000_000_000
    for sec in np.unique(seconds):
        part = sub.take(seconds == sec)
        stats = group_stats(part)
        g = stats.get(b.group)
        value = g.metric(b.metric) if g else None
        if value is not None and value > b.limit:
            return SloBreach(b.slo, b.group, b.value, float(sec))
    return SloBreach(b.slo, b.group, b.value, None)


def _ended_in(run_dir: Path, start_ns: int, end_ns: int) -> tuple[int, int]:
    """Answers (and ok answers) that ended in the window, whenever they were intended."""
    from surgeproof.rundir.reader import open_record_sources

    answered = ok = 0
    for src in open_record_sources(run_dir).sources:
        for lo in range(0, len(src.records), 1 << 20):
            chunk = src.records[lo : lo + (1 << 20)]
            e = chunk["end_ns"]
            hit = (e >= start_ns) & (e < end_ns) & (chunk["kind"] != Kind.WS_GAP)
            if not hit.any():
                continue
            out = chunk["outcome"][hit]
            answered += int(np.count_nonzero(is_answered(out)))
            ok += int(np.count_nonzero(out == Outcome.OK))
    return answered, ok


def _stale_sources(timeline: Sequence[dict[str, Any]], end_ns: int) -> list[str]:
    latest: dict[str, int] = {}
    for row in timeline:
        t = row.get("t_ns")
        if isinstance(t, int):
            src = str(row.get("source", "local"))
            latest[src] = max(latest.get(src, t), t)
    return sorted(src for src, t in latest.items() if t < end_ns)


def _mean_active(timeline: Sequence[dict[str, Any]], start_ns: int, end_ns: int) -> float | None:
    """Mean over the window's seconds of the sum across sources of ``active_users``."""
    per_second: dict[int, float] = {}
    for row in timeline:
        t = row.get("t_ns")
        a = row.get("active_users")
        if isinstance(t, int) and start_ns <= t < end_ns and isinstance(a, int | float):
            sec = (t - start_ns) // 1_000_000_000
            per_second[sec] = per_second.get(sec, 0.0) + float(a)
    return float(np.mean(list(per_second.values()))) if per_second else None
