"""Target outages: the embedded exchange going away and coming back, the errors meanwhile, and
how long after it came back the SLOs held again."""

from faults import at, target_outage
from synthetic import NS, Level, QueueModel, queue_run

from surgeproof.analysis.run import analyze_run
from surgeproof.scenario.model import Slo

SLOS = [Slo("*", "p99", 500.0), Slo("*", "error_ratio", 0.01)]


def _stalled(path, stall, hold_s=20):
    # A stall of the queue stands in for the dead process: calls due meanwhile time out.
    queue_run(path, QueueModel(timeout_s=1.0), [Level(40, hold_s=hold_s)], stalls=[stall])


def test_outage_recovers_at_the_first_window_after_it_came_back_that_holds_the_slos(tmp_path):
    _stalled(tmp_path / "r", (6.0, 9.0))
    target_outage(tmp_path / "r", 6.0, 9.0)
    a = analyze_run(tmp_path / "r", slos=SLOS)
    [o] = a["incidents"]["target_outages"]
    assert (o["down_ns"], o["up_ns"]) == (at(6), at(9))
    assert o["down_s"] == 3.0 and o["cause"] == "injected SIGKILL"
    assert o["pids"] == {"down": 4100, "up": 4200}
    # The same second the breach window closes: its queue drained after the target came back.
    [w] = a["incidents"]["breach_windows"]
    assert o["recovered_ns"] == w["end_ns"] > o["up_ns"]
    assert o["recovery_s"] == (w["end_ns"] - at(9)) / NS
    ts = a["timeseries"]
    i = ts["start_ns"].index(at(6))
    j = ts["start_ns"].index(o["recovered_ns"])
    assert o["errors_by_cause"]["timeout"] == sum(ts["errors"]["timeout"][i:j]) > 0
    assert (
        f"outage: target down 3.0 s at t=6 s (injected SIGKILL); recovered "
        f"{o['recovery_s']:.1f} s after it came back"
    ) in a["summary"]


def test_a_target_that_never_came_back_has_no_up_and_no_recovery(tmp_path):
    _stalled(tmp_path / "r", (15.0, 40.0))
    target_outage(tmp_path / "r", 15.0, None)
    a = analyze_run(tmp_path / "r", slos=SLOS)
    [o] = a["incidents"]["target_outages"]
    assert o["up_ns"] is None and o["down_s"] is None
    assert o["recovered_ns"] is None and o["recovery_s"] is None
    assert o["errors_by_cause"]["timeout"] > 0
    assert any("not back before the run ended" in line for line in a["summary"])


def test_a_target_back_but_still_breaching_at_the_end_did_not_recover(tmp_path):
    _stalled(tmp_path / "r", (15.0, 40.0))
    target_outage(tmp_path / "r", 15.0, 16.0)
    a = analyze_run(tmp_path / "r", slos=SLOS)
    [o] = a["incidents"]["target_outages"]
    assert o["up_ns"] == at(16) and o["recovered_ns"] is None and o["recovery_s"] is None
    assert any("the SLOs did not hold again before the run ended" in s for s in a["summary"])


def test_each_of_two_outages_recovers_on_its_own(tmp_path):
    queue_run(
        tmp_path / "r",
        QueueModel(timeout_s=1.0),
        [Level(40, hold_s=30)],
        stalls=[(6.0, 8.0), (20.0, 22.0)],
    )
    target_outage(tmp_path / "r", 6.0, 8.0)
    target_outage(tmp_path / "r", 20.0, 22.0)
    a = analyze_run(tmp_path / "r", slos=SLOS)
    first, second = a["incidents"]["target_outages"]
    assert at(8) <= first["recovered_ns"] < at(20)
    assert second["up_ns"] == at(22) and second["recovered_ns"] >= at(22)


def test_no_outage_events_no_outages(tmp_path):
    _stalled(tmp_path / "r", (6.0, 9.0))
    a = analyze_run(tmp_path / "r", slos=SLOS)
    assert a["incidents"]["target_outages"] == []
    assert a["incidents"]["breach_windows"]  # a stall alone is a breach, not an outage
    assert not any(line.startswith("outage:") for line in a["summary"])
