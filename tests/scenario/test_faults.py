"""A scenario's ``faults:``: what breaks when, in scenario time; one line naming the field when
an entry cannot be played."""

from __future__ import annotations

import pytest
import yaml

from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.parse import parse_scenario

BASE = """\
name: drill
timeline:
  - {phase: night, duration: 1h, users: 10}
"""


def parse(faults: str):
    return parse_scenario(yaml.safe_load(BASE + "faults:\n" + faults), "drill.yaml").faults


def test_each_kind_of_fault_in_scenario_time():
    faults = parse(
        "  - {name: failover, at: 30m, command: ./failover.sh --to 'standby b', timeout: 2m}\n"
        "  - {at: 35m, command: [kubectl, delete, pod, -l, app=matching]}\n"
        "  - {at: 40m, shell: 'kill -STOP $PID && sleep 5'}\n"
        "  - {at: 45m, target_outage: 3m}\n"
        "  - {at: 50m, gateway_crash: 1}\n"
        "  - {at: 55m, stall: 10s}\n"
    )
    f = faults[0]
    assert (f.name, f.kind, f.at_s, f.timeout_s) == ("failover", "command", 1800.0, 120.0)
    assert f.argv == ("./failover.sh", "--to", "standby b") and f.shell is None
    assert faults[1].argv == ("kubectl", "delete", "pod", "-l", "app=matching")
    assert faults[1].name == "fault-2" and faults[1].timeout_s == 300.0
    assert faults[2].shell == "kill -STOP $PID && sleep 5" and faults[2].argv == ()
    assert (faults[3].kind, faults[3].seconds) == ("target-outage", 180.0)
    assert (faults[4].kind, faults[4].gateway) == ("gateway-crash", 1)
    assert (faults[5].kind, faults[5].seconds) == ("stall", 10.0)


@pytest.mark.parametrize(
    ("faults", "field", "says"),
    [
        ("  - {at: 5m}\n", "faults[0]", "exactly one of command, shell"),
        ("  - {at: 5m, command: x, stall: 1s}\n", "faults[0]", "exactly one of"),
        ("  - {command: x}\n", "faults[0].at", "required"),
        ("  - {at: soon, command: x}\n", "faults[0].at", "a duration"),
        ("  - {at: -5m, command: x}\n", "faults[0].at", "not before it"),
        ("  - {at: 5m, command: ''}\n", "faults[0].command", "a command"),
        ("  - {at: 5m, command: \"echo 'open\"}\n", "faults[0].command", "cannot split"),
        ("  - {at: 5m, stall: 1s, timeout: 1m}\n", "faults[0].timeout", "only a command"),
        ("  - {at: 5m, gateway_crash: -1}\n", "faults[0].gateway_crash", ">= 0"),
        ("  - {at: 5m, command: x, timeout: 48h}\n", "faults[0].timeout", "at most"),
        ("  - {name: a, at: 5m, command: x}\n  - {name: a, at: 6m, command: y}\n",
         "faults[1].name", "a second fault named 'a'"),
        ("  - {at: 5m, comand: x}\n", "faults[0].comand", "did you mean 'command'"),
    ],
)  # fmt: skip
def test_a_fault_that_cannot_be_played_is_one_line_naming_its_field(faults, field, says):
    with pytest.raises(ScenarioError) as err:
        parse(faults)
    text = str(err.value)
    assert f"drill.yaml: {field}" in text and says in text and "\n" not in text
