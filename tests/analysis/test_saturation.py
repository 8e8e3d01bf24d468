"""One saturation rule for open and closed data: closed-loop users against FIFO servers of known
capacity (pacing users like Locust's ``constant_throughput``, and users with think times) give a
bracket that contains the true saturation point; the plateau, knee and USL agree with it."""

import pytest
from synthetic import ClosedQueue, closed_queue_run

from surgeproof.analysis.run import analyze_run
from surgeproof.scenario.model import Slo

#: Latency alone never fails these levels: the saturation rule has to find the ceiling.
LOOSE = [Slo("*", "p99", 60_000.0), Slo("*", "error_ratio", 0.01)]


@pytest.mark.parametrize(
    ("model", "users"),
    [
        # 200 req/s, users pacing 2 req/s each: saturated from 100 users.
        (ClosedQueue(workers=2, service_s=0.010, pace_s=0.5), [40, 70, 90, 110, 140]),
        # 200 req/s, users pacing 5 req/s: 40 users; 36 (90%) holds, 44 (110%) does not.
        (ClosedQueue(workers=1, service_s=0.005, pace_s=0.2), [10, 20, 30, 36, 44, 60]),
        # 200 req/s, 0.2 s random think time: 44 users.
        (ClosedQueue(workers=4, service_s=0.020, think_s=0.2, jitter=0.5), [15, 25, 38, 52, 70]),
        # 160 req/s, 1 s think time: 168 users.
        (ClosedQueue(workers=8, service_s=0.050, think_s=1.0), [60, 110, 150, 190, 240]),
    ],
)
def test_closed_model_bracket_contains_the_true_saturation_point(tmp_path, model, users):
    closed_queue_run(tmp_path / "r", model, users)
    a = analyze_run(tmp_path / "r", slos=LOOSE)
    c = a["ceiling"]
    assert a["input"]["load_model"] == "closed"
    assert c["status"] == "bracketed", c["statement"]
    assert c["last_pass"]["users"] < model.saturation_users < c["first_fail"]["users"]
    assert c["failed_first"]["slo"] == "target saturated"
    # The knee (asymptotic bounds) lies in the bracket, close to the truth.
    assert c["last_pass"]["users"] <= a["knee"]["users"] <= c["first_fail"]["users"]
    assert a["knee"]["users"] == pytest.approx(model.saturation_users, rel=0.06)
    # A hard cap is measured: the summary gives the measured maximum, no model peak beyond it.
    plateau = c["plateau"]
    assert plateau["detected"]
    assert plateau["throughput_rps"] == pytest.approx(model.capacity_rps, rel=0.02)
    assert any(line.startswith("plateau: hard cap") for line in a["summary"])
    usl = a["usl"]
    assert usl["n_star"] is None or usl["n_star"] <= plateau["from_users"] * 1.05
    assert a["comparison"] is None or a["comparison"]["model_estimate"] is None


def test_pacing_users_just_past_saturation_fail_by_latency_growth_at_flat_throughput(tmp_path):
    # 21 users pacing 5 req/s against 100 req/s ask 5% more than the target serves: their per-user
    # rate is still 95% of the low-load one (above the 90% ratio), but every one of them now
    # waits at the target all the time (Little's law): the level is saturated.
    model = ClosedQueue(workers=1, service_s=0.010, pace_s=0.2)
    closed_queue_run(tmp_path / "r", model, [8, 16, 21])
    levels = analyze_run(tmp_path / "r", slos=LOOSE)["levels"]
    assert [lv["verdict"] for lv in levels] == ["pass", "pass", "fail"]
    top = levels[-1]["saturation"]
    assert top["share"] == pytest.approx(20 / 21, rel=0.01)
    assert top["in_target_share"] > 0.9 > 0.1 > levels[0]["saturation"]["in_target_share"]
    assert "latency grew at flat throughput" in levels[-1]["reasons"][0]


def test_each_level_records_what_the_rule_compared(tmp_path):
    closed_queue_run(tmp_path / "r", ClosedQueue(workers=2, service_s=0.010, pace_s=0.5), [40, 140])
    a = analyze_run(tmp_path / "r", slos=LOOSE)
    low, high = a["levels"]
    ref = {"label": "level-1", "users": 40.0, "per_user_rps": pytest.approx(2.0, rel=0.01)}
    assert high["saturation"]["reference"] == ref
    assert high["saturation"]["basis"] == "low-load rate"
    assert high["saturation"]["demand_rps"] == pytest.approx(280, rel=0.01)
    assert high["saturation"]["share"] == pytest.approx(200 / 280, rel=0.02)
    assert low["saturation"]["saturated"] is False and high["saturated"] is True
    judging = a["settings"]["judging"]
    assert judging["saturation_ratio"] == 0.9 and judging["queue_growth"] == 0.8
