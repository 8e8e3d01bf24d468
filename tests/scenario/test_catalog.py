"""Built-in scenarios are found by name, all validate, and each is documented at its top."""

import pytest

from surgeproof.scenario import ScenarioError, list_scenarios, load_scenario, resolve
from surgeproof.scenario.catalog import scenarios_dir

BUILT_IN = (
    "martial-law-2024-12-03",
    "step-to-break",
    "post-expansion-hold",
    "reconnect-storm",
    "login-storm",
)


def test_every_built_in_scenario_is_listed_with_a_description():
    listed = dict(list_scenarios())
    for name in BUILT_IN:
        assert name in listed
        assert len(listed[name]) > 20 and "\n" not in listed[name]


@pytest.mark.parametrize("name", BUILT_IN)
def test_built_in_scenarios_resolve_small(name):
    plan = resolve(load_scenario(name), None, time_scale=1 / 240, user_scale=1 / 10_000)
    assert plan.duration_s > 0 and plan.peak_users > 0


@pytest.mark.parametrize("name", BUILT_IN)
def test_built_in_scenarios_say_what_they_model_at_the_top(name):
    header = (scenarios_dir() / f"{name}.yaml").read_text(encoding="utf-8").splitlines()[:6]
    assert header[0].startswith(f"# {name}")
    assert "What it models" in "\n".join(header)


def test_environment_variable_points_at_another_folder(tmp_path, monkeypatch):
    (tmp_path / "mine.yaml").write_text(
        "name: mine\ntimeline:\n  - {phase: a, duration: 1m, users: 5}\n"
    )
    monkeypatch.setenv("SURGEPROOF_SCENARIOS", str(tmp_path))
    assert [n for n, _ in list_scenarios()] == ["mine"]
    assert load_scenario("mine").program.phases[0].users.value == 5


def test_unknown_name_suggests_the_close_one():
    with pytest.raises(ScenarioError, match=r"no such scenario .*did you mean 'login-storm'"):
        load_scenario("login-strom")
