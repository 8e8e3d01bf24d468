"""What a load program is: one way of offering load over a run (a timeline, a step search).

A program kind is one file in this package that defines ``KIND``, a :class:`ProgramKind`: the
config a scenario writes under the kind's key and its validation, how it resolves at a run's
scales into the plan's program (:class:`ResolvedProgram`: what it offers, its steady windows, its
demand on the generator fleet), and its runtime (:class:`Program`, what the conductor plays).
The registry (``surgeproof.scenario.programs``) finds it; a scenario holds exactly one program.
Modelled on k6's ``lib/executor/`` (one executor per file: config, validation, run, registered
by name).

The runtime is pure: the conductor hands it the time, and a judge for the levels it asks to be
judged; users, records and events are the conductor's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import RetryPolicy, UsersExpr

if TYPE_CHECKING:
    from surgeproof.scenario.plan import Plan


@dataclass(frozen=True)
class LoadState:
    """The offered load at one instant, as every user of every process sees it."""

    target_users: float = 0.0
    phase_index: int = -1
    phase_name: str = ""
    mix: dict[str, float] = field(default_factory=lambda: {"market_watcher": 1.0})
    intensity: float = 1.0
    sell_bias: float = 0.5
    retry: RetryPolicy | None = None
    #: Bumped when a phase with ``reconnect`` starts: every websocket drops and reconnects.
    reconnect_epoch: int = 0
    closed_model: bool = False

    def to_message(self) -> dict[str, Any]:
        """Plain data for a Locust message (msgpack) or a JSON event."""
        out = asdict(self)
        out["retry"] = None if self.retry is None else asdict(self.retry)
        return out

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> LoadState:
        retry = data.get("retry")
        return cls(
            target_users=float(data["target_users"]),
            phase_index=int(data["phase_index"]),
            phase_name=str(data["phase_name"]),
            mix={str(k): float(v) for k, v in data["mix"].items()},
            intensity=float(data["intensity"]),
            sell_bias=float(data["sell_bias"]),
            retry=None if retry is None else RetryPolicy(**retry),
            reconnect_epoch=int(data["reconnect_epoch"]),
            closed_model=bool(data["closed_model"]),
        )


@dataclass(frozen=True)
class Judgement:
    """What a program needs of a judged level."""

    verdict: str  # "pass" | "fail" | "inconclusive"
    reasons: list[str]
    #: Sources whose users or records were missing from part of the window (a lost worker):
    #: the level did not offer the load it says, and a search holds it again.
    short_of: tuple[str, ...] = ()


class Judge(Protocol):
    """Judges a level's window of the running run, and says when lost users run again."""

    def __call__(self, start_ns: int, end_ns: int, users: int, label: str) -> Judgement: ...

    def load_restored(self) -> bool: ...


@dataclass(frozen=True)
class Stretch:
    """A part of a program as generator sizing sees it: a phase, a search's highest level."""

    index: int
    name: str
    users: float
    from_users: float
    mix: Mapping[str, float]
    intensity: float
    ramp_s: float
    duration_s: float
    retry: RetryPolicy | None
    reconnect: bool
    user_seconds: float


class ProgramConfig(Protocol):
    """A program as a scenario writes it (its kind's config record)."""

    kind: ClassVar[str]

    def mixes(self) -> list[Mapping[str, float]]:
        """Every user mix it plays."""
        ...


class Program(Protocol):
    """A program's runtime: what the conductor (or a plain-Locust shape) calls every tick."""

    @property
    def end_s(self) -> float:
        """When the program is over (it may move out while it runs)."""
        ...

    #: Seconds past ``end_s`` the conductor lets the run go on before cutting it.
    overrun_s: float
    #: The run.json key of ``summary()`` (None: the program keeps none).
    summary_key: str | None

    def users_for_tick(self, t_s: float) -> int | None:
        """Users to run for the next second; None when the program is over."""
        ...

    def state_at(self, t_s: float) -> LoadState: ...

    def advance(self, t_s: float, t0_ns: int) -> None:
        """Decide what depends on judged levels (nothing, for a plain timeline)."""
        ...

    def events_until(self, t_s: float, t0_ns: int) -> list[dict[str, Any]]:
        """Phase starts and completed levels up to ``t_s`` not reported yet."""
        ...

    def summary(self) -> dict[str, Any] | None: ...


class ResolvedProgram(Protocol):
    """A program at a run's scales, as the plan holds it (times in scaled seconds, users
    simulated)."""

    kind: ClassVar[str]

    @property
    def duration_s(self) -> float:
        """Its length, or (a search) its upper bound."""
        ...

    @property
    def peak_users(self) -> float:
        """The most simulated users it can offer at once."""
        ...

    def mixes(self) -> list[Mapping[str, float]]:
        """Every user mix it plays."""
        ...

    def steady_windows(self) -> list[tuple[float, float, float, str]]:
        """(start_s, end_s, users, label) of the steady windows known before the run."""
        ...

    def judged_window_lengths(self) -> list[float]:
        """The lengths of the windows it will have judged (scaled seconds)."""
        ...

    def stretches(self) -> list[Stretch]:
        """Its parts as generator sizing sees them."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """Its part of run.json's ``scenario``."""
        ...

    def summary_line(self) -> str:
        """One line for ``scenario validate``: ``7 phases, 3h``."""
        ...

    def describe(self, plan: Plan) -> list[str]:
        """Lines for ``scenario show``."""
        ...

    def runtime(self, judge: Judge, judge_delay_s: float, closed_model: bool) -> Program:
        """The program to play; ``judge`` judges the levels it asks for (after
        ``judge_delay_s``, so that the answers in flight have landed)."""
        ...


#: Looks a users expression up in real users; ``where`` names the field for errors.
RealUsers = Callable[[UsersExpr, str], float]


class ProgramKind:
    """One kind of load program (subclass it in a file of this package)."""

    #: The kind's name (run.json's ``scenario.program``).
    name: str = ""
    #: The scenario key its config is written under (``timeline``, ``search``).
    key: str = ""
    #: The run.json ``scenario`` key its resolved form fills (old run directories are read by it).
    plan_key: str = ""
    order: int = 0
    #: It climbs past the ceiling on purpose: its highest load is a probe, not a peak load.
    probes: bool = False
    #: It judges levels while the run goes: records must reach the run directory meanwhile.
    judges_live: bool = False

    def parse(self, f: Field) -> Any:
        """The config written under ``key``, validated; ScenarioError naming ``f`` else."""
        raise NotImplementedError

    def figures(self, config: Any, f: Field) -> list[tuple[UsersExpr, Field]]:
        """Every users expression of the config with the field that wrote it (``f`` = its
        key's field), for the profile's figures to be checked."""
        raise NotImplementedError

    def resolve(
        self, config: Any, real: RealUsers, source: str, time_scale: float, user_scale: float
    ) -> ResolvedProgram:
        """The program at the run's scales (ScenarioError naming ``source`` when impossible)."""
        raise NotImplementedError
