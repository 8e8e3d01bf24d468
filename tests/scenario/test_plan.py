"""A scenario resolved into a Plan: target users at t, phases, steady windows, scales."""

import json

import pytest

from surgeproof.scenario import ScenarioError, load_profile, load_scenario, resolve

TWO_PHASES = """\
name: two
profile: upbit
clock_start: "2024-12-03T22:00:00+09:00"
requirements: ["peak * 1.2"]
timeline:
  - {phase: base, duration: 10m, users: normal * 0.5, ramp: 2m, request_rate: 1000/s}
  - {phase: surge, duration: 20m, users: peak, ramp: 5m, steady: false, reconnect: true}
  - {phase: hold, duration: 10m, users: peak}
"""


@pytest.fixture
def plan(write_yaml):
    return resolve(load_scenario(write_yaml(TWO_PHASES)), None, time_scale=1 / 60, user_scale=1e-3)


def test_phase_times_are_scaled_and_contiguous(plan):
    starts_ends = [t for p in plan.program.phases for t in (p.start_s, p.ramp_end_s, p.end_s)]
    assert starts_ends == pytest.approx([0, 2, 10, 10, 15, 30, 30, 30, 40])
    assert plan.duration_s == pytest.approx(40)


def test_users_are_simulated_and_real_users_kept(plan):
    base, surge, _ = plan.program.phases
    assert base.from_users == 0 and base.users == pytest.approx(250)
    assert base.real_users == 250_000
    assert surge.from_users == pytest.approx(250) and surge.users == pytest.approx(540)
    assert plan.real_users(surge.users) == pytest.approx(540_000)
    assert base.request_rate == pytest.approx(1.0)  # 1000/s real x 1/1000
    assert surge.reconnect and not base.reconnect


def test_target_users_ramps_then_holds(plan):
    assert plan.program.target_users(-1) == 0
    assert plan.program.target_users(0) == 0
    assert plan.program.target_users(1) == pytest.approx(125)  # half-way up the 2 s ramp
    assert plan.program.target_users(5) == pytest.approx(250)
    assert plan.program.target_users(12.5) == pytest.approx(250 + (540 - 250) / 2)
    assert plan.program.target_users(35) == pytest.approx(540)
    assert plan.program.target_users(40) == 0  # the plan is over


def test_fractional_users_stay_fractional(write_yaml):
    text = "name: f\ntimeline:\n  - {phase: a, duration: 100s, users: 3, ramp: 100s}\n"
    plan = resolve(load_scenario(write_yaml(text)), None, user_scale=1.0)
    assert plan.program.target_users(50) == pytest.approx(1.5)


def test_phase_at_finds_the_running_phase(plan):
    assert plan.program.phase_at(0).name == "base"
    assert plan.program.phase_at(9.99).name == "base"
    assert plan.program.phase_at(10).name == "surge"
    assert plan.program.phase_at(39.9).name == "hold"
    assert plan.program.phase_at(40) is None


def test_steady_windows_are_the_hold_parts_of_steady_phases(plan):
    windows = plan.steady_windows()
    assert [w[3] for w in windows] == ["base", "hold"]
    assert [x for w in windows for x in w[:3]] == pytest.approx([2, 10, 250, 30, 40, 540])


def test_requirements_resolve_against_the_profile(plan):
    (req,) = plan.requirements
    assert req.real_users == pytest.approx(648_000) and req.users == pytest.approx(648)


def test_another_profile_rescales_the_same_scenario(write_yaml):
    s = load_scenario(write_yaml(TWO_PHASES))
    plan = resolve(s, load_profile("coinone"))
    assert plan.program.phases[1].real_users == 370_000
    assert any("concurrent orders" in a for a in plan.assumptions)


def test_clock_time_maps_back_to_the_night(plan):
    assert plan.clock_time(10).isoformat() == "2024-12-03T22:10:00+09:00"


