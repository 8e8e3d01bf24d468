"""``analyze_run``: the whole ``analysis.json`` of a run directory, from its raw data alone.

``measure_run`` reads the raw data; ``builder.build_analysis`` judges across levels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from surgeproof.analysis import jsontext
from surgeproof.analysis.amplification import annotate_incidents, measure_amplification
from surgeproof.analysis.builder import (
    ANALYSIS_FILE,
    ANALYSIS_SCHEMA_VERSION,
    CLOSED_MODEL_CAVEAT,
    Measured,
    build_analysis,
)
from surgeproof.analysis.endpoints import overall_stats
from surgeproof.analysis.gateway_outages import gateway_outages
from surgeproof.analysis.generator import GeneratorTolerance
from surgeproof.analysis.groupstats import AnsweredSeconds
from surgeproof.analysis.incidents import incident_view
from surgeproof.analysis.judging import Judging, as_judging
from surgeproof.analysis.keyed import drop_spares
from surgeproof.analysis.levels import LevelSpec, judge_levels
from surgeproof.analysis.order_status import journal_and_checks, order_status_section
from surgeproof.analysis.outages import target_outages
from surgeproof.analysis.reconcile import read_ledger, reconcile
from surgeproof.analysis.recovery import faults_from_events, marks_from_events, recovery_section
from surgeproof.analysis.refusals import refusal_caveat, refused_messages
from surgeproof.analysis.scale import Scale
from surgeproof.analysis.scan import Census, RecordScan, settle_allocator
from surgeproof.analysis.seconds import answered_seconds, second_bounds
from surgeproof.analysis.server import server_series, server_vs_client
from surgeproof.analysis.settings import (
    as_profile,
    as_requirements,
    as_slos,
    as_tolerance,
)
from surgeproof.analysis.shards import DEFAULT_MEMORY, Execution, resolve_jobs
from surgeproof.analysis.shortfall import apply_shortfalls, shortfall_windows
from surgeproof.analysis.slo import DEFAULT_SLOS
from surgeproof.analysis.timeseries import WINDOW_MIN_SAMPLES, build_series
from surgeproof.confine import replacing
from surgeproof.errors import UserError
from surgeproof.rundir.reader import (
    RecordSources,
    open_record_sources,
    read_events,
    read_meta,
    read_server_metrics,
    read_timeline,
)
from surgeproof.rundir.schema import ORDERS_DIR, PROFILE_COPY, SCENARIO_COPY, RunDirError
from surgeproof.scenario.model import CapacityProfile, Requirement, Slo
from surgeproof.scenario.programs import kind_of_run as program_of_run

__all__ = [
    "ANALYSIS_FILE",
    "ANALYSIS_SCHEMA_VERSION",
    "CLOSED_MODEL_CAVEAT",
    "analyze_run",
    "measure_run",
    "write_analysis",
]

if TYPE_CHECKING:
    from surgeproof.analysis.shard_hosts import ShardHosts


def analyze_run(
    run_dir: str | Path,
    *,
    profile: CapacityProfile | Mapping[str, Any] | str | Path | None = None,
    slos: Sequence[Slo | Mapping[str, Any]] | None = None,
    window_s: float = 1.0,
    requirements: Sequence[Requirement | Mapping[str, Any]] | None = None,
    tolerance: GeneratorTolerance | Mapping[str, Any] | None = None,
    judging: Judging | Mapping[str, Any] | None = None,
    slo_source: str = "argument",
    requirement_source: str | None = None,
    profile_source: str = "argument",
    min_samples: int | None = None,
    window_min_samples: int = WINDOW_MIN_SAMPLES,
    jobs: int | str | None = "auto",
    memory: int | None = None,
    hosts: ShardHosts | None = None,
) -> dict[str, Any]:
    """The analysis.json content of ``run_dir`` (see FORMAT.md beside this module).

    Every argument can be given in the form analysis.json's ``settings`` records it, so
    ``analyze_run(run_dir, **analysis["settings"])`` repeats an analysis exactly. Sources say
    where SLOs, requirements and the profile came from; ``requirement_source`` left None is
    "scenario" when the requirements equal the scenario copy's, else "argument".

    ``jobs`` (worker processes, or "auto": one per core for runs of 20M records or more) and
    ``memory`` (bytes the exact percentiles may use, all processes together; default 1 GiB)
    decide only how the analysis runs, never what it finds: the document is the same. So do
    ``hosts``: record shards that lie on other hosts, analysed there (``shard_hosts``).
    """
    return build_analysis(
        measure_run(
            run_dir,
            profile=profile,
            slos=slos,
            window_s=window_s,
            requirements=requirements,
            tolerance=tolerance,
            judging=judging,
            slo_source=slo_source,
            requirement_source=requirement_source,
            profile_source=profile_source,
            min_samples=min_samples,
            window_min_samples=window_min_samples,
            jobs=jobs,
            memory=memory,
            hosts=hosts,
        )
    )


def measure_run(
    run_dir: str | Path,
    *,
    profile: CapacityProfile | Mapping[str, Any] | str | Path | None,
    slos: Sequence[Slo | Mapping[str, Any]] | None,
    window_s: float,
    requirements: Sequence[Requirement | Mapping[str, Any]] | None,
    tolerance: GeneratorTolerance | Mapping[str, Any] | None,
    judging: Judging | Mapping[str, Any] | None,
    slo_source: str,
    requirement_source: str | None,
    profile_source: str,
    min_samples: int | None,
    window_min_samples: int,
    jobs: int | str | None = "auto",
    memory: int | None = None,
    hosts: ShardHosts | None = None,
) -> Measured:
    """Everything a run directory's raw data show, each level judged on its own."""
    run_dir = Path(run_dir)
    if not window_s > 0:
        raise UserError(f"--window must be positive, got {window_s:g} s")
    meta = read_meta(run_dir)
    tol, moved = as_tolerance(tolerance)
    rules = as_judging(judging, **moved, min_samples=min_samples)
    settle_allocator()
    opened = (
        open_record_sources(run_dir)
        if hosts is None
        else open_record_sources(run_dir, elsewhere=hosts.index, remote=hosts.sources)
    )
    # Worker processes help with the records read here; a shard's host runs its own passes.
    records = sum(src.count for src in opened.sources if src.elsewhere is None)
    execution = Execution(
        jobs=resolve_jobs(jobs, records), memory=DEFAULT_MEMORY if memory is None else memory
    )
    try:
        with execution:
            return _measure_run(
                run_dir, meta, opened, execution, tol, rules, profile=profile, slos=slos,
                window_s=window_s, requirements=requirements, slo_source=slo_source,
                requirement_source=requirement_source, profile_source=profile_source,
                window_min_samples=window_min_samples, hosts=hosts,
            )  # fmt: skip
    finally:
        drop_spares()


