"""One schedule for every fault of a run: scenario faults and fault commands in scenario time
(scaled like the timeline), the embedded exchange's injections in run seconds, in time order;
refused before the run when they cannot be played."""

from __future__ import annotations

import pytest

from surgeproof.errors import UserError
from surgeproof.load.fault_command import CommandSpec
from surgeproof.load.fault_schedule import check_faults, planned_faults
from surgeproof.load.options import RunOptions
from surgeproof.scenario.faults import FaultSpec


def test_every_fault_on_one_schedule_scenario_times_scaled_injections_as_given():
    opts = RunOptions(
        scenario="x",
        fault_commands=[(1800.0, CommandSpec(argv=("./failover.sh",)))],
        fault_timeout_s=90.0,
        outages=[(5.0, 2.0)],
        gateway_crashes=[(40.0, 1)],
        stalls=[(60.0, 3.0)],
    )
    scenario = (
        FaultSpec(600.0, "command", "drain", shell="kubectl drain node-1", timeout_s=30.0),
        FaultSpec(1200.0, "target-outage", "crash", seconds=120.0),
    )
    faults = planned_faults(opts, 1 / 60, scenario)
    got = [(f.index, f.name, f.kind, f.at_s) for f in faults]
    assert got == [
        (0, "fault-1", "target-outage", 5.0),  # --inject-* in run seconds, as always
        (1, "drain", "command", 10.0),  # 10 min of scenario at 1/60
        (2, "crash", "target-outage", 20.0),
        (3, "fault-4", "command", 30.0),  # --fault-command 30m
        (4, "fault-5", "gateway-crash", 40.0),
        (5, "fault-6", "stall", 60.0),
    ]
    assert faults[2].seconds == 2.0  # the outage's length is scenario time too: 120 s / 60
    assert faults[1].command == CommandSpec(shell="kubectl drain node-1")
    assert faults[1].timeout_s == 30.0 and faults[3].timeout_s == 90.0  # timeouts: real time
    assert faults[3].origin == "--fault-command ./failover.sh"
    start = faults[1].start_fields()
    assert start["shell"] == "kubectl drain node-1" and start["fault"] == 1
    assert start["origin"] == "scenario faults[0] drain"


def test_a_fault_after_the_end_or_an_outage_of_a_target_not_started_here_is_refused():
    opts = RunOptions(scenario="x", fault_commands=[(600.0, CommandSpec(argv=("x",)))])
    [late] = planned_faults(opts, 1.0)
    with pytest.raises(UserError, match="at 600 s the run is over"):
        check_faults([late], 300.0, None)
    check_faults([late], 900.0, "http://staging.example")  # a command may drill any target
    outage = planned_faults(RunOptions(scenario="x", outages=[(5.0, 1.0)]), 1.0)
    with pytest.raises(UserError, match="not with --target"):
        check_faults(outage, 900.0, "http://127.0.0.1:9")
