"""Scenario files: what is accepted, and the one-line error for each kind of mistake."""

import pytest

from surgeproof.scenario import ScenarioError, UsersExpr, load_scenario

GOOD = """\
name: good
description: A small scenario.
profile: upbit
clock_start: "2024-12-03T22:00:00+09:00"
slos:
  - {group: login, p99: 800ms, error_ratio: 1%}
  - {group: "*", p95: 1.5s}
requirements: ["peak * 1.2", "1.1 * expanded"]
timeline:
  - phase: base
    duration: 1h30m
    users: normal * 0.6
    ramp: 2m
    mix: {market_watcher: 0.7, app_user: 0.25, api_bot: 0.05}
  - phase: storm
    duration: 90
    users: 1200
    arrival_rate: 500/s
    mix: {app_user: 1}
    intensity: 2
    sell_bias: 0.9
    retry: {max_attempts: 4, backoff: 0s}
    reconnect: true
    steady: false
    request_rate: 30000/min
"""


def test_a_full_scenario_reads_into_records(write_yaml):
    s = load_scenario(write_yaml(GOOD))
    assert s.name == "good"
    assert s.profile == "upbit"
    assert [p.name for p in s.program.phases] == ["base", "storm"]
    base, storm = s.program.phases
    assert base.duration_s == 5400 and base.ramp_s == 120
    assert base.users == UsersExpr(0.6, "normal")
    assert storm.users == UsersExpr(1200.0)
    assert storm.arrival_rate == 500 and storm.request_rate == 500
    assert storm.retry.max_attempts == 4 and storm.retry.backoff_s == 0
    assert storm.reconnect and not storm.steady and storm.sell_bias == 0.9
    assert [(x.group, x.metric, x.limit) for x in s.slos] == [
        ("login", "p99", 800.0),
        ("login", "error_ratio", 0.01),
        ("*", "p95", 1500.0),
    ]
    assert [(r.figure, r.factor) for r in s.requirements] == [("peak", 1.2), ("expanded", 1.1)]
    assert s.clock_start == "2024-12-03T22:00:00+09:00"
    assert s.program.duration_s == 5490


def _phase(extra: str = "", users: str = "100", duration: str = "5m") -> str:
    return f"name: x\ntimeline:\n  - {{phase: a, duration: {duration}, users: {users}{extra}}}\n"


