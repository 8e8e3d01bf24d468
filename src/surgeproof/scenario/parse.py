"""Scenario files: YAML → a validated Scenario, or a ScenarioError naming file and field."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime

from surgeproof.scenario.bounds import (
    MAX_ATTEMPTS,
    MAX_BACKOFF_FACTOR,
    MAX_FACTOR,
    MAX_STEP_FACTOR,
    MAX_USERS,
)
from surgeproof.scenario.faults import parse_faults
from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import (
    BEHAVIOURS,
    GROUPS,
    CapacityProfile,
    Requirement,
    RetryPolicy,
    Scenario,
    Slo,
    StepSearch,
    SurgePhase,
    UsersExpr,
)

#: SLO metrics a scenario may name: latency percentiles (ms), the maximum, the error ratio.
SLO_METRICS = ("p50", "p90", "p95", "p99", "p99.9", "max", "error_ratio")

SCENARIO_KEYS = (
    "name", "description", "profile", "dialect", "model", "clock_start", "slos", "requirements",
    "timeline", "search", "faults",
)  # fmt: skip
PHASE_KEYS = (
    "phase", "duration", "users", "ramp", "arrival_rate", "mix", "intensity", "request_rate",
    "sell_bias", "retry", "steady", "reconnect", "note",
)  # fmt: skip
SEARCH_KEYS = (
    "start", "max", "step_factor", "hold", "settle", "resolution", "mix", "intensity",
)  # fmt: skip
RETRY_KEYS = ("max_attempts", "backoff", "backoff_factor")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
_FIGURE_FIRST = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\*\s*(\d+(?:\.\d+)?(?:e-?\d+)?))?$")
_FACTOR_FIRST = re.compile(r"^(\d+(?:\.\d+)?(?:e-?\d+)?)\s*\*\s*([A-Za-z_][A-Za-z0-9_]*)$")

#: Looks a profile up by the name a scenario gives; raises ScenarioError when unknown.
ProfileLookup = Callable[[Field], CapacityProfile]


def parse_scenario(
    doc: object, source: str, lookup_profile: ProfileLookup | None = None
) -> Scenario:
    """A Scenario from a parsed document; figures are checked against its profile when named."""
    root = Field(source, "", doc)
    top = root.fields(SCENARIO_KEYS, required=("name",))
    if ("timeline" in top) == ("search" in top):
        raise root.error("expected exactly one of 'timeline' (phases) or 'search' (step search)")
    name = top["name"].text()
    if not _NAME.match(name):
        raise top["name"].expected("a name of letters, digits, '-', '_', '.'")
    profile = None
    if "profile" in top:
        profile = lookup_profile(top["profile"]) if lookup_profile else None
    model = top["model"].text() if "model" in top else "open"
    if model not in ("open", "closed"):
        raise top["model"].expected("open or closed")
    phases: tuple[SurgePhase, ...] = ()
    search = None
    if "timeline" in top:
        entries = top["timeline"].items()
        if not entries:
            raise top["timeline"].expected("at least one phase")
        phases = tuple(_phase(f) for f in entries)
        _check_unique_names(entries, phases)
    else:
        search = _search(top["search"])
    scenario = Scenario(
        name=name,
        description=" ".join(top["description"].text().split()) if "description" in top else "",
        phases=phases,
        search=search,
        slos=tuple(s for f in top["slos"].items() for s in _slos(f)) if "slos" in top else (),
        requirements=_requirements(top["requirements"]) if "requirements" in top else (),
        profile=top["profile"].text() if "profile" in top else None,
        dialect=top["dialect"].text() if "dialect" in top else None,
        model=model,  # type: ignore[arg-type]
        clock_start=_clock_start(top["clock_start"]) if "clock_start" in top else None,
        source_path=source,
        faults=parse_faults(top["faults"]) if "faults" in top else (),
    )
    if profile is not None:
        check_figures(scenario, profile, top)
    return scenario


def check_figures(scenario: Scenario, profile: CapacityProfile, top: dict[str, Field]) -> None:
    """Refuse a figure the profile does not define, naming the field that uses it."""
    known = ", ".join(profile.figures)

    def check(expr: UsersExpr, f: Field) -> None:
        if expr.figure is not None and expr.figure not in profile.figures:
            raise f.expected(f"a figure of profile {profile.name} ({known})")

    if "timeline" in top:
        for phase, f in zip(scenario.phases, top["timeline"].items(), strict=True):
            check(phase.users, f.child("users"))
    if scenario.search is not None:
        s = top["search"].fields(SEARCH_KEYS)
        check(scenario.search.start, s["start"])
        check(scenario.search.max_users, s["max"])
    if "requirements" in top:
        for req, f in zip(scenario.requirements, top["requirements"].items(), strict=True):
            check(UsersExpr(req.factor, req.figure), f)


def parse_users(f: Field) -> UsersExpr:
    """``540000``, ``peak``, ``peak * 1.2`` or ``1.2 * peak``; at most MAX_USERS users and a
    factor of at most MAX_FACTOR, both finite."""
    what = "a number of users or a figure expression like 'peak * 1.2'"
    v = f.value
    if isinstance(v, bool):
        raise f.expected(what)
    if isinstance(v, int | float):
        return UsersExpr(_user_count(f, v))
    if not isinstance(v, str):
        raise f.expected(what)
    text = v.strip().replace("_", "") if v.strip().replace("_", "").isdigit() else v.strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        return UsersExpr(_user_count(f, number))
    m = _FIGURE_FIRST.match(text)
    if m:
        return UsersExpr(_factor(f, m.group(2)) if m.group(2) else 1.0, m.group(1))
    m = _FACTOR_FIRST.match(text)
    if m:
        return UsersExpr(_factor(f, m.group(1)), m.group(2))
    raise f.expected(what)


def _user_count(f: Field, value: float) -> float:
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or not 0 <= number <= MAX_USERS:
        raise f.expected(f"a number of users between 0 and {MAX_USERS:,.0f}")
    return number


def _factor(f: Field, text: str) -> float:
    factor = float(text)
    if not math.isfinite(factor) or factor > MAX_FACTOR:
        raise f.expected(f"a figure expression with a factor of at most {MAX_FACTOR:g}")
    return factor


def parse_mix(f: Field) -> dict[str, float]:
    """Behaviour → share; known behaviours only, shares summing to 1."""
    entries = f.fields(BEHAVIOURS, noun="behaviour") if isinstance(f.value, dict) else None
    if entries is None:
        raise f.expected(f"a mapping of behaviour to share ({', '.join(BEHAVIOURS)})")
    if not entries:
        raise f.expected("at least one behaviour")
    mix = {name: e.number(minimum=0.0) for name, e in entries.items()}
    total = sum(mix.values())
    if abs(total - 1.0) > 1e-6:
        raise f.error(f"shares must sum to 1, got {total:g}")
    return mix


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


def _check_unique_names(entries: list[Field], phases: tuple[SurgePhase, ...]) -> None:
    seen: set[str] = set()
    for f, phase in zip(entries, phases, strict=True):
        if phase.name in seen:
            raise f.child("phase").error(f"phase name {phase.name!r} used twice")
        seen.add(phase.name)


def _retry(f: Field) -> RetryPolicy:
    if f.value is False:
        return RetryPolicy(max_attempts=1)
    r = f.fields(RETRY_KEYS)
    return RetryPolicy(
        max_attempts=(
            r["max_attempts"].integer(minimum=1, maximum=MAX_ATTEMPTS) if "max_attempts" in r else 3
        ),
        backoff_s=_backoff(r["backoff"]) if "backoff" in r else 0.0,
        backoff_factor=(
            r["backoff_factor"].number(minimum=1.0, maximum=MAX_BACKOFF_FACTOR)
            if "backoff_factor" in r
            else 2.0
        ),
    )


def _backoff(f: Field) -> float:
    seconds = f.duration(positive=False)
    if seconds < 0:
        raise f.expected("a duration >= 0")
    return seconds


def _search(f: Field) -> StepSearch:
    s = f.fields(SEARCH_KEYS, required=("start", "max"))
    search = StepSearch(
        start=parse_users(s["start"]),
        max_users=parse_users(s["max"]),
        step_factor=(
            s["step_factor"].number(positive=True, maximum=MAX_STEP_FACTOR)
            if "step_factor" in s
            else 1.5
        ),
        hold_s=s["hold"].duration() if "hold" in s else 30.0,
        settle_s=_backoff(s["settle"]) if "settle" in s else 5.0,
        resolution=s["resolution"].ratio() if "resolution" in s else 0.05,
        mix=parse_mix(s["mix"]) if "mix" in s else {"app_user": 1.0},
        intensity=(
            s["intensity"].number(positive=True, maximum=MAX_FACTOR) if "intensity" in s else 1.0
        ),
    )
    if search.step_factor <= 1:
        raise s["step_factor"].expected("a factor greater than 1")
    if search.resolution <= 0:
        raise s["resolution"].expected("a ratio greater than 0")
    if search.start.value <= 0:
        raise s["start"].expected("a level greater than 0")
    if (
        search.start.figure == search.max_users.figure
        and search.max_users.value < search.start.value
    ):
        raise s["max"].expected(f"a level >= start ({search.start})")
    return search


def _slos(f: Field) -> list[Slo]:
    s = f.fields(("group", *SLO_METRICS), required=("group",))
    group = s["group"].text()
    if group != "*" and group not in GROUPS:
        raise s["group"].expected(f"one of {', '.join(GROUPS)} or '*'")
    metrics = [k for k in s if k != "group"]
    if not metrics:
        raise f.error(f"expected at least one of {', '.join(SLO_METRICS)}")
    return [
        Slo(group, m, s[m].ratio() if m == "error_ratio" else s[m].latency_ms()) for m in metrics
    ]


def _requirements(f: Field) -> tuple[Requirement, ...]:
    out = []
    for item in f.items():
        expr = parse_users(item)
        if expr.figure is None:
            raise item.expected("a figure expression like 'peak * 1.2'")
        out.append(Requirement(figure=expr.figure, factor=expr.value))
    return tuple(out)


def _clock_start(f: Field) -> str:
    what = "an ISO 8601 time with offset, like '2024-12-03T22:00:00+09:00'"
    if isinstance(f.value, datetime):
        moment = f.value
    elif isinstance(f.value, str):
        try:
            moment = datetime.fromisoformat(f.value.strip())
        except ValueError:
            raise f.expected(what) from None
    else:
        raise f.expected(what)
    if moment.tzinfo is None:
        raise f.expected(what + " (the offset is missing)")
    return moment.isoformat()