def _measure_run(
    run_dir: Path,
    meta: dict[str, Any],
    opened: RecordSources,
    execution: Execution,
    tol: GeneratorTolerance,
    rules: Judging,
    *,
    profile: CapacityProfile | Mapping[str, Any] | str | Path | None,
    slos: Sequence[Slo | Mapping[str, Any]] | None,
    window_s: float,
    requirements: Sequence[Requirement | Mapping[str, Any]] | None,
    slo_source: str,
    requirement_source: str | None,
    profile_source: str,
    window_min_samples: int,
    hosts: ShardHosts | None = None,
) -> Measured:
    caveats: list[str] = []
    scan = RecordScan.of_sources(opened, execution=execution, hosts=hosts)
    census = scan.census(tol.late_ms)
    if census.total == 0:
        raise RunDirError(
            f"{run_dir}: the run has no request records (empty run): nothing to analyse"
        )
    events, ev_damage = read_events(run_dir)
    timeline, tl_damage = read_timeline(run_dir)
    server_rows, sv_damage = read_server_metrics(run_dir)
    damage = list(scan.damage) + ev_damage + tl_damage + sv_damage

    scenario = _scenario_copy(run_dir, caveats)
    if slos is None or not len(slos):
        if scenario is not None and scenario.slos:
            slos, slo_source = scenario.slos, "scenario"
        else:
            slos, slo_source = DEFAULT_SLOS, "default"
    slos = as_slos(slos)
    if slo_source == "default":
        caveats.append(
            "no SLOs given (scenario or --slo): judged by the default SLOs "
            + ", ".join(str(s) for s in slos)
        )
    if profile is None:
        profile = _profile_copy(run_dir, caveats)
        profile_source = "run_dir" if profile is not None else "none"
    else:
        profile = as_profile(profile)
    if requirements is None:
        requirements = scenario.requirements if scenario is not None else ()
        requirement_source = "scenario" if requirements else "none"
    requirements = as_requirements(requirements)
    if requirement_source is None:
        # Requirements handed back unchanged (a re-analysis) keep the scenario as their source.
        same = scenario is not None and requirements == tuple(scenario.requirements)
        requirement_source = "scenario" if same and requirements else "argument"

    scale = Scale.from_meta(meta)
    load_model = "closed" if meta.get("load_model") == "closed" or census.closed_model else "open"
    t0_ns = meta.get("t0_ns") if isinstance(meta.get("t0_ns"), int) else None
    first_ns = int(census.first_intended)
    t0_ns = first_ns if t0_ns is None else min(t0_ns, first_ns)

    specs = _level_specs(events)
    levels = judge_levels(scan, specs, timeline, slos, tolerance=tol, judging=rules)
    shortfalls = shortfall_windows(meta, events)
    short_levels = apply_shortfalls(levels, shortfalls, t0_ns)
    series = build_series(
        scan, timeline, t0_ns, window_s, slos, window_min_samples=window_min_samples
    )
    client_sent = series.sent if series.sent is not None else np.zeros(len(series), np.int64)
    series.server = server_series(server_rows, t0_ns, window_s, client_sent)
    incidents = incident_view(series, events)
    incidents["target_outages"] = target_outages(
        series, events, window_min_samples=window_min_samples
    )
    # Re-sends and reconnects: one more pass, on the series' windows.
    amplification = measure_amplification(
        scan, t0_ns, window_s, len(series), min_first=window_min_samples
    )
    annotate_incidents(incidents, amplification)
    incidents["gateway_outages"] = gateway_outages(events, amplification)
    reconciliation, rec_damage = reconcile(run_dir, incidents["target_outages"])
    damage += rec_damage
    # Every acknowledged order as the exchange's own API answered for it after the run.
    journal, order_checks, os_damage = journal_and_checks(run_dir)
    damage += os_damage
    reconciliation["order_status"] = order_status_section(
        order_checks,
        read_ledger(run_dir),
        journal_present=(run_dir / ORDERS_DIR).is_dir(),
        outages=len(incidents["target_outages"]),
    )
    faults = faults_from_events(events)
    data_end = int(series.start_ns[-1]) + round(window_s * 1e9) if len(series) else t0_ns
    recovery = recovery_section(
        faults,
        series,
        scan,
        timeline,
        slos,
        rules,
        amplification,
        journal,
        order_checks,
        window_min_samples=window_min_samples,
        data_end_ns=data_end,
    )
    recovery["marks"] = marks_from_events(events, t0_ns)
    endpoints, overall = overall_stats(scan)
    bounds = second_bounds(slos)
    if bounds:
        # The whole run's seconds, counted from t0 like the series windows.
        last = int(census.last_intended if census.last_intended is not None else t0_ns)
        [seconds] = answered_seconds(scan, [(t0_ns, last + 1)], bounds)
        for g, st in overall.items():
            st.seconds = seconds.get(g, AnsweredSeconds(0, dict.fromkeys(bounds, 0)))
    for slo in slos:
        if slo.group != "*" and slo.group not in overall:
            caveats.append(f"SLO {slo} names a group with no samples in this run")
    far = {src.name for src in opened.sources if src.elsewhere is not None}
    caveats += _missing_shard_caveats(meta, far)
    refused = refused_messages(events, t0_ns)
    if caveat := refusal_caveat(refused):
        caveats.append(caveat)
    if shortfalls:
        caveats.append(
            f"{len(shortfalls)} generator worker(s) lost during the run ("
            + ", ".join(w.source for w in shortfalls)
            + "): offered load fell short until their users ran again; levels overlapping "
            "those windows are inconclusive"
        )

    status = meta.get("status")
    partial = status != "complete" or bool(damage)
    reason = meta.get("partial_reason") if status != "complete" else None
    if status == "running":
        reason = reason or "run.json still says running: the writer did not finish"
    if damage and not reason:
        reason = "; ".join(damage)

    return Measured(
        input=_input(run_dir, meta, scan, census, t0_ns, window_s, load_model),
        scale=scale,
        slos=slos,
        slo_source=slo_source,
        requirements=requirements,
        requirement_source=requirement_source,
        profile=profile,
        profile_source=profile_source,
        tolerance=tol,
        judging=rules,
        window_s=window_s,
        window_min_samples=window_min_samples,
        closed_model=load_model == "closed",
        levels=levels,
        timeseries=series.to_dict(),
        overall={
            "groups": {g: st.to_dict() for g, st in overall.items()},
            "endpoints": endpoints,
        },
        server_vs_client=server_vs_client(server_rows, int(client_sent.sum())),
        incidents=incidents,
        amplification=amplification.to_dict(incidents["breach_windows"]),
        recovery=recovery,
        reconciliation=reconciliation,
        data_quality={
            "partial": partial,
            "partial_reason": reason,
            "damage": damage,
            "precision": "exact",
            "precision_notes": [
                "latency percentiles are exact order statistics of the raw records, from the "
                "intended send time"
            ],
            "caveats": caveats,
            "shortfall_windows": [
                w.to_dict(t0_ns, short_levels.get(i, [])) for i, w in enumerate(shortfalls)
            ],
            "refused_messages": refused,
        },
        generator=_generator(scan, census, timeline, meta),
    )


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
    # Replaced through a fresh temporary file beside it: never written through a planted link.
    with replacing(path.parent, path.name, "analysis output", any_name=True) as f:
        f.write((jsontext.dumps(analysis) + "\n").encode("utf-8"))
    return path


