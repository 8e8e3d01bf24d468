"""Gate requirements as people type them on a CI command line, turned into scenario records.

``--require-ceiling peak*1.2`` and ``--require sebi:peak`` become ``Requirement`` records,
``--max-p99 login=800ms`` and ``--max-error-ratio 0.01`` become ``Slo`` records, so flags and the
scenario's own ``slos`` and ``requirements`` are judged by one code path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from surgeproof.analysis.headroom import parse_requirement
from surgeproof.errors import UserError
from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import GROUPS, Requirement, Scenario, Slo, UsersExpr
from surgeproof.scenario.parse import parse_users
from surgeproof.scenario.units import parse_latency_ms, parse_ratio

#: Latency flags the gate accepts and the SLO metric each sets.
LATENCY_FLAGS = {"--max-p50": "p50", "--max-p95": "p95", "--max-p99": "p99"}


@dataclass(frozen=True)
class RequirementCheck:
    """A requirement the run must meet (any kind), and where it came from."""

    requirement: Requirement
    origin: str


@dataclass(frozen=True)
class SloRequirement:
    """An SLO the whole run must hold, and where it came from."""

    slo: Slo
    origin: str


def parse_ceiling(text: str, flag: str = "--require-ceiling") -> UsersExpr:
    """``peak*1.2``, ``1.2 * peak``, ``peak`` or ``600000`` (real users)."""
    return parse_users(Field(flag, "", text.strip()))


def ceiling_requirement(text: str, flag: str = "--require-ceiling") -> Requirement:
    """``--require-ceiling``'s value as a requirement of the default (ceiling) kind."""
    expr = parse_ceiling(text, flag)
    return Requirement(expr.figure, expr.value)


def parse_group_latency(text: str, flag: str) -> Slo:
    """``login=800ms`` (or ``*=1s`` for every group) → an SLO on the flag's percentile."""
    group, limit = _split_assignment(text, flag, "GROUP=LATENCY, e.g. login=800ms")
    try:
        ms = parse_latency_ms(limit)
    except ValueError:
        raise UserError(f"{flag} {text}: {limit!r} is not a latency (e.g. 800ms, 1.5s)") from None
    if ms <= 0:
        raise UserError(f"{flag} {text}: a latency limit must be positive")
    return Slo(group, LATENCY_FLAGS[flag], ms)


def parse_error_ratio(text: str, flag: str = "--max-error-ratio") -> Slo:
    """``0.01``, ``1%`` (every group) or ``orders=0.02`` (one group) → an error-ratio SLO."""
    group, limit = ("*", text) if "=" not in text else _split_assignment(text, flag, "")
    try:
        ratio = parse_ratio(limit)
    except ValueError:
        raise UserError(f"{flag} {text}: {limit!r} is not a ratio (e.g. 0.01 or 1%)") from None
    if not 0 <= ratio <= 1:
        raise UserError(f"{flag} {text}: an error ratio lies between 0 and 1 (0% and 100%)")
    return Slo(group, "error_ratio", ratio)


def parse_tolerance(text: str, flag: str = "--tolerance") -> float:
    """``5%`` or ``0.05`` → 0.05: how much worse than the baseline a number may be."""
    try:
        value = parse_ratio(text)
    except ValueError:
        raise UserError(f"{flag} {text}: not a tolerance (e.g. 5% or 0.05)") from None
    if not 0 <= value < 1:
        raise UserError(f"{flag} {text}: a tolerance lies in [0%, 100%)")
    return value


def collect(
    scenario: Scenario | None,
    *,
    ceilings: Iterable[str] = (),
    rules: Iterable[str] = (),
    latencies: Iterable[tuple[str, str]] = (),
    error_ratios: Iterable[str] = (),
) -> tuple[list[RequirementCheck], list[SloRequirement]]:
    """Requirements from the scenario as run, then from flags (``latencies`` = (flag, text))."""
    reqs: list[RequirementCheck] = []
    slo_reqs: list[SloRequirement] = []
    if scenario is not None:
        reqs.extend(RequirementCheck(req, "scenario") for req in scenario.requirements)
        slo_reqs.extend(SloRequirement(slo, "scenario") for slo in scenario.slos)
    for text in ceilings:
        reqs.append(RequirementCheck(ceiling_requirement(text), "--require-ceiling"))
    for text in rules:
        reqs.append(RequirementCheck(parse_requirement(text, "--require"), "--require"))
    for flag, text in latencies:
        slo_reqs.append(SloRequirement(parse_group_latency(text, flag), flag))
    for text in error_ratios:
        slo_reqs.append(SloRequirement(parse_error_ratio(text), "--max-error-ratio"))
    return reqs, slo_reqs


def _split_assignment(text: str, flag: str, example: str) -> tuple[str, str]:
    group, sep, value = text.partition("=")
    group, value = group.strip(), value.strip()
    if not sep or not group or not value:
        raise UserError(f"{flag} {text}: expected {example or 'GROUP=VALUE'}")
    if group not in (*GROUPS, "*"):
        raise UserError(f"{flag} {text}: unknown group {group!r} (known: {', '.join(GROUPS)}, *)")
    return group, value
