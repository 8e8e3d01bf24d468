"""``levels`` of analysis.json and the group-stats they and ``overall`` share (FORMAT.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from surgeproof.analysis.contract.record import ABSENT, Record


@dataclass(kw_only=True)
class AnsweredSeconds(Record):
    """``seconds`` of a group-stats: seconds with calls, and of those the ones answered within
    each bound (for SLO kinds judged second by second)."""

    judged: int
    up_within_ms: dict[str, int]


@dataclass(kw_only=True)
class GroupStats(Record):
    """group-stats: one endpoint group's counts, errors by cause and exact percentiles (ms)."""

    count: int
    ok: int
    errors: dict[str, int]
    error_ratio: float | None
    latency_ms: dict[str, float | None]
    service_ms: dict[str, float | None]
    seconds: AnsweredSeconds = ABSENT


@dataclass(kw_only=True)
class EndpointStats(Record):
    """One of ``overall.endpoints``: an endpoint name's group and its group-stats."""

    group: str
    count: int
    ok: int
    errors: dict[str, int]
    error_ratio: float | None
    latency_ms: dict[str, float | None]
    service_ms: dict[str, float | None]
    seconds: AnsweredSeconds = ABSENT


@dataclass(kw_only=True)
class Overall(Record):
    """``overall``: whole-run stats per group (plus ``*``) and per endpoint name."""

    groups: dict[str, GroupStats]
    endpoints: dict[str, EndpointStats] = ABSENT


@dataclass(kw_only=True)
class Breach(Record):
    """One of a level's ``breaches``: an SLO that failed, on which group, by how much."""

    slo: str
    group: str
    metric: str
    value: float
    limit: float
    unit: str
    first_s: float | None


@dataclass(kw_only=True)
class SaturationReference(Record):
    """``saturation.reference``: the closed model's low-load level."""

    label: str
    users: float
    per_user_rps: float | None


@dataclass(kw_only=True)
class Saturation(Record):
    """A level's ``saturation``: what the one saturation rule measured."""

    judged: bool
    saturated: bool
    basis: Literal["asked", "low-load rate"]
    demand_rps: float | None
    achieved_rps: float
    share: float | None
    per_user_rps: float | None
    reference: SaturationReference | None
    top_rps: float | None
    in_target_share: float | None
    reason: str | None


@dataclass(kw_only=True)
class LevelGenerator(Record):
    """A level's ``generator``: send lag and generator CPU over its window."""

    intended: int
    late: int
    missed: int
    late_ratio: float | None
    missed_ratio: float | None
    send_lag_ms: dict[str, float | None]
    cpu_max_percent: float | None
    cpu_mean_percent: float | None
    cpu_by_source: dict[str, float]
    bound: bool
    reasons: list[str]


@dataclass(kw_only=True)
class Level(Record):
    """One of ``levels``: a steady-state window, what it measured and its verdict."""

    label: str
    start_ns: int
    end_ns: int
    t_start_s: float | None
    duration_s: float
    target_users: float
    offered_users: float
    active_users: float | None
    offered_rps: float
    sent_rps: float
    achieved_rps: float
    ok_rps: float
    records: int
    calls: int
    asked_rps: float
    mean_latency_ms: float | None
    verdict: Literal["pass", "fail", "inconclusive"]
    reasons: list[str]
    breaches: list[Breach]
    unjudged: list[str]
    saturated: bool
    saturation: Saturation | None
    too_short: bool
    groups: dict[str, GroupStats]
    ws_gap_ms: dict[str, float | None] | None
    short_of: list[str]
    generator: LevelGenerator

    @property
    def users(self) -> float:
        """The level's offered concurrency (simulated)."""
        return self.target_users or self.offered_users
