"""Scenario files: YAML → a validated Scenario, or a ScenarioError naming file and field."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from surgeproof.scenario.expressions import parse_mix, parse_users
from surgeproof.scenario.faults import parse_faults
from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import (
    GROUPS,
    CapacityProfile,
    Requirement,
    Scenario,
    Slo,
    UsersExpr,
)
from surgeproof.scenario.programs import KEYS as PROGRAM_KEYS
from surgeproof.scenario.programs import KINDS as PROGRAMS
from surgeproof.scenario.programs import kind_of as program_kind
from surgeproof.scenario.requirements import kind_of as requirement_kind
from surgeproof.scenario.requirements import parse_objectives, parse_requirement
from surgeproof.scenario.slos import METRICS, kind_of

__all__ = ["check_figures", "parse_mix", "parse_scenario", "parse_slo_entry", "parse_users"]

SCENARIO_KEYS = (
    "name", "description", "profile", "dialect", "model", "clock_start", "slos", "requirements",
    "objectives", *PROGRAM_KEYS, "faults",
)  # fmt: skip

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")

#: Looks a profile up by the name a scenario gives; raises ScenarioError when unknown.
ProfileLookup = Callable[[Field], CapacityProfile]


def parse_scenario(
    doc: object, source: str, lookup_profile: ProfileLookup | None = None
) -> Scenario:
    """A Scenario from a parsed document; figures are checked against its profile when named."""
    root = Field(source, "", doc)
    top = root.fields(SCENARIO_KEYS, required=("name",))
    given = [kind for kind in PROGRAMS if kind.key in top]
    if len(given) != 1:
        what = " or ".join(f"'{kind.key}'" for kind in PROGRAMS)
        raise root.error(f"expected exactly one of {what} (the load program)")
    [program] = given
    name = top["name"].text()
    if not _NAME.match(name):
        raise top["name"].expected("a name of letters, digits, '-', '_', '.'")
    profile = None
    if "profile" in top:
        profile = lookup_profile(top["profile"]) if lookup_profile else None
    model = top["model"].text() if "model" in top else "open"
    if model not in ("open", "closed"):
        raise top["model"].expected("open or closed")
    scenario = Scenario(
        name=name,
        description=" ".join(top["description"].text().split()) if "description" in top else "",
        program=program.parse(top[program.key]),
        slos=tuple(s for f in top["slos"].items() for s in _slos(f)) if "slos" in top else (),
        # Recovery objectives are requirement kinds: judged with the requirements, after them.
        requirements=(_requirements(top["requirements"]) if "requirements" in top else ())
        + (parse_objectives(top["objectives"]) if "objectives" in top else ()),
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

    program = program_kind(scenario.program)
    for expr, f in program.figures(scenario.program, top[program.key]):
        check(expr, f)
    if "requirements" in top:
        fields = top["requirements"].items()
        for req, f in zip(scenario.requirements[: len(fields)], fields, strict=True):
            for expr in requirement_kind(req).figures_used(req):
                check(expr, f)


def _slos(f: Field) -> list[Slo]:
    return parse_slo_entry(f, GROUPS)


def parse_slo_entry(f: Field, groups: tuple[str, ...] | None) -> list[Slo]:
    """The SLOs of one ``{group: G, <metric>: <limit>, ...}`` entry, each parsed by its kind;
    ``groups`` = the groups it may name besides ``*`` (None: any)."""
    s = f.fields(("group", *METRICS), required=("group",))
    group = s["group"].text()
    if groups is not None and group != "*" and group not in groups:
        raise s["group"].expected(f"one of {', '.join(groups)} or '*'")
    metrics = [k for k in s if k != "group"]
    if not metrics:
        raise f.error(f"expected at least one of {', '.join(METRICS)}")
    return [kind_of(m).parse(group, m, s[m]) for m in metrics]


def _requirements(f: Field) -> tuple[Requirement, ...]:
    return tuple(parse_requirement(item) for item in f.items())


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
