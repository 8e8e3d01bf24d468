"""What the conductor plays: a timeline from the plan, or a step search judged level by level."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from surgeproof.load.judge import Judgement
from surgeproof.load.state import LoadState
from surgeproof.load.step_search import (
    MAX_REHOLDS,
    JudgedLevel,
    bracket_of,
    holds_in_a_row,
    next_level,
    rehold_due,
)
from surgeproof.scenario.plan import Plan

#: How far ahead the shape looks: users for [t, t+1) are spawned at t and spread over the second.
LOOKAHEAD_S = 1.0


@dataclass
class TimelineProgram:
    """A scenario timeline: target users and phase from the plan at every instant."""

    plan: Plan
    closed_model: bool = False
    _emitted_phases: set[int] = field(default_factory=set)
    _emitted_levels: set[int] = field(default_factory=set)

    @property
    def end_s(self) -> float:
        return self.plan.duration_s

    def users_for_tick(self, t_s: float) -> int | None:
        if t_s >= self.end_s:
            return None
        return round(self.plan.target_users(min(t_s + LOOKAHEAD_S, self.end_s - 1e-6)))

    def state_at(self, t_s: float) -> LoadState:
        phase = self.plan.phase_at(max(t_s, 0.0)) or self.plan.phases[-1]
        epoch = sum(1 for p in self.plan.phases if p.reconnect and p.start_s <= t_s)
        return LoadState(
            target_users=self.plan.target_users(t_s),
            phase_index=phase.index,
            phase_name=phase.name,
            mix=dict(phase.mix),
            intensity=phase.intensity,
            sell_bias=phase.sell_bias,
            retry=phase.retry,
            reconnect_epoch=epoch,
            closed_model=self.closed_model,
        )

    def events_until(self, t_s: float, t0_ns: int) -> list[dict[str, Any]]:
        """Phase starts and completed steady windows up to ``t_s`` not reported yet."""
        out: list[dict[str, Any]] = []
        for p in self.plan.phases:
            if p.start_s <= t_s and p.index not in self._emitted_phases:
                self._emitted_phases.add(p.index)
                out.append(
                    {
                        "t_ns": t0_ns + int(p.start_s * 1e9),
                        "type": "phase",
                        "name": p.name,
                        "index": p.index,
                        "target_users": p.from_users,
                        "mix": p.mix,
                    }
                )
            if (
                p.steady
                and p.end_s > p.ramp_end_s
                and p.end_s <= t_s
                and p.index not in self._emitted_levels
            ):
                self._emitted_levels.add(p.index)
                out.append(
                    {
                        "t_ns": t0_ns + round(p.end_s * 1e9),
                        "type": "level",
                        "start_ns": t0_ns + round(p.ramp_end_s * 1e9),
                        "end_ns": t0_ns + round(p.end_s * 1e9),
                        "target_users": p.users,
                        "label": p.name,
                    }
                )
        return out

    def summary(self) -> dict[str, Any] | None:
        return None


class Judge(Protocol):
    """Judges a level's window of the running run, and says when lost users run again."""

    def __call__(self, start_ns: int, end_ns: int, users: int, label: str) -> Judgement: ...

    def load_restored(self) -> bool: ...


@dataclass
class SearchProgram:
    """Step-to-break: hold each level (settle, then a judged window), pick the next, stop.

    A level cut short by a lost worker is held again once the survivors run its users (at most
    ``max_reholds`` times), as a new window labelled ``level-N (again)``.
    """

    plan: Plan
    judge: Judge
    #: Extra time after a window before judging it: answers still in flight must land first.
    judge_delay_s: float
    closed_model: bool = False
    max_reholds: int = MAX_REHOLDS
    levels: list[JudgedLevel] = field(default_factory=list)
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
        s = self.plan.search
        assert s is not None
        self._users = next_level([], s.start_users, s.max_users, s.step_factor, s.resolution)

    @property
    def end_s(self) -> float:
        if self._done_at_s is not None:
            return self._done_at_s
        s = self.plan.search
        assert s is not None
        # Every re-hold is a level the plan's duration did not budget for.
        reholds = sum(1 for label in self._labels if "(again" in label)
        return self.plan.duration_s + 60.0 + reholds * (s.settle_s + s.hold_s + self.judge_delay_s)

    def users_for_tick(self, t_s: float) -> int | None:
        if self._done_at_s is not None or self._users is None:
            return None
        return self._users

    def state_at(self, t_s: float) -> LoadState:
        s = self.plan.search
        assert s is not None
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
        s = self.plan.search
        assert s is not None
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
            s = self.plan.search
            assert s is not None
            self._pending.append(
                {
                    "t_ns": t0_ns,
                    "type": "phase",
                    "name": "level-1",
                    "index": 0,
                    "target_users": self._users,
                    "mix": s.mix,
                }
            )
        out, self._pending = self._pending, []
        return out

    def summary(self) -> dict[str, Any] | None:
        s = self.plan.search
        assert s is not None
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
