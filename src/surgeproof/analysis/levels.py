"""Judging steady-state windows (levels): pass, fail, or inconclusive — and why. The entry
points; the records are in ``level_verdict.py``, the passes that measure levels in
``level_passes.py`` and the rule that decides one in ``level_rule.py``.

The step-to-break search calls :func:`judge_level` between levels on a run that is still being
written; the full analysis judges every ``level`` event the same way with :func:`judge_samples`.
Both apply the shortfall rule (:mod:`surgeproof.analysis.shortfall`): a level during which a
generator worker was lost did not offer the load it says and is inconclusive.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from surgeproof.analysis.generator import GeneratorTolerance
from surgeproof.analysis.groupstats import AnsweredSeconds
from surgeproof.analysis.judging import Judging
from surgeproof.analysis.keyed import drop_spares
from surgeproof.analysis.level_passes import TimelineRows, first_breach_seconds, measure_levels
from surgeproof.analysis.level_rule import decide, too_short_reason
from surgeproof.analysis.level_verdict import LevelMeasure, LevelSpec, LevelVerdict, Verdict
from surgeproof.analysis.samples import Samples
from surgeproof.analysis.saturation import settle
from surgeproof.analysis.scan import RecordScan
from surgeproof.analysis.seconds import answered_seconds, second_bounds
from surgeproof.analysis.shortfall import apply_shortfalls, shortfall_windows
from surgeproof.analysis.slo import DEFAULT_SLOS, evaluate
from surgeproof.rundir.reader import (
    BLOCK_RECORDS,
    JsonlIndex,
    RecordSources,
    open_record_sources,
    read_events,
    read_meta,
)
from surgeproof.rundir.schema import FLAG_CLOSED_MODEL, TIMELINE
from surgeproof.scenario.model import Slo

__all__ = [
    "LevelMeasure",
    "LevelSpec",
    "LevelVerdict",
    "RunIndex",
    "Verdict",
    "decide",
    "judge_level",
    "judge_levels",
    "judge_samples",
    "too_short_reason",
]


def judge_level(
    run_dir: str | Path,
    start_ns: int,
    end_ns: int,
    slos: Sequence[Slo],
    *,
    target_users: float | None = None,
    label: str | None = None,
    tolerance: GeneratorTolerance | None = None,
    judging: Judging | None = None,
    earlier: Sequence[LevelVerdict] = (),
    index: RunIndex | None = None,
) -> LevelVerdict:
    """Judge the steady-state window ``[start_ns, end_ns)`` of a (possibly running) run.

    By the same rules as the full analysis (:func:`surgeproof.analysis.saturation.settle`):
    ``earlier`` = the levels judged before in this run (the saturation rule compares with the
    lowest-load level and the highest throughput among them and this one). A window overlapping
    a lost worker's shortfall (run.json ``workers.lost``, else the ``worker_lost``/``rebalanced``
    events a running run appends) is inconclusive, naming it.

    Only the records that can fall in the window are read (the reader's block index), so a
    level costs its own records, not the run's. ``index``, kept by the caller between levels
    (the step search's judge), indexes only what was appended since the last call.
    """
    run_dir = Path(run_dir)
    index = index if index is not None else RunIndex()
    meta = read_meta(run_dir)
    events, _ = read_events(run_dir)
    shortfalls = shortfall_windows(meta, events)
    # Only a run still being written can lack the window's data; a finished one has all it has.
    running = meta.get("status") == "running"
    spec = LevelSpec(int(start_ns), int(end_ns), target_users, label)
    opened = index.records(run_dir)
    timeline = index.timeline(run_dir, spec.start_ns, spec.end_ns)
    scan = RecordScan.of_sources(opened).restricted((spec.start_ns, spec.end_ns))
    judging = judging or Judging()
    try:
        [verdict] = judge_levels(
            scan,
            [spec],
            timeline,
            slos,
            tolerance=tolerance,
            judging=judging,
            check_fresh=running,
            lost_sources={w.source for w in shortfalls},
        )
    finally:
        drop_spares()  # a search judges now and then: nothing kept between its levels
    apply_shortfalls([verdict], shortfalls, _t0_of(meta, events, int(start_ns)))
    closed = meta.get("load_model") == "closed" or bool(opened.any_flags() & FLAG_CLOSED_MODEL)
    settle([verdict], judging, closed_model=closed, earlier=earlier)
    return verdict


class RunIndex:
    """What a live judge keeps between levels of a run being written: the records' block
    index and the timeline's line index, each extended by what was appended since."""

    def __init__(self, block: int = BLOCK_RECORDS) -> None:
        self.block = block
        self.sources: RecordSources | None = None
        self.lines = JsonlIndex(TIMELINE)

    def records(self, run_dir: Path) -> RecordSources:
        """Every source, open, its blocks indexed (only new blocks are read)."""
        self.sources = open_record_sources(run_dir, previous=self.sources, block=self.block)
        return self.sources

    def timeline(self, run_dir: Path, start_ns: int, end_ns: int) -> list[dict[str, Any]]:
        """The timeline rows a window's judgement reads: those inside it, and each source's
        latest (whether its data have been flushed), in file order."""
        return self.lines.rows(run_dir, start_ns, end_ns)


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
    judging: Judging | None = None,
    ended: tuple[int, int] | None = None,
    check_fresh: bool = False,
) -> LevelVerdict:
    """Judge records already selected for ``[start_ns, end_ns)`` (``window``), before the
    cross-level saturation rule (see :func:`judge_levels`).

    ``ended`` = (answers, ok answers) whose end falls in the window, when known from the whole
    run; otherwise counted from ``window`` alone.
    """
    spec = LevelSpec(int(start_ns), int(end_ns), target_users, label)
    return judge_levels(
        RecordScan.of(window),
        [spec],
        timeline,
        slos,
        tolerance=tolerance,
        judging=judging,
        check_fresh=check_fresh,
        ended=[ended] if ended is not None else None,
    )[0]


def judge_levels(
    records: Samples | RecordScan,
    specs: Sequence[LevelSpec],
    timeline: Sequence[dict[str, Any]],
    slos: Sequence[Slo],
    *,
    tolerance: GeneratorTolerance | None = None,
    judging: Judging | None = None,
    check_fresh: bool = False,
    ended: Sequence[tuple[int, int]] | None = None,
    lost_sources: Collection[str] = (),
) -> list[LevelVerdict]:
    """Measure and judge every window of ``specs`` in a few chunked passes over ``records``.

    Each level is judged on its own here (minimums, generator, SLOs); the saturation rule, which
    compares levels with one another, is applied afterwards by ``saturation.settle``. Achieved
    throughput counts answers *ending* in a window, whenever they were intended.
    ``lost_sources`` (lost workers, judged by the shortfall rule) are not waited for by
    ``check_fresh``: their timeline ended with them.
    """
    scan = records if isinstance(records, RecordScan) else RecordScan.of(records)
    tol = tolerance or GeneratorTolerance()
    judging = judging or Judging()
    slos = tuple(slos) or DEFAULT_SLOS
    census = scan.census(tol.late_ms)
    out: list[LevelVerdict | None] = [None] * len(specs)
    bounds = second_bounds(slos)
    rows = TimelineRows(timeline)
    for layer in _layers(specs):
        own = {i: rows.within(specs[i].start_ns, specs[i].end_ns) for i in layer}
        measured = measure_levels(
            scan, census, [specs[i] for i in layer], [own[i] for i in layer], tol
        )
        if bounds:
            windows = [(specs[i].start_ns, specs[i].end_ns) for i in layer]
            for m, seconds in zip(measured, answered_seconds(scan, windows, bounds), strict=True):
                for g, st in m.groups.items():
                    st.seconds = seconds.get(g, AnsweredSeconds(0, dict.fromkeys(bounds, 0)))
        for i, m in zip(layer, measured, strict=True):
            if ended is not None:
                m.answered, m.ok = ended[i]
            m.breaches, m.unjudged = evaluate(slos, m.groups, judging)
        failing = [(i, m) for i, m in zip(layer, measured, strict=True) if m.breaches]
        if failing:
            first_breach_seconds(scan, census, [specs[i] for i, _ in failing], failing)
        for i, m in zip(layer, measured, strict=True):
            out[i] = decide(
                specs[i],
                m,
                slos,
                judging,
                # Whether data are flushed needs every source's latest row; the rest, the
                # window's own rows (a level reads its rows, not the run's).
                timeline=timeline if check_fresh else own[i],
                check_fresh=check_fresh,
                lost_sources=lost_sources,
            )
    return [v for v in out if v is not None]


def _layers(specs: Sequence[LevelSpec]) -> list[list[int]]:
    """Indices of ``specs`` in sets of non-overlapping windows (usually one set), by start."""
    layers: list[list[int]] = []
    last_end: list[int] = []
    for i in sorted(range(len(specs)), key=lambda i: specs[i].start_ns):
        for j, end in enumerate(last_end):
            if specs[i].start_ns >= end:
                layers[j].append(i)
                last_end[j] = specs[i].end_ns
                break
        else:
            layers.append([i])
            last_end.append(specs[i].end_ns)
    return layers


def _t0_of(meta: dict[str, Any], events: Sequence[dict[str, Any]], fallback: int) -> int:
    """The run's time zero (run.json ``t0_ns``, else its ``run_start`` event) for reasons' t=."""
    t0 = meta.get("t0_ns")
    if isinstance(t0, int) and not isinstance(t0, bool) and t0 > 0:
        return t0
    start = next((e.get("t_ns") for e in events if e.get("type") == "run_start"), None)
    return start if isinstance(start, int) and not isinstance(start, bool) else fallback
