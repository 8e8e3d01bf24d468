"""Recovery time objective: every fault recovered (SLOs held again) within a duration."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from surgeproof.analysis.run import analyze_run
from surgeproof.cli import main
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.model import Requirement, Slo
from surgeproof.scenario.requirements import Recovery, kind_of

from .test_requirements import evidence, parse

sys.path.insert(0, str(Path(__file__).parents[1] / "report"))
sys.path.insert(0, str(Path(__file__).parents[1] / "analysis"))
from faults import drill_run
from stepruns import write_step_run

RTO = kind_of("rto")
TWO_MINUTES = Requirement(kind="rto", options=(("rto_s", 120.0),))


@pytest.mark.parametrize("written", ["rto: 2m", "rto: 120s", {"rto": 120}])
def test_the_objective_is_a_duration(written):
    assert parse(written) == TWO_MINUTES
    assert str(TWO_MINUTES) == "rto: 2m"


def test_an_objective_that_is_not_a_duration_is_one_line_naming_the_field():
    with pytest.raises(ScenarioError, match=re.escape("requirements[0]: expected a duration")):
        parse("rto: soon")


def judge(recovery: Recovery | None):
    return RTO.judge(TWO_MINUTES, replace(evidence(), recovery=recovery))


def test_met_when_the_slowest_recovery_is_within_the_objective():
    j = judge(Recovery(2, 90.0, "target down at t=60 s"))
    assert (j.status, j.measured, j.limit) == (
        "pass",
        "slowest recovery 90.0 s (target down at t=60 s)",
        "<= 2m",
    )


def test_not_met_when_a_fault_took_longer_or_stayed_down_longer():
    late = judge(Recovery(1, 150.0, "target down at t=60 s"))
    assert (late.status, late.note) == ("fail", "target down at t=60 s took 150.0 s")
    stuck = judge(Recovery(2, 30.0, "gateway 0 down at t=10 s", 1, 400.0))
    assert stuck.status == "fail"
    assert stuck.measured.endswith("; 1 of 2 faults not recovered")


def test_not_demonstrated_when_the_run_ended_before_a_down_fault_used_up_the_objective():
    j = judge(Recovery(1, None, "", unrecovered=1, unrecovered_for_s=45.0))
    assert j.status == "inconclusive"
    assert j.note.startswith("the run ended 45.0 s after a fault that had not recovered")


def test_not_applicable_without_a_fault():
    j = judge(Recovery(0, None, ""))
    assert (j.status, j.measured) == ("not_applicable", "no fault")
    assert judge(None).note == "the input records no faults"


def test_the_gate_judges_the_recovery_of_a_drilled_fault(tmp_path, capsys):
    # The exchange stalled from 6 s to 9 s of a 20 s hold; the fault began at 6 s. Its RTO is
    # the analysis' per-fault figure, which the requirement reads and nothing else decides.
    run = tmp_path / "drill"
    drill_run(run)
    analysis = analyze_run(run, slos=[Slo("*", "p99", 500.0)])
    (run / "analysis.json").write_text(json.dumps(analysis))
    rto = analysis["recovery"]["faults"][0]["rto"]["rto_s"]
    assert rto is not None and rto > 3.0  # at least the stall
    above, below = f"rto: {rto + 1:.0f}s", f"rto: {rto - 1:.0f}s"
    args = ["gate", str(run), "--no-scenario"]
    assert main([*args, "--require", above]) == 0
    out = capsys.readouterr().out
    assert (
        f"PASS  recovery time objective: every fault recovered within {rto + 1:.0f}s: measured "
        f"slowest recovery {rto:,.1f} s (failover (command) at t=6 s)"
    ) in out
    assert main([*args, "--require", below]) == 1
    assert f"failover (command) at t=6 s took {rto:,.1f} s" in capsys.readouterr().out
    # Without a fault there is nothing to judge: skipped, neither passing nor failing the gate.
    quiet = write_step_run(tmp_path / "quiet")
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    args = ["--require", "rto: 1s", "--junit", str(junit), "--summary", str(summary)]
    assert main(["gate", str(quiet), "--no-scenario", *args]) == 0
    assert "SKIP  recovery time objective" in capsys.readouterr().out
    assert 'skipped="1"' in junit.read_text() and "<skipped " in junit.read_text()
    assert summary.read_text().startswith(
        "## ✅ surgeproof gate passed: 0 requirements hold, 1 not applicable"
    )
