"""The recovery figure: the slowest fault's time to SLOs held again; unrecovered faults apart."""

from surgeproof.analysis.recovery import recovery_of
from surgeproof.scenario.requirements import Recovery

NS = 1_000_000_000


def outage(down_s: float, recovered_s: float | None) -> dict:
    return {
        "down_ns": int(down_s * NS),
        "t_down_s": down_s,
        "recovered_ns": None if recovered_s is None else int(recovered_s * NS),
    }


def test_no_incidents_at_all_is_no_recovery_analysis():
    assert recovery_of({}) is None
    assert recovery_of({"incidents": {"breach_windows": []}}) is None


def test_a_run_without_faults_has_nothing_to_recover_from():
    a = {"incidents": {"target_outages": [], "gateway_outages": []}}
    assert recovery_of(a) == Recovery(faults=0, worst_s=None, worst="")


def test_the_slowest_recovery_counts_and_unrecovered_faults_are_told_apart():
    a = {
        "input": {"last_ns": 500 * NS},
        "incidents": {
            "target_outages": [outage(60, 75), outage(200, 290), outage(400, None)],
            "gateway_outages": [
                {"gateway": 0, "t_down_s": 100, "never_back": 0, "resubscribe_s": {"max": 4.5}},
            ],
        },
    }
    assert recovery_of(a) == Recovery(
        faults=4,
        worst_s=90.0,
        worst="target down at t=200 s",
        unrecovered=1,
        unrecovered_for_s=100.0,
    )


def test_a_gateway_death_recovers_when_its_last_lost_session_is_back():
    gateway = {"gateway": 1, "t_down_s": 30, "never_back": 0, "resubscribe_s": {"max": 12.0}}
    a = {"incidents": {"target_outages": [], "gateway_outages": [gateway]}}
    assert recovery_of(a) == Recovery(1, 12.0, "gateway 1 down at t=30 s")
    lost = {**gateway, "never_back": 3, "down_ns": 30 * NS}
    a = {"input": {"last_ns": 90 * NS}, "incidents": {"gateway_outages": [lost]}}
    assert recovery_of(a) == Recovery(1, None, "", unrecovered=1, unrecovered_for_s=60.0)
