"""What the conductor plays: a timeline from the plan, or a step search judged level by level."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from surgeproof.load.state import LoadState
from surgeproof.load.step_search import JudgedLevel, bracket_of, next_level
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
                        "t_ns": t0_ns + int(p.end_s * 1e9),
                        "type": "level",
                        "start_ns": t0_ns + int(p.ramp_end_s * 1e9),
                        "end_ns": t0_ns + int(p.end_s * 1e9),
                        "target_users": p.users,
                        "label": p.name,
                    }
                )
        return out

    def summary(self) -> dict[str, Any] | None:
        return None


#: judge(start_ns, end_ns, users, label) -> (verdict, reasons)
Judge = Callable[[int, int, int, str], tuple[str, list[str]]]


@dataclass
class SearchProgram:
    """Step-to-break: hold each level (settle, then a judged window), pick the next, stop."""

    plan: Plan
    judge: Judge
    #: Extra time after a window before judging it: answers still in flight must land first.
    judge_delay_s: float
    closed_model: bool = False
    levels: list[JudgedLevel] = field(default_factory=list)
    _users: int | None = None
    _level_start_s: float = 0.0
    _done_at_s: float | None = None
    _pending: list[dict[str, Any]] = field(default_factory=list)
    _reasons: list[list[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = self.plan.search
        assert s is not None
        self._users = next_level([], s.start_users, s.max_users, s.step_factor, s.resolution)

    @property
    def end_s(self) -> float:
        return self._done_at_s if self._done_at_s is not None else self.plan.duration_s + 60.0

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
            phase_name=f"level-{len(self.levels) + 1}",
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
        win_start = self._level_start_s + s.settle_s
        win_end = win_start + s.hold_s
        if t_s < win_end + self.judge_delay_s:
            return
        label = f"level-{len(self.levels) + 1}"
        start_ns, end_ns = t0_ns + int(win_start * 1e9), t0_ns + int(win_end * 1e9)
        verdict, reasons = self.judge(start_ns, end_ns, self._users, label)
        self.levels.append(JudgedLevel(self._users, verdict))
        self._reasons.append(reasons)
        self._pending.append(
            {
                "t_ns": end_ns,
                "type": "level",
                "start_ns": start_ns,
                "end_ns": end_ns,
                "target_users": self._users,
                "label": label,
                "verdict": verdict,
                "reasons": reasons,
            }
        )
        nxt = next_level(self.levels, s.start_users, s.max_users, s.step_factor, s.resolution)
        if nxt is None:
            self._done_at_s = t_s
            self._users = None
        else:
            self._users = nxt
            self._level_start_s = t_s
            self._pending.append(
                {
                    "t_ns": t0_ns + int(t_s * 1e9),
                    "type": "phase",
                    "name": f"level-{len(self.levels) + 1}",
                    "index": len(self.levels),
                    "target_users": nxt,
                    "mix": s.mix,
                }
            )

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
                {"users": lv.users, "verdict": lv.verdict, "reasons": r}
                for lv, r in zip(self.levels, self._reasons, strict=True)
            ],
            "bracket": {"last_pass": b.last_pass, "first_fail": b.first_fail, "width": b.width},
            "resolution": s.resolution,
            "complete": self._done_at_s is not None,
        }
