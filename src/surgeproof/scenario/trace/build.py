"""A Trace turned into scenario YAML whose phases follow the curve, and how far they depart."""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass, field
from datetime import timedelta, timezone

from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.parse import parse_scenario
from surgeproof.scenario.plan import Plan, resolve
from surgeproof.scenario.trace.series import KST, Trace, both_zones
from surgeproof.scenario.trace.shape import KINDS, PhaseKind, classify
from surgeproof.scenario.trace.simplify import mandatory_knots, simplify
from surgeproof.scenario.trace.target import Target
from surgeproof.scenario.units import format_duration
from surgeproof.scenario.yamlfile import parse_yaml

#: SLOs a trace scenario is judged by unless edited: the martial-law scenario's.
DEFAULT_SLOS = (
    "{group: login, p99: 800ms}",
    "{group: orders, p99: 500ms}",
    "{group: quotation, p95: 200ms}",
    "{group: websocket, p99: 1s}",
    '{group: "*", error_ratio: 1%}',
)


@dataclass(frozen=True)
class Options:
    """How to turn a trace into phases."""

    name: str
    baseline_to: Target
    peak_to: Target
    baseline_window_s: float = 1800.0  # baseline = median of the trace's first 30 minutes
    tolerance: float = 0.10  # of the baseline→peak range, in users
    max_phases: int = 40
    warmup_s: float = 120.0  # ramp from 0 to the trace's first level before its time zero
    clock_tz: timezone = KST
    kinds: dict[str, PhaseKind] = field(default_factory=lambda: dict(KINDS))
    description: str | None = None
    command: str | None = None


@dataclass(frozen=True)
class TraceScenario:
    """The generated YAML, the plan it resolves to, and what to tell the user."""

    yaml_text: str
    plan: Plan
    planned: tuple[float, ...]  # planned real users per trace interval, at each interval start
    expected: tuple[float, ...]  # the trace mapped to real users
    max_departure: float  # largest |planned - expected|, real users
    rms_departure: float
    summary: tuple[str, ...]


