"""Load programs: one list, found in their files; each answers what the plan and conductor ask."""

from __future__ import annotations

import json

import pytest

from surgeproof.scenario import load_scenario, resolve
from surgeproof.scenario.parse import SCENARIO_KEYS
from surgeproof.scenario.programs import (
    KEYS,
    KINDS,
    Judgement,
    LoadState,
    kind_of,
    kind_of_run,
)

#: A built-in scenario playing each program.
PLAYING = {"timeline": "martial-law-2024-12-03", "step_search": "step-to-break"}


class PassEverything:
    def __call__(self, start_ns: int, end_ns: int, users: int, label: str) -> Judgement:
        return Judgement("pass", [f"held {users}"])

    def load_restored(self) -> bool:
        return True


def test_every_program_is_found_in_its_file_with_its_own_scenario_key():
    assert [k.name for k in KINDS] == ["timeline", "step_search"]
    assert len(set(KEYS)) == len(KEYS) and set(KEYS) <= set(SCENARIO_KEYS)
    assert [kind_of(k.name) for k in KINDS] == list(KINDS)
    assert set(PLAYING) == {k.name for k in KINDS}  # a new program gets a scenario here too


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_every_program_resolves_and_plays_as_the_conductor_asks(kind):
    scenario = load_scenario(PLAYING[kind.name])
    assert kind_of(scenario.program) is kind
    plan = resolve(scenario, None, time_scale=1 / 60, user_scale=1 / 1000)
    program = plan.program
    assert kind_of(program) is kind
    assert plan.duration_s == program.duration_s > 0 and program.peak_users > 0
    assert plan.behaviours and all(sum(m.values()) == pytest.approx(1) for m in program.mixes())
    assert program.judged_window_lengths() and program.stretches()
    run_json = json.loads(json.dumps(plan.to_dict()))
    assert run_json["program"] == kind.name and kind_of_run(run_json) is kind
    assert program.summary_line() and program.describe(plan)
    runtime = program.runtime(PassEverything(), judge_delay_s=0.5, closed_model=False)
    t0 = 1_700_000_000_000_000_000
    seen_events = []
    for tick in range(int(runtime.end_s * 5) + 50):
        t_s = tick / 5
        runtime.advance(t_s, t0)
        seen_events += runtime.events_until(t_s, t0)
        assert isinstance(runtime.state_at(t_s), LoadState)
        if runtime.users_for_tick(t_s) is None:
            break
    else:
        pytest.fail("the program never ended")
    assert any(e["type"] == "phase" for e in seen_events)
    assert any(e["type"] == "level" for e in seen_events)
    assert runtime.overrun_s > 0
    summary = runtime.summary()
    assert (summary is None) == (runtime.summary_key is None)


def test_old_run_directories_name_their_program_by_what_they_hold():
    assert kind_of_run({"phases": [{"name": "p"}], "search": None}).name == "timeline"
    assert kind_of_run({"phases": [], "search": {"start_users": 1}}).name == "step_search"
    assert kind_of_run({}) is None and kind_of_run(None) is None
