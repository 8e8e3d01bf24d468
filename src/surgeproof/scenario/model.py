"""Records that describe a surge: phases, user mixes, SLOs, capacity profiles.

These are plain data. Parsing and validation live in ``surgeproof.scenario.parse``; the
schedule a run follows (target users at time t) lives in ``surgeproof.scenario.plan``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from surgeproof.scenario.programs.program import ProgramConfig

from surgeproof.scenario.faults import FaultSpec

#: User behaviours the load layer implements; a mix names some of these.
BEHAVIOURS = ("market_watcher", "app_user", "panic_seller", "api_bot", "retrying_client")

#: Endpoint groups that SLOs and the analyzer speak of. ``*`` in an SLO means every group.
GROUPS = ("login", "quotation", "orders", "account", "websocket")

LoadModel = Literal["open", "closed"]

#: How an SLO or a requirement reads, by record type: its kind knows, and the kinds build these
#: records (their ``parse``), so a record cannot import its kind. Each kind registry
#: (``scenario.slos``, ``scenario.requirements``) puts its writer here when it loads, which is
#: before any record exists: importing this module runs ``surgeproof.scenario``'s ``__init__``,
#: which loads both.
WRITERS: dict[type, Callable[[Any], str]] = {}


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
class Slo:
    """One service-level objective on an endpoint group; its kind (``scenario.slos``) says what
    the metric measures, in which unit, and which way it breaks."""

    group: str  # one of GROUPS, or "*"
    metric: str  # a metric of some SLO kind: "p99", "error_ratio", ...
    limit: float  # in the kind's unit: milliseconds for percentiles, a ratio for error_ratio
    #: The kind's further settings, as sorted (name, number) pairs; a mapping is accepted.
    options: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.options, Mapping):
            object.__setattr__(self, "options", tuple(sorted(self.options.items())))

    def option(self, name: str) -> float | None:
        """The value of option ``name``, None when not given."""
        return dict(self.options).get(name)

    def __str__(self) -> str:
        return WRITERS[Slo](self)


@dataclass(frozen=True)
class Requirement:
    """A rule the run is held to; its kind (``scenario.requirements``) says how it is judged.
    The default kind: the measured ceiling against a profile figure, ``ceiling >= peak * 1.2``."""

    #: A capacity-profile figure it is stated against, or None.
    figure: str | None = None
    #: That figure's factor; with no figure, a number of real users (where the kind takes one).
    factor: float = 1.0
    kind: str = "ceiling"
    #: The kind's own quantities, as sorted (name, number) pairs; a mapping is accepted.
    options: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.options, Mapping):
            object.__setattr__(self, "options", tuple(sorted(self.options.items())))

    def option(self, name: str) -> float | None:
        """The value of option ``name``, None when not given."""
        return dict(self.options).get(name)

    def __str__(self) -> str:
        return WRITERS[Requirement](self)


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
    """A surge to replay: one load program (a timeline of phases, a step search, ...), the SLOs
    it is judged by and the requirements it is held to."""

    name: str
    description: str
    #: The program's config (``scenario.programs``); None only for a record that is not run.
    program: ProgramConfig | None = None
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
    def behaviours(self) -> frozenset[str]:
        """Every behaviour the program gives a share of users (known before resolving it)."""
        mixes = self.program.mixes() if self.program is not None else []
        return frozenset(b for m in mixes for b, share in m.items() if share > 0)
