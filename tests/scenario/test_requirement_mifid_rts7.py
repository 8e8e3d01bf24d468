"""MiFID II RTS 7 Art. 11: capacity for twice the five-year peak message rate (requests/s)."""

from __future__ import annotations

import re
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from surgeproof.cli import main
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.model import Requirement
from surgeproof.scenario.requirements import kind_of

from .test_requirements import evidence, parse

sys.path.insert(0, str(Path(__file__).parents[1] / "report"))
from stepruns import write_step_run

PEAK_1200 = Requirement(kind="mifid-rts7", options=(("peak_rps", 1200.0),))
MIFID = kind_of("mifid-rts7")


@pytest.mark.parametrize(
    "written", ["mifid-rts7: 1200/s", "mifid-rts7: 72000/min", {"mifid-rts7": 1200}]
)
def test_the_five_year_peak_is_a_rate(written):
    req = parse(written)
    assert req == PEAK_1200
    assert str(req) == "mifid-rts7: 1200/s"


def test_a_peak_that_is_not_a_rate_is_one_line_naming_the_field():
    with pytest.raises(ScenarioError, match=re.escape("x.yaml: requirements[0]: expected a rate")):
        parse("mifid-rts7: busy")


def judge(ceiling_rps: float | None, first_fail_rps: float | None, **changes):
    ev = replace(
        evidence(**changes), ceiling_rps_real=ceiling_rps, first_fail_rps_real=first_fail_rps
    )
    return MIFID.judge(PEAK_1200, ev)


def test_met_when_the_ceiling_achieved_twice_the_peak():
    j = judge(2_500.0, 2_900.0)
    assert j.status == "pass"
    assert j.name == "MiFID II RTS 7 Art. 11: capacity >= 2 x 1,200 req/s"
    assert (j.measured, j.limit) == (
        "2,500 req/s at the ceiling (600,000 real users)",
        ">= 2,400 req/s (real)",
    )


def test_not_met_when_a_level_failed_at_or_below_twice_the_peak():
    assert judge(2_000.0, 2_300.0).status == "fail"
    assert judge(None, None, ceiling_real=None, ceiling_status="upper_bound").status == "fail"


def test_not_demonstrated_between_the_bracket_or_above_every_level():
    between = judge(2_000.0, 2_600.0)
    assert between.status == "inconclusive"
    assert between.note == (
        "between the last pass (2,000 req/s) and the first fail (2,600 req/s): measure finer"
    )
    assert judge(2_000.0, None, ceiling_status="lower_bound").status == "inconclusive"


def test_the_gate_names_the_regulation(tmp_path, capsys):
    # The step run holds 60 simulated users at 2 req/s each and fails at 70 (140 req/s asked):
    # at 1:10,000 the ceiling served 1,192,000 real req/s (answers ending in its window), and
    # the first failure asked for 1,400,000.
    run = write_step_run(tmp_path / "steps")

    def gate(peak: str) -> int:
        return main(["gate", str(run), "--no-scenario", "--require", f"mifid-rts7:{peak}"])

    assert gate("590000/s") == 0
    assert (
        "PASS  MiFID II RTS 7 Art. 11: capacity >= 2 x 590,000 req/s: measured 1,192,000 req/s at "
        "the ceiling (600,000 real users), limit >= 1,180,000 req/s (real); source: EU Commission "
        "Delegated Regulation (EU) 2017/584 (MiFID II RTS 7), Art. 11"
    ) in capsys.readouterr().out
    assert gate("650000/s") == 1  # 1,300,000 lies inside the bracket: not demonstrated
    assert "and the first fail (1,400,000 req/s): measure finer" in capsys.readouterr().out
    assert gate("750000/s") == 1
    assert "the first level that failed asked for 1,400,000 req/s" in capsys.readouterr().out
