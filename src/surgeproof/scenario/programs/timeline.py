"""The timeline program (``timeline:``): phases played in order, each moving to its users over a
ramp (or at an arrival rate) and holding them; the hold of a steady phase is a judged window.

Its config and validation, its resolution at a run's scales (times scaled, users simulated, what
each phase asks of the generator fleet) and its runtime (users and phase at every instant, the
phase starts and completed steady windows as events) are all here.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from surgeproof.scenario.bounds import MAX_ATTEMPTS, MAX_BACKOFF_FACTOR, MAX_FACTOR
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.expressions import mix_text, parse_delay, parse_mix, parse_users
from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import RetryPolicy, UsersExpr
from surgeproof.scenario.programs.program import (
    Judge,
    LoadState,
    ProgramKind,
    RealUsers,
    Stretch,
)
from surgeproof.scenario.units import format_duration

if TYPE_CHECKING:
    from surgeproof.scenario.plan import Plan

PHASE_KEYS = (
    "phase", "duration", "users", "ramp", "arrival_rate", "mix", "intensity", "request_rate",
    "sell_bias", "retry", "steady", "reconnect", "note",
)  # fmt: skip
RETRY_KEYS = ("max_attempts", "backoff", "backoff_factor")

#: How far ahead the shape looks: users for [t, t+1) are spawned at t and spread over the second.
LOOKAHEAD_S = 1.0


@dataclass(frozen=True)
class SurgePhase:
    """One stretch of the timeline: move to ``users`` over ``ramp_s``, then hold until its end."""

    name: str
    duration_s: float
    users: UsersExpr
    ramp_s: float = 0.0
    mix: dict[str, float] = field(default_factory=lambda: {"market_watcher": 1.0})
    #: Multiplier on every user's own request rate (panic > 1).
    intensity: float = 1.0
    #: Optional whole-run request-rate target (req/s, real scale) for this phase.
    request_rate: float | None = None
    #: Share of sell orders among order submissions in this phase (0.5 = balanced).
    sell_bias: float = 0.5
    retry: RetryPolicy | None = None
    #: Whether the hold part (after the ramp) is a steady-state window for the ceiling.
    steady: bool = True
    #: Every market watcher drops its websocket at phase start and reconnects/resubscribes.
    reconnect: bool = False
    #: Arrival (or departure) rate in real users per second; when set, the ramp lasts as long as
    #: reaching ``users`` at this rate takes (``ramp_s`` is then 0 and ignored).
    arrival_rate: float | None = None


@dataclass(frozen=True)
class Timeline:
    """A scenario's timeline: its phases, in order."""

    kind: ClassVar[str] = "timeline"
    phases: tuple[SurgePhase, ...]

    @property
    def duration_s(self) -> float:
        """Length in (unscaled) seconds."""
        return sum(p.duration_s for p in self.phases)

    def mixes(self) -> list[Mapping[str, float]]:
        return [p.mix for p in self.phases]


@dataclass(frozen=True)
class ResolvedPhase:
    """One phase with absolute times (scaled s) and users (simulated): ramp, then hold."""

    index: int
    name: str
    start_s: float
    ramp_end_s: float
    end_s: float
    from_users: float  # simulated users at phase start (the previous phase's target)
    users: float  # simulated users reached at ramp_end_s and held until end_s
    real_users: float
    mix: dict[str, float]
    intensity: float
    sell_bias: float
    retry: RetryPolicy | None
    request_rate: float | None  # whole-run req/s target, simulated (real × user_scale)
    steady: bool
    reconnect: bool = False

    def users_at(self, t_s: float) -> float:
        """Target simulated users at ``t_s`` (which should lie inside this phase)."""
        if t_s >= self.ramp_end_s or self.ramp_end_s <= self.start_s:
            return self.users
        frac = max(0.0, (t_s - self.start_s) / (self.ramp_end_s - self.start_s))
        return self.from_users + (self.users - self.from_users) * frac

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "start_s": self.start_s,
            "ramp_end_s": self.ramp_end_s,
            "end_s": self.end_s,
            "from_users": self.from_users,
            "users": self.users,
            "real_users": self.real_users,
            "mix": self.mix,
            "intensity": self.intensity,
            "sell_bias": self.sell_bias,
            "retry": None
            if self.retry is None
            else {
                "max_attempts": self.retry.max_attempts,
                "backoff_s": self.retry.backoff_s,
                "backoff_factor": self.retry.backoff_factor,
            },
            "request_rate": self.request_rate,
            "steady": self.steady,
            "reconnect": self.reconnect,
        }


