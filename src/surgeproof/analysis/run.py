"""``analyze_run``: the whole ``analysis.json`` of a run directory, from its raw data alone."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from surgeproof import __version__
from surgeproof.analysis.causes import is_answered
from surgeproof.analysis.ceiling import (
    apply_closed_model_plateau,
    ceiling_bracket,
    throughput_plateau,
)
from surgeproof.analysis.generator import GeneratorTolerance
from surgeproof.analysis.groupstats import group_stats
from surgeproof.analysis.headroom import compare_with_profile
from surgeproof.analysis.incidents import incident_view
from surgeproof.analysis.knee import find_knee
from surgeproof.analysis.levels import LevelVerdict, judge_samples
from surgeproof.analysis.reconcile import reconcile
from surgeproof.analysis.samples import Samples, load_samples
from surgeproof.analysis.scale import Scale
from surgeproof.analysis.slo import DEFAULT_SLOS, slo_dict
from surgeproof.analysis.summary import summary_lines
from surgeproof.analysis.timeseries import build_series
from surgeproof.analysis.usl import fit_usl
from surgeproof.analysis.verdict import run_verdict
from surgeproof.errors import UserError
from surgeproof.rundir.reader import read_events, read_meta, read_timeline
from surgeproof.rundir.schema import PROFILE_COPY, SCENARIO_COPY, Kind, Outcome, RunDirError
from surgeproof.scenario.model import CapacityProfile, Requirement, Slo

ANALYSIS_SCHEMA_VERSION = 1
ANALYSIS_FILE = "analysis.json"

CLOSED_MODEL_CAVEAT = (
    "closed-model data understate overload: users wait for each response, so offered load falls "
    "as the target slows (coordinated omission); the throughput plateau is the saturation signal"
)


def analyze_run(
    run_dir: str | Path,
    *,
    profile: CapacityProfile | None = None,
    slos: Sequence[Slo] | None = None,
    window_s: float = 1.0,
    requirements: Sequence[Requirement] | None = None,
    tolerance: GeneratorTolerance | None = None,
    slo_source: str = "argument",
) -> dict[str, Any]:
    """The analysis.json content of ``run_dir`` (see FORMAT.md beside this module)."""
    run_dir = Path(run_dir)
    if not window_s > 0:
        raise UserError(f"--window must be positive, got {window_s:g} s")
    meta = read_meta(run_dir)
    tol = tolerance or GeneratorTolerance()
    caveats: list[str] = []
    samples = load_samples(run_dir)
    if len(samples) == 0:
        raise RunDirError(
            f"{run_dir}: the run has no request records (empty run): nothing to analyse"
        )
    events, ev_damage = read_events(run_dir)
    timeline, tl_damage = read_timeline(run_dir)
    damage = list(samples.damage) + ev_damage + tl_damage

    scenario = _scenario_copy(run_dir, caveats)
    if slos is None or not len(slos):
        if scenario is not None and scenario.slos:
            slos, slo_source = scenario.slos, "scenario"
        else:
            slos, slo_source = DEFAULT_SLOS, "default"
            caveats.append(
                "no SLOs given (scenario or --slo): judged by the default SLOs "
                + ", ".join(str(s) for s in DEFAULT_SLOS)
            )
    if profile is None:
        profile = _profile_copy(run_dir, caveats)
    if requirements is None:
        requirements = scenario.requirements if scenario is not None else ()

    scale = Scale.from_meta(meta)
    load_model = "closed" if meta.get("load_model") == "closed" or samples.closed_model else "open"
    t0_ns = meta.get("t0_ns") if isinstance(meta.get("t0_ns"), int) else None
    first_ns = int(samples.intended_ns.min())
    t0_ns = first_ns if t0_ns is None else min(t0_ns, first_ns)

    levels = _judge_levels(samples, timeline, events, slos, tol, load_model == "closed")
    plateau = throughput_plateau(levels)
    if load_model == "closed":
        apply_closed_model_plateau(levels, plateau)
        caveats.append(CLOSED_MODEL_CAVEAT)
    ceiling = ceiling_bracket(levels, scale, plateau)
    points = [(v.offered_users, v.achieved_rps) for v in levels if v.verdict != "inconclusive"]
    usl = fit_usl(points, scale.user_scale)
    knee = find_knee(points)
    series = build_series(samples, timeline, t0_ns, window_s, slos)
    incidents = incident_view(series, samples, events)
    reconciliation, rec_damage = reconcile(run_dir)
    damage += rec_damage
    ceiling_real = ceiling["real"]["last_pass_users"]
    comparison = (
        compare_with_profile(profile, ceiling_real, requirements, scale, usl)
        if profile is not None
        else None
    )
    overall = group_stats(samples)
    for slo in slos:
        if slo.group != "*" and slo.group not in overall:
            caveats.append(f"SLO {slo} names a group with no samples in this run")
    lost = (meta.get("workers") or {}).get("lost") if isinstance(meta.get("workers"), dict) else []
    if lost:
        caveats.append(f"{len(lost)} generator worker(s) lost during the run")

    status = meta.get("status")
    partial = status != "complete" or bool(damage)
    reason = meta.get("partial_reason") if status != "complete" else None
    if status == "running":
        reason = reason or "run.json still says running: the writer did not finish"
    if damage and not reason:
        reason = "; ".join(damage)

    analysis: dict[str, Any] = {
        "analysis_schema_version": ANALYSIS_SCHEMA_VERSION,
        "generated_at_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "surgeproof_version": __version__,
        "input": _input(run_dir, meta, samples, t0_ns, window_s, load_model),
        "scale": scale.to_dict(),
        "slos": [slo_dict(s, slo_source) for s in slos],
        "verdict": run_verdict(levels, ceiling, comparison, scale),
        "ceiling": ceiling,
        "levels": [v.to_dict(t0_ns) for v in levels],
        "usl": usl,
        "knee": knee,
        "timeseries": series.to_dict(),
        "overall": {"groups": {g: st.to_dict() for g, st in overall.items()}},
        "comparison": comparison,
        "incidents": incidents,
        "reconciliation": reconciliation,
        "data_quality": {
            "partial": partial,
            "partial_reason": reason,
            "damage": damage,
            "precision": "exact",
            "precision_notes": [
                "latency percentiles are exact order statistics of the raw records, from the "
                "intended send time"
            ],
            "closed_model": load_model == "closed",
            "caveats": caveats,
        },
        "generator": _generator(samples, timeline, levels, meta, tol, ceiling),
    }
    analysis["summary"] = summary_lines(analysis)
    return analysis


def write_analysis(
    run_dir: str | Path,
    analysis: dict[str, Any] | None = None,
    *,
    out: str | Path | None = None,
    **kwargs: Any,
) -> Path:
    """Compute (unless given) and atomically write ``analysis.json``; returns its path."""
    if analysis is None:
        analysis = analyze_run(run_dir, **kwargs)
    path = Path(out) if out is not None else Path(run_dir) / ANALYSIS_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(analysis, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def _judge_levels(
    s: Samples,
    timeline: list[dict[str, Any]],
    events: list[dict[str, Any]],
    slos: Sequence[Slo],
    tol: GeneratorTolerance,
    closed: bool,
) -> list[LevelVerdict]:
    req = s.kind != Kind.WS_GAP
    answered = req & is_answered(s.outcome) & (s.end_ns > 0)
    ends = np.sort(s.end_ns[answered])
    ok_ends = np.sort(s.end_ns[answered & (s.outcome == Outcome.OK)])
    order = np.argsort(s.intended_ns, kind="stable")
    intended_sorted = s.intended_ns[order]
    out = []
    for ev in events:
        if ev.get("type") != "level":
            continue
        start, end = ev.get("start_ns"), ev.get("end_ns")
        if not isinstance(start, int) or not isinstance(end, int) or end <= start:
            continue
        lo, hi = np.searchsorted(intended_sorted, [start, end])
        window = s.take(np.sort(order[lo:hi]))
        ended = (
            int(np.searchsorted(ends, end) - np.searchsorted(ends, start)),
            int(np.searchsorted(ok_ends, end) - np.searchsorted(ok_ends, start)),
        )
        tu = ev.get("target_users")
        out.append(
            judge_samples(
                window,
                timeline,
                start,
                end,
                slos,
                target_users=float(tu) if isinstance(tu, int | float) else None,
                label=str(ev.get("label") or f"level-{len(out) + 1}"),
                tolerance=tol,
                ended=ended,
                closed_model=closed,
            )
        )
    return out


def _scenario_copy(run_dir: Path, caveats: list[str]):
    path = run_dir / SCENARIO_COPY
    if not path.is_file():
        return None
    from surgeproof.scenario import load_scenario

    try:
        return load_scenario(path)
    except UserError as exc:
        caveats.append(f"scenario.yaml could not be read ({exc}); its SLOs were not used")
        return None


def _profile_copy(run_dir: Path, caveats: list[str]) -> CapacityProfile | None:
    path = run_dir / PROFILE_COPY
    if not path.is_file():
        return None
    from surgeproof.scenario import load_profile

    try:
        return load_profile(path)
    except UserError as exc:
        caveats.append(f"profile.yaml could not be read ({exc}); no comparison with it")
        return None


def _input(
    run_dir: Path, meta: dict[str, Any], s: Samples, t0_ns: int, window_s: float, model: str
) -> dict[str, Any]:
    counted = s.counted()
    last_ns = int(s.end_ns.max()) if len(s) else None
    first_ns = int(s.intended_ns.min()) if len(s) else None
    return {
        "kind": "run_dir",
        "path": str(run_dir),
        "run_id": meta.get("run_id"),
        "run_status": meta.get("status"),
        "scenario_name": meta.get("scenario_name"),
        "profile_name": meta.get("profile_name"),
        "load_model": model,
        "t0_ns": t0_ns,
        "first_ns": first_ns,
        "last_ns": last_ns,
        "duration_s": (last_ns - first_ns) / 1e9 if last_ns and first_ns else 0.0,
        "records": {
            "total": len(s),
            "per_source": dict(s.per_source),
            "counted": int(np.count_nonzero(counted)),
            "missed": int(np.count_nonzero(s.outcome == Outcome.MISSED)),
            "cancelled": int(np.count_nonzero(s.outcome == Outcome.CANCELLED)),
        },
        "window_s": window_s,
    }


def _generator(
    s: Samples,
    timeline: list[dict[str, Any]],
    levels: Sequence[LevelVerdict],
    meta: dict[str, Any],
    tol: GeneratorTolerance,
    ceiling: dict[str, Any],
) -> dict[str, Any]:
    sent = s.sent_ns > 0
    lag_ms = (s.sent_ns[sent] - s.intended_ns[sent]) / 1e6
    late = int(np.count_nonzero(lag_ms > tol.late_ms))
    per_src: dict[str, list[float]] = {}
    for row in timeline:
        c = row.get("cpu_percent")
        if isinstance(c, int | float):
            per_src.setdefault(str(row.get("source", "local")), []).append(float(c))
    bound = [v for v in levels if v.verdict == "inconclusive" and v.generator.bound]
    if bound:
        at = ", ".join(f"{v.offered_users:g}" for v in bound)
        lp = ceiling["last_pass"]
        claim = f"no ceiling is claimed above {lp['users']:g}" if lp else "no ceiling is claimed"
        statement = f"the generator was the bottleneck at {at} users: {claim} from those levels"
    else:
        statement = "the generator kept its schedule at every level"
    workers = meta.get("workers") if isinstance(meta.get("workers"), dict) else {}
    return {
        "bottleneck": bool(bound),
        "inconclusive_levels": [v.label for v in bound],
        "late_ratio": late / int(np.count_nonzero(sent)) if sent.any() else None,
        "missed": int(np.count_nonzero(s.outcome == Outcome.MISSED)),
        "cpu_max_percent": max((max(v) for v in per_src.values()), default=None),
        "sources": {
            src: {
                "cpu_max_percent": max(v),
                "cpu_mean_percent": float(np.mean(v)),
                "samples": len(v),
                "records": s.per_source.get(src),
            }
            for src, v in sorted(per_src.items())
        },
        "lost_workers": list(workers.get("lost") or []),
        "statement": statement,
    }