def _level_specs(events: Sequence[dict[str, Any]]) -> list[LevelSpec]:
    """The steady-state windows the load layer recorded as ``level`` events, in file order."""
    specs: list[LevelSpec] = []
    for ev in events:
        if ev.get("type") != "level":
            continue
        start, end = ev.get("start_ns"), ev.get("end_ns")
        if not isinstance(start, int) or not isinstance(end, int) or end <= start:
            continue
        tu = ev.get("target_users")
        specs.append(
            LevelSpec(
                start,
                end,
                float(tu) if isinstance(tu, int | float) else None,
                str(ev.get("label") or f"level-{len(specs) + 1}"),
            )
        )
    return specs


def _missing_shard_caveats(meta: dict[str, Any], far: set[str]) -> list[str]:
    """One caveat per record shard a worker wrote that this directory lacks (run.json
    ``workers.missing_shards``): every figure here is short of its records. A shard analysed
    where it lies (``far``) is not short."""
    workers = meta.get("workers")
    missing = workers.get("missing_shards") if isinstance(workers, dict) else None
    out = []
    for m in missing if isinstance(missing, list) else []:
        if not isinstance(m, dict) or m.get("source") in far:
            continue
        said, got = m.get("records"), m.get("received")
        held = (
            f"{got:,} of {said:,}" if isinstance(said, int) and isinstance(got, int) else "not all"
        )
        out.append(
            f"records of {m.get('source', 'a worker')} were not gathered (this directory holds "
            f"{held} of its records): every figure is short of them; `surgeproof gather` "
            "brings them in, then analyse again"
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
    run_dir: Path,
    meta: dict[str, Any],
    scan: RecordScan,
    census: Census,
    t0_ns: int,
    window_s: float,
    model: str,
) -> dict[str, Any]:
    last_ns = census.last_end if census.last_end is not None else 0
    first_ns = census.first_intended
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
            "total": census.total,
            "per_source": dict(scan.per_source),
            "counted": census.counted,
            "missed": census.missed,
            "cancelled": census.cancelled,
        },
        "window_s": window_s,
        # A program that climbs past the ceiling on purpose (a step search) offers more load
        # than a surge would: its peak is a probe, not the run's peak load.
        "probing": _probing(meta),
    }