@dataclass(frozen=True)
class ResolvedTimeline:
    """The timeline at a run's scales."""

    kind: ClassVar[str] = "timeline"
    phases: tuple[ResolvedPhase, ...]
    _starts: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", tuple(p.start_s for p in self.phases))

    @property
    def duration_s(self) -> float:
        return self.phases[-1].end_s if self.phases else 0.0

    @property
    def peak_users(self) -> float:
        return max((p.users for p in self.phases), default=0.0)

    def phase_at(self, t_s: float) -> ResolvedPhase | None:
        """The phase running at ``t_s``; the first one before 0, None at or after the end."""
        if not self.phases or t_s >= self.duration_s:
            return None
        i = bisect.bisect_right(self._starts, t_s) - 1
        return self.phases[max(i, 0)]

    def target_users(self, t_s: float) -> float:
        """Offered simulated users at ``t_s``: fractional, piecewise linear; 0 outside it."""
        if t_s < 0:
            return 0.0
        phase = self.phase_at(t_s)
        return phase.users_at(t_s) if phase else 0.0

    def mixes(self) -> list[Mapping[str, float]]:
        return [p.mix for p in self.phases]

    def steady_windows(self) -> list[tuple[float, float, float, str]]:
        """(start_s, end_s, users, label) of the hold part of every steady phase."""
        return [
            (p.ramp_end_s, p.end_s, p.users, p.name)
            for p in self.phases
            if p.steady and p.end_s > p.ramp_end_s
        ]

    def judged_window_lengths(self) -> list[float]:
        return [end - start for start, end, _users, _label in self.steady_windows()]

    def stretches(self) -> list[Stretch]:
        out = []
        for p in self.phases:
            ramp_s = p.ramp_end_s - p.start_s
            hold_s = max(0.0, p.end_s - p.ramp_end_s)
            out.append(
                Stretch(
                    index=p.index,
                    name=p.name,
                    users=p.users,
                    from_users=p.from_users,
                    mix=p.mix,
                    intensity=p.intensity,
                    ramp_s=ramp_s,
                    duration_s=p.end_s - p.start_s,
                    retry=p.retry,
                    reconnect=p.reconnect,
                    user_seconds=(p.from_users + p.users) / 2 * ramp_s + p.users * hold_s,
                )
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "phases": [p.to_dict() for p in self.phases],
            "steady_windows": [
                {"start_s": a, "end_s": b, "users": u, "label": label}
                for a, b, u, label in self.steady_windows()
            ],
        }

    def summary_line(self) -> str:
        return f"{len(self.phases)} phases, {format_duration(self.duration_s)}"

    def describe(self, plan: Plan) -> list[str]:
        rows = [("phase", "start", "end", "clock", "users", "real users", "mix")]
        for p in self.phases:
            clock = plan.clock_time(p.start_s)
            rows.append(
                (
                    p.name + (" (reconnect)" if p.reconnect else ""),
                    format_duration(round(p.start_s, 3)),
                    format_duration(round(p.end_s, 3)),
                    clock.strftime("%H:%M") if clock else "-",
                    f"{p.users:,.2f}".rstrip("0").rstrip("."),
                    f"{p.real_users:,.0f}",
                    mix_text(p.mix),
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
        return [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1]
            for r in rows
        ]

    def runtime(self, judge: Judge, judge_delay_s: float, closed_model: bool) -> TimelineProgram:
        return TimelineProgram(self, closed_model=closed_model)


@dataclass
class TimelineProgram:
    """A timeline played: target users and phase at every instant (no level is judged live)."""

    timeline: ResolvedTimeline
    closed_model: bool = False
    overrun_s: float = 30.0
    summary_key: str | None = None
    _emitted_phases: set[int] = field(default_factory=set)
    _emitted_levels: set[int] = field(default_factory=set)

    @property
    def end_s(self) -> float:
        return self.timeline.duration_s

    def users_for_tick(self, t_s: float) -> int | None:
        if t_s >= self.end_s:
            return None
        return round(self.timeline.target_users(min(t_s + LOOKAHEAD_S, self.end_s - 1e-6)))

    def state_at(self, t_s: float) -> LoadState:
        phases = self.timeline.phases
        phase = self.timeline.phase_at(max(t_s, 0.0)) or phases[-1]
        epoch = sum(1 for p in phases if p.reconnect and p.start_s <= t_s)
        return LoadState(
            target_users=self.timeline.target_users(t_s),
            phase_index=phase.index,
            phase_name=phase.name,
            mix=dict(phase.mix),
            intensity=phase.intensity,
            sell_bias=phase.sell_bias,
            retry=phase.retry,
            reconnect_epoch=epoch,
            closed_model=self.closed_model,
        )

    def advance(self, t_s: float, t0_ns: int) -> None:
        """Nothing to decide: a timeline is fixed before the run."""

    def events_until(self, t_s: float, t0_ns: int) -> list[dict[str, Any]]:
        """Phase starts and completed steady windows up to ``t_s`` not reported yet."""
        out: list[dict[str, Any]] = []
        for p in self.timeline.phases:
            if p.start_s <= t_s and p.index not in self._emitted_phases:
                self._emitted_phases.add(p.index)
                out.append(
                    {
                        "t_ns": t0_ns + int(p.start_s * 1e9),
                        "type": "phase",
                        "name": p.name,
                        "index": p.index,
                        "target_users": p.from_users,
                        "mix": p.mix,
                    }
                )
            if (
                p.steady
                and p.end_s > p.ramp_end_s
                and p.end_s <= t_s
                and p.index not in self._emitted_levels
            ):
                self._emitted_levels.add(p.index)
                out.append(
                    {
                        "t_ns": t0_ns + round(p.end_s * 1e9),
                        "type": "level",
                        "start_ns": t0_ns + round(p.ramp_end_s * 1e9),
                        "end_ns": t0_ns + round(p.end_s * 1e9),
                        "target_users": p.users,
                        "label": p.name,
                    }
                )
        return out

    def summary(self) -> dict[str, Any] | None:
        return None


class TimelineKind(ProgramKind):
    name = "timeline"
    key = "timeline"
    plan_key = "phases"
    order = 0

    def parse(self, f: Field) -> Timeline:
        entries = f.items()
        if not entries:
            raise f.expected("at least one phase")
        phases = tuple(_phase(e) for e in entries)
        seen: set[str] = set()
        for e, phase in zip(entries, phases, strict=True):
            if phase.name in seen:
                raise e.child("phase").error(f"phase name {phase.name!r} used twice")
            seen.add(phase.name)
        return Timeline(phases)

    def figures(self, config: Timeline, f: Field) -> list[tuple[UsersExpr, Field]]:
        return [
            (phase.users, e.child("users"))
            for phase, e in zip(config.phases, f.items(), strict=True)
        ]

    def resolve(
        self,
        config: Timeline,
        real: RealUsers,
        source: str,
        time_scale: float,
        user_scale: float,
    ) -> ResolvedTimeline:
        phases: list[ResolvedPhase] = []
        t = 0.0
        prev_real = 0.0
        for i, p in enumerate(config.phases):
            target_real = real(p.users, f"timeline[{i}].users")
            ramp_real = p.ramp_s
            if p.arrival_rate is not None:
                ramp_real = abs(target_real - prev_real) / p.arrival_rate
                if ramp_real > p.duration_s + 1e-9:
                    raise ScenarioError(
                        source,
                        f"timeline[{i}].arrival_rate",
                        f"at {p.arrival_rate:g} users/s, going from {prev_real:,.0f} to "
                        f"{target_real:,.0f} users takes {ramp_real:,.0f}s, longer than the "
                        f"phase's {p.duration_s:g}s",
                    )
            start = t
            end = t + p.duration_s * time_scale
            phases.append(
                ResolvedPhase(
                    index=i,
                    name=p.name,
                    start_s=start,
                    ramp_end_s=start + ramp_real * time_scale,
                    end_s=end,
                    from_users=prev_real * user_scale,
                    users=target_real * user_scale,
                    real_users=target_real,
                    mix=dict(p.mix),
                    intensity=p.intensity,
                    sell_bias=p.sell_bias,
                    retry=p.retry,
                    request_rate=None if p.request_rate is None else p.request_rate * user_scale,
                    steady=p.steady,
                    reconnect=p.reconnect,
                )
            )
            t = end
            prev_real = target_real
        return ResolvedTimeline(tuple(phases))


def _phase(f: Field) -> SurgePhase:
    p = f.fields(PHASE_KEYS, required=("phase", "duration", "users"))
    name = p["phase"].text()
    duration = p["duration"].duration()
    if "ramp" in p and "arrival_rate" in p:
        raise f.error("give either 'ramp' or 'arrival_rate', not both")
    ramp = p["ramp"].duration(positive=False) if "ramp" in p else 0.0
    if ramp < 0:
        raise p["ramp"].expected("a duration >= 0")
    if ramp > duration:
        raise p["ramp"].error(f"ramp is longer than the phase's duration ({p['duration'].value})")
    intensity = (
        p["intensity"].number(positive=True, maximum=MAX_FACTOR) if "intensity" in p else 1.0
    )
    sell_bias = p["sell_bias"].number(minimum=0.0) if "sell_bias" in p else 0.5
    if sell_bias > 1:
        raise p["sell_bias"].expected("a share between 0 and 1")
    return SurgePhase(
        name=name,
        duration_s=duration,
        users=parse_users(p["users"]),
        ramp_s=ramp,
        mix=parse_mix(p["mix"]) if "mix" in p else {"market_watcher": 1.0},
        intensity=intensity,
        request_rate=p["request_rate"].rate() if "request_rate" in p else None,
        sell_bias=sell_bias,
        retry=_retry(p["retry"]) if "retry" in p else None,
        steady=p["steady"].boolean() if "steady" in p else True,
        reconnect=p["reconnect"].boolean() if "reconnect" in p else False,
        arrival_rate=p["arrival_rate"].rate() if "arrival_rate" in p else None,
    )


def _retry(f: Field) -> RetryPolicy:
    if f.value is False:
        return RetryPolicy(max_attempts=1)
    r = f.fields(RETRY_KEYS)
    return RetryPolicy(
        max_attempts=(
            r["max_attempts"].integer(minimum=1, maximum=MAX_ATTEMPTS) if "max_attempts" in r else 3
        ),
        backoff_s=parse_delay(r["backoff"]) if "backoff" in r else 0.0,
        backoff_factor=(
            r["backoff_factor"].number(minimum=1.0, maximum=MAX_BACKOFF_FACTOR)
            if "backoff_factor" in r
            else 2.0
        ),
    )


KIND = TimelineKind()
