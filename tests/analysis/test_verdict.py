"""The run's verdict against requirements: met, disproved by a failure at or below the required
load, or not demonstrated either way."""

from synthetic import Level, QueueModel, queue_run
from test_headroom import UPBIT

from surgeproof.analysis.headroom import parse_requirement
from surgeproof.analysis.run import analyze_run
from surgeproof.scenario.model import Slo

SLOS = [Slo("*", "p99", 500.0)]
# QueueModel's ceiling is 80 simulated users; at 1:10,000 the levels stand for 400k, 750k, 900k.


def _verdict(run, requirement):
    a = analyze_run(run, profile=UPBIT, slos=SLOS, requirements=[parse_requirement(requirement)])
    return a["verdict"]


def test_a_failure_below_the_required_load_fails_the_requirement(tmp_path):
    run = tmp_path / "r"
    queue_run(run, QueueModel(), [Level(40), Level(75), Level(90)], user_scale=0.0001)

    # 1,080,000 required; nothing was measured that high, but 900,000 already failed.
    v = _verdict(run, "expanded*1.2")

    assert v["status"] == "fail"
    assert v["reasons"][0].startswith("not met")


def test_a_requirement_above_every_level_that_held_is_not_demonstrated(tmp_path):
    run = tmp_path / "r"
    queue_run(run, QueueModel(), [Level(40), Level(75)], user_scale=0.0001)

    v = _verdict(run, "expanded*1.2")

    assert v["status"] == "inconclusive"
    assert v["reasons"][0].startswith("not demonstrated")