MISTAKES = [
    (
        _phase(", durration: 5m"),
        r"timeline\[0\]\.durration: unknown key; did you mean 'duration'\?",
    ),
    (
        _phase(duration="-5m"),
        r"timeline\[0\]\.duration: expected a duration .* greater than 0, got '-5m'",
    ),
    (
        _phase(duration="0"),
        r"timeline\[0\]\.duration: expected .* greater than 0, got 0",
    ),
    (
        _phase(", mix: {app_user: 0.5, api_bot: 0.4}"),
        r"timeline\[0\]\.mix: shares must sum to 1, got 0\.9",
    ),
    (
        _phase(", mix: {market_wacher: 1}"),
        r"timeline\[0\]\.mix\.market_wacher: unknown behaviour; did you mean 'market_watcher'",
    ),
    (
        _phase(", ramp: 6m"),
        r"timeline\[0\]\.ramp: ramp is longer than the phase's duration",
    ),
    (
        _phase(users="[1, 2]"),
        r"timeline\[0\]\.users: expected a number of users .*, got a list",
    ),
    (
        _phase(users="'lots of'"),
        r"timeline\[0\]\.users: expected .*, got 'lots of'",
    ),
    (
        _phase(", steady: maybe"),
        r"timeline\[0\]\.steady: expected true or false, got 'maybe'",
    ),
    (
        _phase(", ramp: 1m, arrival_rate: 5/s"),
        r"timeline\[0\]: give either 'ramp' or 'arrival_rate'",
    ),
    (
        _phase(", retry: {max_attempts: 0}"),
        r"timeline\[0\]\.retry\.max_attempts: expected a whole number >= 1",
    ),
    (
        "name: x\nprofile: upbitt\n" + _phase()[8:],
        r"profile: expected a known profile .*did you mean 'upbit'",
    ),
    (
        "name: x\nprofile: upbit\n" + _phase(users="peek * 2")[8:],
        r"timeline\[0\]\.users: expected a figure of profile upbit \(normal, peak, expanded\), "
        r"got 'peek \* 2'",
    ),
    (
        "name: x\nslos: [{group: logins, p99: 1s}]\n" + _phase()[8:],
        r"slos\[0\]\.group: expected one of login, .* or '\*', got 'logins'",
    ),
    (
        "name: x\nslos: [{group: login, p98: 1s}]\n" + _phase()[8:],
        r"slos\[0\]\.p98: unknown key; did you mean 'p99'",
    ),
    (
        "name: x\nslos: [{group: login}]\n" + _phase()[8:],
        r"slos\[0\]: expected at least one of p50",
    ),
    (
        "name: x\nslos: [{group: '*', error_ratio: 2}]\n" + _phase()[8:],
        r"slos\[0\]\.error_ratio: expected a ratio between 0 and 1",
    ),
    (
        "name: x\nmodel: half-open\n" + _phase()[8:],
        r"model: expected open or closed, got 'half-open'",
    ),
    (
        "name: x\nclock_start: '22:00'\n" + _phase()[8:],
        r"clock_start: expected an ISO 8601 time",
    ),
    (
        "name: x\nclock_start: '2024-12-03T22:00:00'\n" + _phase()[8:],
        r"clock_start: .*offset is missing",
    ),
    (
        "name: x\ntimeline: []\n",
        r"timeline: expected at least one phase",
    ),
    (
        "name: x\n",
        r"expected exactly one of 'timeline' or 'search' \(the load program\)",
    ),
    (
        "timeline: []\n",
        r"name: required, missing",
    ),
    (
        "- 1\n- 2\n",
        r"s\.yaml: expected a mapping, got a list",
    ),
    (
        "name: x\nsearch: {start: 10, max: 5}\n",
        r"search\.max: expected a level >= start",
    ),
    (
        "name: x\nsearch: {start: 10, max: 50, step_factor: 1}\n",
        r"search\.step_factor: expected a factor greater than 1",
    ),
    (
        "name: x\nrequirements: ['1000']\n" + _phase()[8:],
        r"requirements\[0\]: expected a figure expression",
    ),
    (
        _phase() + "  - {phase: a, duration: 1m, users: 3}\n",
        r"timeline\[1\]\.phase: phase name 'a' used twice",
    ),
]


@pytest.mark.parametrize(("text", "message"), MISTAKES)
def test_mistakes_are_named_by_file_and_field(write_yaml, text, message):
    path = write_yaml(text)
    with pytest.raises(ScenarioError, match=message) as info:
        load_scenario(path)
    assert str(info.value).startswith("s.yaml: ") or str(info.value).startswith(str(path))
    assert "\n" not in str(info.value)


def test_users_forms(write_yaml):
    text = "name: x\nprofile: upbit\ntimeline:\n" + "".join(
        f"  - {{phase: p{i}, duration: 1m, users: {u}}}\n"
        for i, u in enumerate(["540000", "'540000'", "peak", "peak*1.2", "0.5 * expanded", "0"])
    )
    s = load_scenario(write_yaml(text))
    assert [p.users for p in s.program.phases] == [
        UsersExpr(540000.0),
        UsersExpr(540000.0),
        UsersExpr(1.0, "peak"),
        UsersExpr(1.2, "peak"),
        UsersExpr(0.5, "expanded"),
        UsersExpr(0.0),
    ]


def test_a_profile_beside_the_scenario_wins_over_the_built_in(tmp_path, write_yaml):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "upbit.yaml").write_text(
        "name: upbit\nfigures:\n  surge: {value: 7, unit: concurrent users, source: test}\n"
    )
    s = load_scenario(write_yaml("name: x\nprofile: upbit\n" + _phase(users="surge * 2")[8:]))
    assert s.program.phases[0].users == UsersExpr(2.0, "surge")
