"""The timeline program: users and phase at every instant, phase starts and steady windows."""

from __future__ import annotations

import pytest

from surgeproof.scenario import load_scenario, resolve
from surgeproof.scenario.programs.timeline import TimelineProgram

TWO_PHASES = """\
name: two
timeline:
  - {phase: ramp-up, duration: 10s, users: 100, ramp: 10s, steady: false}
  - {phase: hold, duration: 20s, users: 100, reconnect: true, mix: {app_user: 1}}
"""
T0 = 1_700_000_000_000_000_000


@pytest.fixture
def program(write_yaml) -> TimelineProgram:
    plan = resolve(load_scenario(write_yaml(TWO_PHASES)))
    return plan.program.runtime(judge=None, judge_delay_s=0.0, closed_model=False)


def test_users_are_asked_one_second_ahead_and_end_with_the_timeline(program):
    assert program.users_for_tick(0.0) == 10  # the ramp at 1 s
    assert program.users_for_tick(5.0) == 60
    assert program.users_for_tick(29.5) == 100
    assert program.users_for_tick(30.0) is None and program.end_s == 30.0


def test_the_state_is_the_phase_running_with_its_mix_and_reconnects(program):
    first, second = program.state_at(2.0), program.state_at(12.0)
    assert (first.phase_name, first.target_users, first.reconnect_epoch) == ("ramp-up", 20.0, 0)
    assert (second.phase_name, second.mix, second.reconnect_epoch) == ("hold", {"app_user": 1}, 1)


def test_each_phase_start_and_each_steady_window_is_reported_once(program):
    early = program.events_until(0.0, T0)
    assert [(e["type"], e["name"]) for e in early] == [("phase", "ramp-up")]
    later = program.events_until(30.0, T0) + program.events_until(31.0, T0)
    assert [e["type"] for e in later] == ["phase", "level"]
    [level] = [e for e in later if e["type"] == "level"]
    assert (level["label"], level["start_ns"], level["end_ns"]) == (
        "hold",
        T0 + 10**10,
        T0 + 3 * 10**10,
    )
    assert program.summary() is None
