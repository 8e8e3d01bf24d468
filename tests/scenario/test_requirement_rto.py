"""Recovery time objective: every fault recovered (SLOs held again) within a duration."""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from surgeproof.cli import main
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.model import Requirement
from surgeproof.scenario.requirements import Recovery, kind_of

from .test_requirements import evidence, parse

sys.path.insert(0, str(Path(__file__).parents[1] / "report"))
from faultruns import write_fault_run
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


def test_the_gate_judges_the_recovery_of_an_injected_outage(tmp_path, capsys):
    # The exchange was killed at 15 s and back at 16.5 s; the window from 17 s held the SLOs.
    run = write_fault_run(tmp_path / "faults")
    assert main(["gate", str(run), "--no-scenario", "--require", "rto: 5s"]) == 0
    out = capsys.readouterr().out
    assert (
        "PASS  recovery time objective: every fault recovered within 5s: measured slowest "
        "recovery 2.0 s (target down at t=15 s), limit <= 5s; source: your business-continuity"
    ) in out
    assert main(["gate", str(run), "--no-scenario", "--require", "rto: 1s"]) == 1
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
