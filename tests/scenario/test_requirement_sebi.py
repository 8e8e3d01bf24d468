"""SEBI: installed capacity >= 1.5x the projected peak; act when utilisation passes 75%."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from surgeproof.cli import main
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.model import Requirement
from surgeproof.scenario.requirements import from_settings, kind_of, settings_of

from .test_requirements import evidence, parse

sys.path.insert(0, str(Path(__file__).parents[1] / "report"))
from stepruns import write_step_run

SEBI = kind_of("sebi")
# The evidence's run: ceiling 600,000 real users, first failure at 700,000, peak load 500,000.
PROJECTED_400K = Requirement(None, 400_000.0, kind="sebi")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("sebi: peak", Requirement("peak", 1.0, kind="sebi")),
        ({"sebi": "peak * 1.1"}, Requirement("peak", 1.1, kind="sebi")),
        ("sebi: 400000", PROJECTED_400K),
    ],
)
def test_the_projected_peak_is_a_figure_or_a_number_of_real_users(written, expected):
    req = parse(written)
    assert req == expected
    assert parse(str(req)) == req and from_settings(settings_of(req)) == req


def test_a_projected_peak_of_nothing_is_refused():
    with pytest.raises(ScenarioError, match=re.escape("requirements[0]: expected a projected")):
        parse("sebi: 0")


def test_met_with_capacity_for_half_again_the_projection_and_utilisation_under_75_percent():
    j = SEBI.judge(Requirement(None, 380_000.0, kind="sebi"), evidence(peak_load_real=420_000.0))
    assert j.status == "pass"  # 600,000 >= 570,000; 420,000 / 600,000 = 70%
    assert j.name == "SEBI: ceiling >= 1.5 x 380000 (570,000); utilisation <= 75%"
    assert (
        j.measured == "ceiling 600,000 real concurrent users; utilisation 70% (peak load 420,000)"
    )
    assert j.figures["utilisation"] == pytest.approx(0.7)


def test_utilisation_past_75_percent_is_a_call_to_act_even_with_the_capacity():
    j = SEBI.judge(PROJECTED_400K, evidence(peak_load_real=500_000.0))
    assert j.status == "fail"  # 83% of the ceiling
    assert (
        j.note
        == "utilisation 83% of the ceiling at the run's peak load passes 75%: act (add capacity)"
    )


def test_capacity_short_of_half_again_the_projection_is_not_met_or_not_demonstrated():
    # (A peak load of 300,000 keeps utilisation at 50%: only the capacity is short.)
    # 1.5 x 440,000 = 660,000: the level at 700,000 failed, so the ceiling is below it.
    failed = SEBI.judge(Requirement(None, 440_000.0, kind="sebi"), evidence(peak_load_real=3e5))
    assert (failed.status, failed.reason) == (
        "fail",
        "not met: SEBI: ceiling >= 1.5 x 440000 (660,000 real users); held 60; failed at 70",
    )
    # 1.5 x 500,000 = 750,000 lies above every conclusive level that was measured.
    held = evidence(
        top_conclusive_real=600_000.0,
        lowest_fail_real=None,
        first_fail_real=None,
        peak_load_real=3e5,
    )
    assert SEBI.judge(Requirement(None, 500_000.0, kind="sebi"), held).status == "inconclusive"


def test_a_step_search_peak_is_a_probe_so_only_the_capacity_is_judged():
    j = SEBI.judge(PROJECTED_400K, evidence(peak_load_real=700_000.0, peak_load_is_probe=True))
    assert j.status == "pass"
    assert j.note == (
        "utilisation not judged: the run climbs past its ceiling on purpose (a step search); at "
        "the projected peak it would be 67%"
    )


def test_the_gate_names_the_circular(tmp_path, capsys):
    # The step run holds 600,000 real users and offered 700,000 at its peak (a step run whose
    # run.json does not say it searched): 117% utilisation calls for action.
    run = write_step_run(tmp_path / "steps")
    assert main(["gate", str(run), "--no-scenario", "--require", "sebi: 400000"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        "FAIL  SEBI: ceiling >= 1.5 x 400000 (600,000); utilisation <= 75%: measured ceiling "
        "600,000 real concurrent users; utilisation 117% (peak load 700,000)"
    )
    assert (
        "passes 75%: act (add capacity); source: SEBI circular SEBI/HO/MRD/TPD/CIR/P/2024/171"
        in out
    )
