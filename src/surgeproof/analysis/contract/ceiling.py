"""``ceiling`` (the bracket) and ``verdict`` of analysis.json (FORMAT.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from surgeproof.analysis.contract.record import ABSENT, Record


@dataclass(kw_only=True)
class Verdict(Record):
    """``verdict``: the run's answer and its reasons, the decisive one first."""

    status: Literal["pass", "fail", "inconclusive"]
    basis: Literal["requirements", "slos"]
    reasons: list[str]


@dataclass(kw_only=True)
class LevelRef(Record):
    """A level named by the bracket: ``level-ref``."""

    label: str
    users: float
    start_ns: int
    end_ns: int
    achieved_rps: float


@dataclass(kw_only=True)
class CeilingReal(Record):
    """``ceiling.real``: the bracket scaled back to real users."""

    last_pass_users: float | None
    first_fail_users: float | None


@dataclass(kw_only=True)
class FailedFirst(Record):
    """``ceiling.failed_first``: the SLO that broke first in the first failing level, or the
    target's saturation."""

    slo: str
    group: str
    metric: str
    value: float
    limit: float | None
    unit: str
    first_s: float | None
    reason: str | None = ABSENT


@dataclass(kw_only=True)
class InconclusiveLevel(Record):
    """One of ``ceiling.inconclusive``: a level never counted as pass or fail."""

    label: str
    users: float
    reasons: list[str]
    too_short: bool
    generator: bool


@dataclass(kw_only=True)
class Plateau(Record):
    """``ceiling.plateau``: the measured hard cap of throughput."""

    detected: bool
    from_users: float | None
    throughput_rps: float | None
    max_rps: float | None
    max_at_users: float | None
    levels: int
    note: str


@dataclass(kw_only=True)
class Ceiling(Record):
    """``ceiling``: the bracket between the last level that held and the first that failed."""

    status: Literal["bracketed", "lower_bound", "upper_bound", "none"]
    unit: str
    last_pass: LevelRef | None
    first_fail: LevelRef | None
    width_ratio: float | None
    real: CeilingReal
    failed_first: FailedFirst | None
    inconclusive: list[InconclusiveLevel]
    plateau: Plateau
    generator_bound: bool
    non_monotonic: list[LevelRef]
    statement: str
