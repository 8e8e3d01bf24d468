"""Records that describe a surge: phases, user mixes, SLOs, capacity profiles.

These are plain data. Parsing and validation live in ``surgeproof.scenario.parse``; the
schedule a run follows (target users at time t) lives in ``surgeproof.scenario.plan``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from surgeproof.scenario.faults import FaultSpec

#: User behaviours the load layer implements; a mix names some of these.
BEHAVIOURS = ("market_watcher", "app_user", "panic_seller", "api_bot", "retrying_client")

#: Endpoint groups that SLOs and the analyzer speak of. ``*`` in an SLO means every group.
GROUPS = ("login", "quotation", "orders", "account", "websocket")

LoadModel = Literal["open", "closed"]


@dataclass(frozen=True)
class UsersExpr:
    """A concurrency target: an absolute number, or a factor of a capacity-profile figure."""

    value: float  # the absolute number, or the factor when ``figure`` is set
    figure: str | None = None  # e.g. "peak" for ``peak * 1.2``

    def resolve(self, profile: CapacityProfile | None) -> float:
        """Concurrent (real) users this expression means under ``profile``."""
        if self.figure is None:
            return self.value
        if profile is None or self.figure not in profile.figures:
            raise KeyError(self.figure)
        return profile.figures[self.figure].value * self.value

    def __str__(self) -> str:
        return f"{self.figure} * {self.value:g}" if self.figure else f"{self.value:g}"


@dataclass(frozen=True)
class RetryPolicy:
    """How retrying clients re-send failed calls (retry amplification)."""

    max_attempts: int = 3
    backoff_s: float = 0.0  # 0 = immediate re-send, the amplifying kind
    backoff_factor: float = 2.0


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
class StepSearch:
    """Stepwise search for the ceiling: coarse steps up to a failure, then bisection."""

    start: UsersExpr
    max_users: UsersExpr
    step_factor: float = 1.5  # next coarse level = previous * step_factor
    hold_s: float = 30.0  # steady-state window per level
    settle_s: float = 5.0  # ramp/settling time before each window, not judged
    resolution: float = 0.05  # stop once (fail - pass) / pass <= resolution
    mix: dict[str, float] = field(default_factory=lambda: {"app_user": 1.0})
    intensity: float = 1.0


@dataclass(frozen=True)
class Slo:
    """One service-level objective: a latency percentile (ms) or an error ratio, per group."""

    group: str  # one of GROUPS, or "*"
    metric: str  # "p50" | "p90" | "p95" | "p99" | "p99.9" | "max" | "error_ratio"
    limit: float  # milliseconds for percentiles, a ratio in [0, 1] for error_ratio

    def __str__(self) -> str:
        unit = "" if self.metric == "error_ratio" else " ms"
        return f"{self.group} {self.metric} <= {self.limit:g}{unit}"


@dataclass(frozen=True)
class Requirement:
    """A gate requirement on the measured ceiling, e.g. ``ceiling >= peak * 1.2``."""

    figure: str
    factor: float = 1.0


@dataclass(frozen=True)
class ReferenceFigure:
    """A published capacity figure, with its unit and where it comes from."""

    key: str  # "normal" | "peak" | "expanded" (or any name the profile uses)
    value: float
    unit: str  # "concurrent users" | "concurrent orders"
    label: str  # human words: "normal capacity", "on 3 Dec 2024"
    source: str


@dataclass(frozen=True)
class CapacityProfile:
    """Reference figures for one exchange (e.g. Upbit 500k / 540k / 900k)."""

    name: str
    exchange: str
    figures: dict[str, ReferenceFigure]
    notes: str = ""
    #: The API this exchange speaks (a dialect name), when a run names no other.
    dialect: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A surge to replay: a timeline of phases, or a step search; the SLOs it is judged by."""

    name: str
    description: str
    phases: tuple[SurgePhase, ...] = ()
    search: StepSearch | None = None
    slos: tuple[Slo, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    profile: str | None = None
    #: The API the target speaks: a built-in dialect name or a dialect file (``--dialect`` wins).
    dialect: str | None = None
    model: LoadModel = "open"
    #: Wall-clock time the timeline's zero stands for, ISO 8601 with offset
    #: (e.g. "2024-12-03T22:00:00+09:00"), for clock-time labels in reports.
    clock_start: str | None = None
    source_path: str | None = None
    #: Faults to play during the timeline (``faults:``), in scenario time.
    faults: tuple[FaultSpec, ...] = ()

    @property
    def duration_s(self) -> float:
        """Length of the timeline in (unscaled) seconds; 0 for a step search."""
        return sum(p.duration_s for p in self.phases)
