"""The step-search program (``search:``): find the concurrent-user ceiling level by level.

Coarse steps (× step_factor) up to the first failing level, then bisection between the highest
passing level below the lowest failing one, until the bracket is narrower than the resolution
(or one user wide). Each level settles (not judged), then holds a judged window; the runtime asks
the conductor's judge for each window's verdict and picks the next level from them. Inconclusive
levels count as not passing: a search never climbs on a level it could not judge, so it cannot
hammer far past the ceiling.

One exception: a level *cut short* (a generator worker was lost during its window, so it did
not offer the load it says) is held again, at most ``max_reholds`` times in a row; a level held
again no longer counts. When the search gives up on it, the last hold stays inconclusive and
counts as not passing, as above.

Its config and validation, its resolution at a run's scales and its demand on the generator
fleet (its highest level, held for as long as the search can last) are here too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from surgeproof.scenario.bounds import MAX_FACTOR, MAX_STEP_FACTOR
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.expressions import mix_text, parse_delay, parse_mix, parse_users
from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import UsersExpr
from surgeproof.scenario.programs.program import (
    Judge,
    Judgement,
    LoadState,
    ProgramKind,
    RealUsers,
    Stretch,
)
from surgeproof.scenario.units import format_duration

if TYPE_CHECKING:
    from surgeproof.scenario.plan import Plan

SEARCH_KEYS = (
    "start", "max", "step_factor", "hold", "settle", "resolution", "mix", "intensity",
)  # fmt: skip

#: How many times a level cut short is held again before the search gives up on it.
MAX_REHOLDS = 2

#: Name of the stretch that stands for the search's highest level in generator sizing.
SEARCH_PHASE = "step search (highest level)"


@dataclass(frozen=True)
class StepSearch:
    """Stepwise search for the ceiling: coarse steps up to a failure, then bisection."""

    kind: ClassVar[str] = "step_search"
    start: UsersExpr
    max_users: UsersExpr
    step_factor: float = 1.5  # next coarse level = previous * step_factor
    hold_s: float = 30.0  # steady-state window per level
    settle_s: float = 5.0  # ramp/settling time before each window, not judged
    resolution: float = 0.05  # stop once (fail - pass) / pass <= resolution
    mix: dict[str, float] = field(default_factory=lambda: {"app_user": 1.0})
    intensity: float = 1.0

    def mixes(self) -> list[Mapping[str, float]]:
        return [self.mix]


@dataclass(frozen=True)
class ResolvedSearch:
    """A step search with levels in simulated users and windows in scaled seconds."""

    kind: ClassVar[str] = "step_search"
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

    @property
    def duration_s(self) -> float:
        return self.max_duration_s

    @property
    def peak_users(self) -> float:
        return self.max_users

    def mixes(self) -> list[Mapping[str, float]]:
        return [self.mix]

    def steady_windows(self) -> list[tuple[float, float, float, str]]:
        return []  # which levels it holds is decided while it runs

    def judged_window_lengths(self) -> list[float]:
        return [self.hold_s]

    def stretches(self) -> list[Stretch]:
        """The highest level, held for as long as the search can last (an upper bound)."""
        return [
            Stretch(
                index=0,
                name=SEARCH_PHASE,
                users=self.max_users,
                from_users=self.max_users,
                mix=self.mix,
                intensity=self.intensity,
                ramp_s=0.0,
                duration_s=self.max_duration_s,
                retry=None,
                reconnect=False,
                user_seconds=self._user_seconds(),
            )
        ]

    def _user_seconds(self) -> float:
        """Upper bound on its user-seconds: its coarse levels, then bisection levels (each at
        most the highest), every level settling and holding."""
        level_s = self.settle_s + self.hold_s
        levels = []
        level = self.start_users
        while level < self.max_users and len(levels) < self.max_levels:
            levels.append(level)
            level *= self.step_factor
        levels.append(self.max_users)
        bisect = max(0, self.max_levels - len(levels))
        return (sum(levels) + bisect * self.max_users) * level_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "search": {
                "start_users": self.start_users,
                "max_users": self.max_users,
                "real_start_users": self.real_start_users,
                "real_max_users": self.real_max_users,
                "step_factor": self.step_factor,
                "hold_s": self.hold_s,
                "settle_s": self.settle_s,
                "resolution": self.resolution,
                "mix": self.mix,
                "intensity": self.intensity,
                "max_levels": self.max_levels,
                "max_duration_s": self.max_duration_s,
            }
        }

    def summary_line(self) -> str:
        return f"step search, at most {self.max_levels} levels"

    def describe(self, plan: Plan) -> list[str]:
        return [
            f"step search: {self.start_users:g} .. {self.max_users:g} users "
            f"(real {self.real_start_users:,.0f} .. {self.real_max_users:,.0f}), "
            f"x{self.step_factor:g} steps, "
            f"settle {format_duration(self.settle_s)}, hold {format_duration(self.hold_s)}, "
            f"resolution {self.resolution:.0%}, at most {self.max_levels} levels",
            f"mix: {mix_text(self.mix)}",
        ]

    def runtime(self, judge: Judge, judge_delay_s: float, closed_model: bool) -> SearchProgram:
        return SearchProgram(self, judge, judge_delay_s=judge_delay_s, closed_model=closed_model)


# -- the search as a pure function: given the levels judged so far, the next one ---------------


@dataclass(frozen=True)
class JudgedLevel:
    users: int
    verdict: str  # "pass" | "fail" | "inconclusive"
    #: Offered load fell short during the window (a lost worker): it measured less than it says.
    cut_short: bool = False


@dataclass(frozen=True)
class Bracket:
    """The ceiling lies in (last_pass, first_fail]; either end may be unknown (None)."""

    last_pass: int | None
    first_fail: int | None

    @property
    def width(self) -> float | None:
        if self.last_pass is None or self.first_fail is None:
            return None
        return (self.first_fail - self.last_pass) / self.last_pass


def holds_in_a_row(levels: Sequence[JudgedLevel]) -> int:
    """How many of the last levels were the same users, each cut short (0: the last was not)."""
    n = 0
    for lv in reversed(levels):
        if not lv.cut_short or lv.users != levels[-1].users:
            break
        n += 1
    return n


def rehold_due(levels: Sequence[JudgedLevel], max_reholds: int = MAX_REHOLDS) -> bool:
    """The last level was cut short and may be held again (held at most 1 + max_reholds times)."""
    return 0 < holds_in_a_row(levels) <= max_reholds


def counted(levels: Sequence[JudgedLevel]) -> list[JudgedLevel]:
    """The levels a bracket counts: a cut-short level that was held again later is superseded."""
    return [
        lv
        for i, lv in enumerate(levels)
        if not (lv.cut_short and any(later.users == lv.users for later in levels[i + 1 :]))
    ]


def bracket_of(levels: Sequence[JudgedLevel]) -> Bracket:
    """Lowest non-passing level, and the highest passing level below it (superseded skipped)."""
    levels = counted(levels)
    fails = [lv.users for lv in levels if lv.verdict != "pass"]
    first_fail = min(fails) if fails else None
    passes = [
        lv.users
        for lv in levels
        if lv.verdict == "pass" and (first_fail is None or lv.users < first_fail)
    ]
    return Bracket(max(passes) if passes else None, first_fail)


def next_level(
    levels: Sequence[JudgedLevel],
    start: float,
    maximum: float,
    step_factor: float,
    resolution: float,
    max_reholds: int = MAX_REHOLDS,
) -> int | None:
    """The next level (users) to hold, or None when the search is done."""
    start_i = max(1, round(start))
    max_i = max(start_i, round(maximum))
    if not levels:
        return start_i
    if rehold_due(levels, max_reholds):
        return levels[-1].users
    b = bracket_of(levels)
    if b.first_fail is None:
        top = max(lv.users for lv in levels)
        if top >= max_i:
            return None  # held everything up to the cap: the ceiling is above the search range
        return min(max_i, max(top + 1, math.floor(top * step_factor)))
    if b.last_pass is None:
        lower = math.floor(b.first_fail / step_factor)
        if lower < 1 or lower >= b.first_fail:
            return None  # even one user fails
        return lower
    if b.first_fail - b.last_pass <= 1 or (b.width or 0) <= resolution:
        return None
    mid = (b.last_pass + b.first_fail) // 2
    return mid if b.last_pass < mid < b.first_fail else None


# -- the runtime ---------------------------------------------------------------------------------


@dataclass
class SearchProgram:
    """Step-to-break played: hold each level (settle, then a judged window), pick the next, stop.

    A level cut short by a lost worker is held again once the survivors run its users (at most
    ``max_reholds`` times), as a new window labelled ``level-N (again)``.
    """

    search: ResolvedSearch
    judge: Judge
    #: Extra time after a window before judging it: answers still in flight must land first.
    judge_delay_s: float
    closed_model: bool = False
    max_reholds: int = MAX_REHOLDS
    levels: list[JudgedLevel] = field(default_factory=list)
    summary_key: str | None = "search"
    #: Past its (moving) end the conductor waits this long before cutting the run.
    overrun_s: float = 60.0
    _users: int | None = None
    _level_start_s: float = 0.0
    _done_at_s: float | None = None
    _pending: list[dict[str, Any]] = field(default_factory=list)
    _judged: list[Judgement] = field(default_factory=list)
    _labels: list[str] = field(default_factory=list)
    #: Label of the level being held now.
    _label: str = "level-1"
    #: Since when a re-hold has been waiting for the lost users to run again (None: not waiting).
    _awaiting_since_s: float | None = None
    _gave_up: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = self.search
        self._users = next_level([], s.start_users, s.max_users, s.step_factor, s.resolution)

    @property
    def end_s(self) -> float:
        if self._done_at_s is not None:
            return self._done_at_s
        s = self.search
        # Every re-hold is a level the search's duration did not budget for.
        reholds = sum(1 for label in self._labels if "(again" in label)
        return s.max_duration_s + 60.0 + reholds * (s.settle_s + s.hold_s + self.judge_delay_s)

    def users_for_tick(self, t_s: float) -> int | None:
        if self._done_at_s is not None or self._users is None:
            return None
        return self._users

    def state_at(self, t_s: float) -> LoadState:
        s = self.search
        return LoadState(
            target_users=float(self._users or 0),
            phase_index=len(self.levels),
            phase_name=self._label,
            mix=dict(s.mix),
            intensity=s.intensity,
            closed_model=self.closed_model,
        )

    def advance(self, t_s: float, t0_ns: int) -> None:
        """Judge the current level once its window and the judge delay have passed."""
        s = self.search
        if self._done_at_s is not None or self._users is None:
            return
        if self._awaiting_since_s is not None:
            # A re-hold's window starts once the lost users run again, or after one level's
            # time without them (then it is cut short again and counts against the limit).
            if not self.judge.load_restored() and t_s - self._awaiting_since_s < s.hold_s:
                return
            self._awaiting_since_s = None
            self._level_start_s = t_s
        win_start = self._level_start_s + s.settle_s
        win_end = win_start + s.hold_s
        if t_s < win_end + self.judge_delay_s:
            return
        label = self._label
        # The hold's length is added in nanoseconds: two float truncations made 5-s holds
        # 4.999999999 s long, and the analysis then called them too short to judge.
        start_ns = t0_ns + round(win_start * 1e9)
        end_ns = start_ns + round(s.hold_s * 1e9)
        j = self.judge(start_ns, end_ns, self._users, label)
        cut_short = bool(j.short_of) and j.verdict == "inconclusive"
        self.levels.append(JudgedLevel(self._users, j.verdict, cut_short))
        self._judged.append(j)
        self._labels.append(label)
        event: dict[str, Any] = {
            "t_ns": end_ns,
            "type": "level",
            "start_ns": start_ns,
            "end_ns": end_ns,
            "target_users": self._users,
            "label": label,
            "verdict": j.verdict,
            "reasons": j.reasons,
        }
        if cut_short:
            event["short_of"] = list(j.short_of)
        self._pending.append(event)
        held_again = rehold_due(self.levels, self.max_reholds)
        if cut_short and not held_again:
            self._give_up(t_s, t0_ns, label, list(j.short_of))
        nxt = next_level(
            self.levels, s.start_users, s.max_users, s.step_factor, s.resolution, self.max_reholds
        )
        if nxt is None:
            self._done_at_s = t_s
            self._users = None
            return
        self._users = nxt
        self._level_start_s = t_s
        if held_again:
            first = self._labels[-holds_in_a_row(self.levels)]
            self._label = _again(first, holds_in_a_row(self.levels))
            self._awaiting_since_s = t_s
        else:
            self._label = f"level-{sum(1 for x in self._labels if '(again' not in x) + 1}"
        phase: dict[str, Any] = {
            "t_ns": t0_ns + int(t_s * 1e9),
            "type": "phase",
            "name": self._label,
            "index": len(self.levels),
            "target_users": nxt,
            "mix": s.mix,
        }
        if held_again:
            phase["again_of"] = label
            phase["reason"] = (
                f"{label} was cut short ({', '.join(j.short_of)} lost during its window): held "
                "again once the survivors run its users"
            )
        self._pending.append(phase)

    def _give_up(self, t_s: float, t0_ns: int, label: str, short_of: list[str]) -> None:
        """The level kept being cut short: it stays inconclusive and the search climbs no higher."""
        holds = holds_in_a_row(self.levels)
        reason = (
            f"{label} was cut short by a lost worker ({', '.join(short_of)}) on each of "
            f"{holds} holds: it stays inconclusive and counts as not passing, so the search "
            "climbs no higher"
        )
        entry = {"label": label, "users": self.levels[-1].users, "holds": holds, "reason": reason}
        self._gave_up.append(entry)
        self._pending.append({"t_ns": t0_ns + int(t_s * 1e9), "type": "rehold_limit", **entry})

    def events_until(self, t_s: float, t0_ns: int) -> list[dict[str, Any]]:
        if not self.levels and not self._pending and t_s >= 0 and self._level_start_s == 0.0:
            self._level_start_s = max(t_s, 0.0)
            self._pending.append(
                {
                    "t_ns": t0_ns,
                    "type": "phase",
                    "name": "level-1",
                    "index": 0,
                    "target_users": self._users,
                    "mix": self.search.mix,
                }
            )
        out, self._pending = self._pending, []
        return out

    def summary(self) -> dict[str, Any] | None:
        s = self.search
        b = bracket_of(self.levels)
        return {
            "levels": [
                {
                    "label": label,
                    "users": lv.users,
                    "verdict": lv.verdict,
                    "reasons": j.reasons,
                    "short_of": list(j.short_of) if lv.cut_short else [],
                }
                for lv, j, label in zip(self.levels, self._judged, self._labels, strict=True)
            ],
            "bracket": {"last_pass": b.last_pass, "first_fail": b.first_fail, "width": b.width},
            "resolution": s.resolution,
            "complete": self._done_at_s is not None,
            "max_reholds": self.max_reholds,
            "gave_up": list(self._gave_up),
        }


def _again(label: str, holds: int) -> str:
    """Label of hold ``holds + 1`` of ``label``: "level-4 (again)", "level-4 (again, hold 3)"."""
    return f"{label} (again)" if holds == 1 else f"{label} (again, hold {holds + 1})"


class StepSearchKind(ProgramKind):
    name = "step_search"
    key = "search"
    plan_key = "search"
    order = 10
    probes = True
    judges_live = True

    def parse(self, f: Field) -> StepSearch:
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
            settle_s=parse_delay(s["settle"]) if "settle" in s else 5.0,
            resolution=s["resolution"].ratio() if "resolution" in s else 0.05,
            mix=parse_mix(s["mix"]) if "mix" in s else {"app_user": 1.0},
            intensity=(
                s["intensity"].number(positive=True, maximum=MAX_FACTOR)
                if "intensity" in s
                else 1.0
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

    def figures(self, config: StepSearch, f: Field) -> list[tuple[UsersExpr, Field]]:
        s = f.fields(SEARCH_KEYS)
        return [(config.start, s["start"]), (config.max_users, s["max"])]

    def resolve(
        self,
        config: StepSearch,
        real: RealUsers,
        source: str,
        time_scale: float,
        user_scale: float,
    ) -> ResolvedSearch:
        start_real = real(config.start, "search.start")
        max_real = real(config.max_users, "search.max")
        if max_real < start_real:
            raise ScenarioError(
                source,
                "search.max",
                f"expected a level >= start ({start_real:,.0f}), got {max_real:,.0f}",
            )
        return ResolvedSearch(
            start_users=start_real * user_scale,
            max_users=max_real * user_scale,
            real_start_users=start_real,
            real_max_users=max_real,
            step_factor=config.step_factor,
            hold_s=config.hold_s * time_scale,
            settle_s=config.settle_s * time_scale,
            resolution=config.resolution,
            mix=dict(config.mix),
            intensity=config.intensity,
        )


KIND = StepSearchKind()