def build_scenario(trace: Trace, options: Options) -> TraceScenario:
    """Phases that follow ``trace``, scaled from its baseline and peak to the two targets."""
    values = list(trace.values)
    n = len(values)
    window = max(1, min(n, int(options.baseline_window_s // trace.interval_s)))
    base_v = statistics.median(values[:window])
    peak_i = max(range(n), key=lambda i: values[i])
    peak_v = values[peak_i]
    if peak_v <= base_v:
        raise ScenarioError(
            trace.source,
            "",
            f"no surge: the peak ({peak_v:g}) is not above the baseline "
            f"({base_v:g}, median of the first {format_duration(window * trace.interval_s)})",
        )
    lo, hi = options.baseline_to.real_users, options.peak_to.real_users
    if hi <= lo:
        raise ScenarioError("--peak-to", "", f"expected more users than --baseline-to ({lo:,.0f})")
    profile = _profile_name(options.baseline_to, options.peak_to)
    scale = (hi - lo) / (peak_v - base_v)
    users = [max(0.0, lo + (v - base_v) * scale) for v in values]

    knots = simplify(values, options.tolerance * (peak_v - base_v), options.max_phases)
    phases = _phases(trace, users, knots, mandatory_knots(values), lo, hi, options)
    text = _yaml(trace, options, profile, phases, base_v, peak_v, window)
    scenario = parse_scenario(parse_yaml(text, options.name), options.name)
    plan = resolve(scenario, _profile(options), 1.0, 1.0)
    timeline = plan.program  # a trace always builds a timeline
    planned = [timeline.target_users(options.warmup_s + i * trace.interval_s) for i in range(n)]
    diffs = [p - u for p, u in zip(planned, users, strict=True)]
    worst = max(range(n), key=lambda i: abs(diffs[i]))
    rms = math.sqrt(sum(d * d for d in diffs) / n)
    header = _departure_lines(trace, users, planned, worst, rms, hi)
    text = text.replace("# DEPARTURE\n", "".join(f"#   {line}\n" for line in header))
    summary = _summary(trace, options, base_v, peak_v, peak_i, window, phases, header)
    return TraceScenario(
        yaml_text=text,
        plan=plan,
        planned=tuple(planned),
        expected=tuple(users),
        max_departure=abs(diffs[worst]),
        rms_departure=rms,
        summary=tuple(summary),
    )


@dataclass
class _Phase:
    name: str
    kind: PhaseKind
    duration_s: float
    ramp_s: float
    users: float


def _phases(
    trace: Trace,
    users: list[float],
    knots: list[int],
    keep: set[int],
    lo: float,
    hi: float,
    options: Options,
) -> list[_Phase]:
    step = trace.interval_s
    flat = options.tolerance * (hi - lo) / 2
    first = _Phase(
        "warm-up", options.kinds["baseline"], options.warmup_s, options.warmup_s, users[0]
    )
    out = [first]
    for a, b in itertools.pairwise(knots):
        level = out[-1].users
        # a nearly flat stretch extends the previous phase's hold, unless it ends on the peak or
        # the steepest rise, which must be reached exactly
        if len(out) > 1 and b not in keep and abs(users[b] - level) <= flat:
            out[-1].duration_s += (b - a) * step
            continue
        kind = options.kinds[classify(level, users[b], lo, hi, (b - a) * step / 60)]
        clock = trace.time_at(a).astimezone(options.clock_tz)
        name = f"{kind.name}-{clock:%H%M}"
        out.append(_Phase(name, kind, (b - a) * step, (b - a) * step, users[b]))
    # the last sample covers one more interval: hold it so the plan lasts as long as the trace
    out[-1].duration_s += step
    names: dict[str, int] = {}
    for p in out:
        names[p.name] = names.get(p.name, 0) + 1
        if names[p.name] > 1:
            p.name = f"{p.name}-{names[p.name]}"
    return out


def _profile_name(a: Target, b: Target) -> str | None:
    names = {t.profile for t in (a, b) if t.profile}
    if len(names) > 1:
        raise ScenarioError(
            "--baseline-to/--peak-to", "", f"expected one profile, got {', '.join(sorted(names))}"
        )
    return names.pop() if names else None


def _profile(options: Options):
    from surgeproof.scenario.catalog import load_profile

    name = _profile_name(options.baseline_to, options.peak_to)
    return load_profile(name) if name else None


def _users_expr(users: float, options: Options) -> str:
    ref = options.peak_to if options.peak_to.profile else options.baseline_to
    if ref.profile is None or ref.figure_value is None:
        return str(round(users))
    factor = users / ref.figure_value
    if abs(factor - 1) < 5e-6:
        return ref.figure or ""
    return f"{ref.figure} * {factor:.5f}".rstrip("0").rstrip(".")


def _yaml(
    trace: Trace,
    options: Options,
    profile: str | None,
    phases: list[_Phase],
    base_v: float,
    peak_v: float,
    window: int,
) -> str:
    clock_start = (trace.start - timedelta(seconds=options.warmup_s)).astimezone(options.clock_tz)
    end = trace.time_at(len(trace.values))
    desc = options.description or (
        f"Replay of the traffic curve in {trace.source} ({both_zones(trace.start)} to "
        f"{both_zones(end)}), baseline mapped to {options.baseline_to}, peak to "
        f"{options.peak_to}."
    )
    lines = [
        f"# {options.name} — generated from a traffic trace by `surgeproof scenario from-trace`.",
        "#",
        "# What it models: the curve of a real trace, not a hand-drawn guess. Each phase is one",
        "# straight stretch of the simplified curve (ramp, then hold); the peak interval and the",
        "# steepest one-interval rise are kept exactly.",
        f"# Trace: {trace.source}, {len(trace.values)} points every "
        f"{format_duration(trace.interval_s)}",
        f"#   from {both_zones(trace.start)}; time zone {trace.tz_note}",
        *(f"#   input: {note}" for note in trace.notes),
        f"# Baseline: {base_v:g} (median of the first "
        f"{format_duration(window * trace.interval_s)}) → {options.baseline_to}",
        f"# Peak: {peak_v:g} → {options.peak_to}; values map linearly in between",
        f"# Warm-up: {format_duration(options.warmup_s)} ramp before the trace's first point",
        "# Departure of the planned users from the mapped trace, per trace interval:",
        "# DEPARTURE",
    ]
    if options.command:
        lines.append(f"# Command: {options.command}")
    lines += [
        f"name: {options.name}",
        "description: >",
        *(f"  {chunk}" for chunk in _wrap(desc, 96)),
    ]
    if profile:
        lines.append(f"profile: {profile}")
    lines += [
        "model: open",
        f'clock_start: "{clock_start.isoformat()}"',
        "slos:",
        *(f"  - {slo}" for slo in DEFAULT_SLOS),
    ]
    if options.peak_to.profile:
        lines.append(f'requirements: ["{options.peak_to.figure} * 1.2"]')
    lines.append("timeline:")
    for p in phases:
        lines += [
            f"  - phase: {p.name}",
            f"    duration: {format_duration(p.duration_s)}",
            f"    users: {_users_expr(p.users, options)}",
            f"    ramp: {format_duration(p.ramp_s)}",
            "    mix: {" + ", ".join(f"{k}: {v:g}" for k, v in p.kind.mix.items()) + "}",
        ]
        if p.kind.intensity != 1:
            lines.append(f"    intensity: {p.kind.intensity:g}")
        if p.kind.sell_bias != 0.5:
            lines.append(f"    sell_bias: {p.kind.sell_bias:g}")
        if p.kind.retry:
            lines.append("    retry: {max_attempts: 3, backoff: 0s}")
        if p.duration_s <= p.ramp_s:
            lines.append("    steady: false")
    return "\n".join(lines) + "\n"


def _departure_lines(
    trace: Trace, users: list[float], planned: list[float], worst: int, rms: float, hi: float
) -> list[str]:
    n = len(users)
    peak_in = max(range(n), key=lambda i: users[i])
    peak_out = max(range(n), key=lambda i: planned[i])
    rise_in = max(range(n - 1), key=lambda i: users[i + 1] - users[i])
    rise_out = max(range(n - 1), key=lambda i: planned[i + 1] - planned[i])
    return [
        f"largest {abs(planned[worst] - users[worst]):,.0f} users "
        f"({abs(planned[worst] - users[worst]) / hi:.1%} of the peak) at "
        f"{both_zones(trace.time_at(worst))}; RMS {rms:,.0f} users ({rms / hi:.1%})",
        f"peak interval: trace {both_zones(trace.time_at(peak_in))}, "
        f"plan {both_zones(trace.time_at(peak_out))}",
        f"steepest rise: trace +{users[rise_in + 1] - users[rise_in]:,.0f} at "
        f"{both_zones(trace.time_at(rise_in + 1))}, plan "
        f"+{planned[rise_out + 1] - planned[rise_out]:,.0f} at "
        f"{both_zones(trace.time_at(rise_out + 1))}",
    ]


def _summary(
    trace: Trace,
    options: Options,
    base_v: float,
    peak_v: float,
    peak_i: int,
    window: int,
    phases: list[_Phase],
    departure: list[str],
) -> list[str]:
    end = trace.time_at(len(trace.values))
    return [
        f"trace: {trace.source}: {len(trace.values)} points every "
        f"{format_duration(trace.interval_s)}, {both_zones(trace.start)} to {both_zones(end)}",
        f"time zone: {trace.tz_note}",
        *(f"input: {note}" for note in trace.notes),
        f"baseline: {base_v:g} (median of the first "
        f"{format_duration(window * trace.interval_s)}) -> {options.baseline_to}",
        f"peak: {peak_v:g} at {both_zones(trace.time_at(peak_i))} -> {options.peak_to}",
        f"phases: {len(phases)} (warm-up included), tolerance {options.tolerance:.0%} of the "
        f"baseline-to-peak range, at most {options.max_phases} segments",
        *(f"departure: {line}" for line in departure),
    ]


def _wrap(text: str, width: int) -> list[str]:
    out, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*out, line] if line else out
