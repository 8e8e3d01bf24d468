"""The schedule a run follows: a scenario resolved against a profile, time scale and user scale.

Every time in a Plan is in scaled seconds since the run's t0; every user count is in simulated
users unless the name says ``real``. Per-user request rates are not time-scaled: compressing time
preserves concurrency, not the number of requests of the night.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from surgeproof.scenario.bounds import MAX_DURATION_S, MAX_SCALE, MAX_USERS, MIN_SCALE
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.model import CapacityProfile, Requirement, Scenario, Slo, UsersExpr
from surgeproof.scenario.programs import KEYS as PROGRAM_KEYS
from surgeproof.scenario.programs import ResolvedProgram
from surgeproof.scenario.programs import kind_of as program_kind
from surgeproof.scenario.requirements import kind_of as requirement_kind


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
    #: The scenario's program at these scales (``scenario.programs``).
    program: ResolvedProgram
    requirements: tuple[ResolvedRequirement, ...] = ()
    #: Statements every extrapolated number depends on (scale, units), for reports.
    assumptions: tuple[str, ...] = ()

    @property
    def slos(self) -> tuple[Slo, ...]:
        return self.scenario.slos

    @property
    def duration_s(self) -> float:
        """The program's length (scaled seconds); for a step search, its upper bound."""
        return self.program.duration_s

    @property
    def behaviours(self) -> frozenset[str]:
        """Every behaviour the program gives a share of users."""
        return frozenset(b for m in self.program.mixes() for b, share in m.items() if share > 0)

    @property
    def peak_users(self) -> float:
        """The most simulated users the program offers at once (a search's maximum)."""
        return self.program.peak_users

    def steady_windows(self) -> list[tuple[float, float, float, str]]:
        """(start_s, end_s, users, label) of the steady windows known before the run."""
        return self.program.steady_windows()

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
            "program": self.program.kind,
            **self.program.to_dict(),
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

    if scenario.program is None:
        raise ScenarioError(source, "", f"expected a load program ({', '.join(PROGRAM_KEYS)})")
    program = program_kind(scenario.program).resolve(
        scenario.program, real, source, time_scale, user_scale
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

    if not program.duration_s <= MAX_DURATION_S:
        raise ScenarioError(
            source,
            program_kind(program).key,
            f"lasts {program.duration_s:,.0f} s at time scale {time_scale:g}, longer than the "
            f"{MAX_DURATION_S:,.0f} s (7 days) a run may last",
        )
    return Plan(
        scenario=scenario,
        profile=profile,
        time_scale=time_scale,
        user_scale=user_scale,
        program=program,
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