def _probing(meta: dict[str, Any]) -> bool:
    """Whether the run's program climbs past the ceiling on purpose (run.json's scenario)."""
    scenario = meta.get("scenario")
    kind = program_of_run(scenario) if isinstance(scenario, dict) else None
    return bool(kind is not None and kind.probes)


def _generator(
    scan: RecordScan,
    census: Census,
    timeline: list[dict[str, Any]],
    meta: dict[str, Any],
) -> dict[str, Any]:
    """The generator section's measurements (the builder adds which levels it bound)."""
    per_src: dict[str, list[float]] = {}
    for row in timeline:
        c = row.get("cpu_percent")
        if isinstance(c, int | float):
            per_src.setdefault(str(row.get("source", "local")), []).append(float(c))
    workers = meta.get("workers") if isinstance(meta.get("workers"), dict) else {}
    return {
        "late_ratio": census.late / census.sent if census.sent else None,
        "missed": census.missed,
        "cpu_max_percent": max((max(v) for v in per_src.values()), default=None),
        "sources": {
            src: {
                "cpu_max_percent": max(v),
                "cpu_mean_percent": float(np.mean(v)),
                "samples": len(v),
                "records": scan.per_source.get(src),
            }
            for src, v in sorted(per_src.items())
        },
        "lost_workers": list(workers.get("lost") or []),
    }
