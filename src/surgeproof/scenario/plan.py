"""The schedule a run follows: a scenario resolved against a profile, time scale and user scale.

Every time in a Plan is in scaled seconds since the run's t0; every user count is in simulated
users unless the name says ``real``. Per-user request rates are not time-scaled: compressing time
preserves concurrency, not the number of requests of the night.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from surgeproof.scenario.bounds import MAX_DURATION_S, MAX_SCALE, MAX_USERS, MIN_SCALE
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.model import (
    CapacityProfile,
    Requirement,
    RetryPolicy,
    Scenario,
    Slo,
    UsersExpr,
)
from surgeproof.scenario.requirements import kind_of as requirement_kind


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


@dataclass(frozen=True)
class ResolvedSearch:
    """A step search with levels in simulated users and windows in scaled seconds."""

    start_users: float
    max_users: float
    real_start_users: float
    real_max_users: float
    step_factor: float
    hold_s: float
    settle_s: float
    resolution: float
    mix: dict[str, float]
    intensity: float

    @property
    def max_levels(self) -> int:
        """Upper bound on levels: coarse steps to ``max`` plus bisection to ``resolution``."""
        coarse = 1
        if self.max_users > self.start_users:
            coarse += math.ceil(math.log(self.max_users / self.start_users, self.step_factor))
        bisect_steps = max(0, math.ceil(math.log2((self.step_factor - 1) / self.resolution)))
        return coarse + bisect_steps

    @property
    def max_duration_s(self) -> float:
        """Longest the search can take (scaled seconds)."""
        return self.max_levels * (self.settle_s + self.hold_s)


@dataclass(frozen=True)
class ResolvedRequirement:
    """A requirement with the figures it names looked up (its kind says how it reads)."""

    requirement: Requirement
    text: str
    #: The first figure it names, in real and simulated users (None: it names none).
    real_users: float | None
    users: float | None
    unit: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Plan:
    """What a run offers, second by second: the contract between scenario and load layer."""

    scenario: Scenario
    profile: CapacityProfile | None
    time_scale: float
    user_scale: float
    phases: tuple[ResolvedPhase, ...]
    duration_s: float  # timeline length; for a step search, its upper bound
    search: ResolvedSearch | None = None
    requirements: tuple[ResolvedRequirement, ...] = ()
    #: Statements every extrapolated number depends on (scale, units), for reports.
    assumptions: tuple[str, ...] = ()
    _starts: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", tuple(p.start_s for p in self.phases))

    @property
    def slos(self) -> tuple[Slo, ...]:
        return self.scenario.slos

    @property
    def behaviours(self) -> frozenset[str]:
        """Every behaviour some phase (or the search) gives a share of users."""
        mixes = [p.mix for p in self.phases] + ([self.search.mix] if self.search else [])
        return frozenset(b for m in mixes for b, share in m.items() if share > 0)

    @property
    def peak_users(self) -> float:
        """The most simulated users the plan offers at once (a search's maximum included)."""
        return max([p.users for p in self.phases] + [self.search.max_users if self.search else 0])

    def phase_at(self, t_s: float) -> ResolvedPhase | None:
        """The phase running at ``t_s``; the first one before 0, None at or after the end."""
        if not self.phases or t_s >= self.duration_s:
            return None
        i = bisect.bisect_right(self._starts, t_s) - 1
        return self.phases[max(i, 0)]

    def target_users(self, t_s: float) -> float:
        """Offered simulated users at ``t_s``: fractional, piecewise linear; 0 outside the plan."""
        if t_s < 0:
            return 0.0
        phase = self.phase_at(t_s)
        return phase.users_at(t_s) if phase else 0.0

    def steady_windows(self) -> list[tuple[float, float, float, str]]:
        """(start_s, end_s, users, label) of the hold part of every steady phase."""
        return [
            (p.ramp_end_s, p.end_s, p.users, p.name)
            for p in self.phases
            if p.steady and p.end_s > p.ramp_end_s
        ]

    def real_users(self, simulated: float) -> float:
        """Real users that ``simulated`` users stand for."""
        return simulated / self.user_scale

    def clock_time(self, t_s: float) -> datetime | None:
        """Wall-clock time of the original night that scaled ``t_s`` stands for, if known."""
        if self.scenario.clock_start is None:
            return None
        start = datetime.fromisoformat(self.scenario.clock_start)
        return start + timedelta(seconds=t_s / self.time_scale)

    def to_dict(self) -> dict:
        """JSON-able form; goes into run.json's ``scenario``."""
        sc = self.scenario
        return {
            "name": sc.name,
            "description": sc.description,
            "source_path": sc.source_path,
            "model": sc.model,
            "clock_start": sc.clock_start,
            "time_scale": self.time_scale,
            "user_scale": self.user_scale,
            "duration_s": self.duration_s,
            "profile": _profile_dict(self.profile),
            "phases": [_phase_dict(p) for p in self.phases],
            "search": None if self.search is None else _search_dict(self.search),
            "steady_windows": [
                {"start_s": a, "end_s": b, "users": u, "label": label}
                for a, b, u, label in self.steady_windows()
            ],
            "slos": [
                {"group": s.group, "metric": s.metric, "limit": s.limit}
                | ({"options": dict(s.options)} if s.options else {})
                for s in sc.slos
            ],
            "requirements": [
                {
                    **requirement_kind(r.requirement).settings(r.requirement),
                    "real_users": r.real_users,
                    "users": r.users,
                    "unit": r.unit,
                }
                for r in self.requirements
            ],
            "assumptions": list(self.assumptions),
        }


def resolve(
    scenario: Scenario,
    profile: CapacityProfile | None = None,
    time_scale: float = 1.0,
    user_scale: float = 1.0,
) -> Plan:
    """The Plan for ``scenario``; profile None means the scenario's own ``profile:``."""
    source = scenario.source_path or scenario.name
    for name, factor in (("time_scale", time_scale), ("user_scale", user_scale)):
        if not MIN_SCALE <= factor <= MAX_SCALE:  # NaN fails too
            expected = f"expected a factor from {MIN_SCALE:g} to {MAX_SCALE:g}"
            raise ScenarioError(source, name, f"{expected}, got {factor:g}")
    if profile is None and scenario.profile is not None:
        from surgeproof.scenario.catalog import profile_of

        profile = profile_of(scenario)

    def real(expr: UsersExpr, where: str) -> float:
        value = _real(expr, where)
        if value > MAX_USERS:
            raise ScenarioError(
                source, where, f"{expr} is {value:,.0f} users, more than {MAX_USERS:,.0f}"
            )
        return value

    def _real(expr: UsersExpr, where: str) -> float:
        if expr.figure is None:
            return expr.value
        if profile is None:
            raise ScenarioError(
                source, where, f"uses figure {expr.figure!r} but no capacity profile is given"
            )
        if expr.figure not in profile.figures:
            known = ", ".join(profile.figures)
            raise ScenarioError(
                source,
                where,
                f"expected a figure of profile {profile.name} ({known}), got {expr.figure!r}",
            )
        return profile.figures[expr.figure].value * expr.value

    phases: list[ResolvedPhase] = []
    t = 0.0
    prev_real = 0.0
    for i, p in enumerate(scenario.phases):
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

    search = None
    if scenario.search is not None:
        s = scenario.search
        start_real = real(s.start, "search.start")
        max_real = real(s.max_users, "search.max")
        if max_real < start_real:
            raise ScenarioError(
                source,
                "search.max",
                f"expected a level >= start ({start_real:,.0f}), got {max_real:,.0f}",
            )
        search = ResolvedSearch(
            start_users=start_real * user_scale,
            max_users=max_real * user_scale,
            real_start_users=start_real,
            real_max_users=max_real,
            step_factor=s.step_factor,
            hold_s=s.hold_s * time_scale,
            settle_s=s.settle_s * time_scale,
            resolution=s.resolution,
            mix=dict(s.mix),
            intensity=s.intensity,
        )

    requirements = []
    for i, r in enumerate(scenario.requirements):
        kind = requirement_kind(r)
        exprs = kind.figures_used(r)
        values = tuple(real(expr, f"requirements[{i}]") for expr in exprs)
        unit = "concurrent users"
        if profile is not None and exprs and exprs[0].figure is not None:
            unit = profile.figures[exprs[0].figure].unit
        first = values[0] if values else None
        requirements.append(
            ResolvedRequirement(
                r,
                kind.plan_text(r, values, unit),
                first,
                None if first is None else first * user_scale,
                unit,
            )
        )

    duration_s = t if search is None else search.max_duration_s
    if not duration_s <= MAX_DURATION_S:
        where = "timeline" if search is None else "search"
        raise ScenarioError(
            source,
            where,
            f"lasts {duration_s:,.0f} s at time scale {time_scale:g}, longer than the "
            f"{MAX_DURATION_S:,.0f} s (7 days) a run may last",
        )
    return Plan(
        scenario=scenario,
        profile=profile,
        time_scale=time_scale,
        user_scale=user_scale,
        phases=tuple(phases),
        duration_s=duration_s,
        search=search,
        requirements=tuple(requirements),
        assumptions=_assumptions(profile, time_scale, user_scale),
    )


def _assumptions(
    profile: CapacityProfile | None, time_scale: float, user_scale: float
) -> tuple[str, ...]:
    out = []
    unit = "users"
    if profile is not None:
        odd = [f.unit for f in profile.figures.values() if f.unit != "concurrent users"]
        if odd and odd[0].startswith("concurrent "):
            unit = odd[0].removeprefix("concurrent ")
    if user_scale != 1.0:
        out.append(
            f"1 simulated user stands for {1 / user_scale:g} real {unit}"
            + (" with the same behaviour" if unit == "users" else "")
        )
    if time_scale != 1.0:
        out.append(
            f"time compressed {1 / time_scale:g}x: durations shortened, per-user request rates "
            "unchanged (concurrency is preserved, total requests are not)"
        )
    if profile is not None:
        for fig in profile.figures.values():
            if fig.unit != "concurrent users":
                out.append(
                    f"profile {profile.name} states {fig.key} in {fig.unit}; a simulated user is "
                    f"taken to stand for one of these {fig.unit.split()[-1]}"
                )
                break
    return tuple(out)


def _profile_dict(profile: CapacityProfile | None) -> dict | None:
    if profile is None:
        return None
    return {
        "name": profile.name,
        "exchange": profile.exchange,
        "dialect": profile.dialect,
        "figures": {
            k: {"value": f.value, "unit": f.unit, "label": f.label, "source": f.source}
            for k, f in profile.figures.items()
        },
    }


def _phase_dict(p: ResolvedPhase) -> dict:
    return {
        "index": p.index,
        "name": p.name,
        "start_s": p.start_s,
        "ramp_end_s": p.ramp_end_s,
        "end_s": p.end_s,
        "from_users": p.from_users,
        "users": p.users,
        "real_users": p.real_users,
        "mix": p.mix,
        "intensity": p.intensity,
        "sell_bias": p.sell_bias,
        "retry": None
        if p.retry is None
        else {
            "max_attempts": p.retry.max_attempts,
            "backoff_s": p.retry.backoff_s,
            "backoff_factor": p.retry.backoff_factor,
        },
        "request_rate": p.request_rate,
        "steady": p.steady,
        "reconnect": p.reconnect,
    }


def _search_dict(s: ResolvedSearch) -> dict:
    return {
        "start_users": s.start_users,
        "max_users": s.max_users,
        "real_start_users": s.real_start_users,
        "real_max_users": s.real_max_users,
        "step_factor": s.step_factor,
        "hold_s": s.hold_s,
        "settle_s": s.settle_s,
        "resolution": s.resolution,
        "mix": s.mix,
        "intensity": s.intensity,
        "max_levels": s.max_levels,
        "max_duration_s": s.max_duration_s,
    }