def test_to_dict_is_json_and_states_the_scale(plan):
    d = json.loads(json.dumps(plan.to_dict()))
    assert d["time_scale"] == pytest.approx(1 / 60) and d["user_scale"] == 1e-3
    assert d["profile"]["figures"]["peak"]["value"] == 540_000
    assert [p["name"] for p in d["phases"]] == ["base", "surge", "hold"]
    assert any("1000 real users" in a for a in d["assumptions"])


def test_arrival_rate_sets_the_ramp(write_yaml):
    text = "name: a\ntimeline:\n  - {phase: a, duration: 10m, users: 6000, arrival_rate: 100/s}\n"
    plan = resolve(load_scenario(write_yaml(text)), None, time_scale=0.5)
    assert plan.program.phases[0].ramp_end_s == pytest.approx(30)  # 60 s real at half time


def test_arrival_rate_too_slow_for_the_phase_is_refused(write_yaml):
    text = "name: a\ntimeline:\n  - {phase: a, duration: 1m, users: 6000, arrival_rate: 10/s}\n"
    with pytest.raises(ScenarioError, match=r"timeline\[0\]\.arrival_rate: .* takes 600s"):
        resolve(load_scenario(write_yaml(text)))


def test_a_figure_without_a_profile_is_refused_at_resolve(write_yaml):
    text = "name: a\ntimeline:\n  - {phase: a, duration: 1m, users: peak}\n"
    with pytest.raises(ScenarioError, match=r"timeline\[0\]\.users: uses figure 'peak'"):
        resolve(load_scenario(write_yaml(text)))


def test_a_figure_missing_from_an_explicit_profile_is_refused(write_yaml, tmp_path):
    prof = tmp_path / "tiny.yaml"
    prof.write_text(
        "name: tiny\nfigures:\n  normal: {value: 10, unit: concurrent users, source: t}\n"
    )
    s = load_scenario(write_yaml(TWO_PHASES))
    with pytest.raises(
        ScenarioError, match=r"timeline\[1\]\.users: expected a figure of profile tiny"
    ):
        resolve(s, load_profile(prof))


@pytest.mark.parametrize("bad", [0, -1, float("nan")])
def test_scales_must_be_positive(plan, bad):
    with pytest.raises(ScenarioError, match="time_scale"):
        resolve(plan.scenario, None, time_scale=bad)


def test_step_search_resolves_to_levels_not_phases():
    plan = resolve(load_scenario("step-to-break"), None, time_scale=1 / 24, user_scale=1e-3)
    s = plan.program
    assert s.kind == "step_search" and s.steady_windows() == []
    assert s.start_users == pytest.approx(50) and s.max_users == pytest.approx(1350)
    assert s.real_max_users == 1_350_000
    assert s.hold_s == pytest.approx(300 / 24) and s.settle_s == pytest.approx(60 / 24)
    # coarse: 50 * 1.5^k reaches 1350 at k = 9 → 10 levels; bisection from 50% to 5%: 4 more
    assert s.max_levels == 14
    assert plan.duration_s == pytest.approx(14 * (300 + 60) / 24)
    assert plan.peak_users == s.max_users


def test_martial_law_night_peaks_at_the_profile_peak_during_panic():
    plan = resolve(
        load_scenario("martial-law-2024-12-03"), None, time_scale=1 / 24, user_scale=1e-3
    )
    peak_users = max(p.users for p in plan.program.phases)
    assert peak_users == pytest.approx(540)
    peak_phase = max(plan.program.phases, key=lambda p: p.users)
    assert peak_phase.name.startswith("panic")
    assert peak_phase.retry is not None and peak_phase.sell_bias > 0.5
    # the shock starts at 22:23 KST on the night's clock
    shock = next(p for p in plan.program.phases if p.name.startswith("shock"))
    assert plan.clock_time(shock.start_s).strftime("%H:%M") == "22:23"
    assert 120 <= plan.duration_s * 24 / 60 <= 180  # two to three hours uncompressed
