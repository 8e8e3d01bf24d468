"""The incident view: breach windows around an injected stall, failed order submissions during
them, time to recover after load fell, and the reconciliation from the exchange's ledger."""

from synthetic import NS, T0_NS, Level, QueueModel, queue_run

from surgeproof.analysis.run import analyze_run
from surgeproof.scenario.model import Slo

SLOS = [Slo("*", "p99", 500.0), Slo("*", "error_ratio", 0.01)]
LEDGER_OK = {
    "conserved": True,
    "lost_orders": [],
    "acknowledged_orders": {"count": 42},
    "assets": {"KRW": {"conserved": True}},
    "open_orders": 3,
}


def test_stall_becomes_a_breach_window_with_its_failed_orders(tmp_path):
    model = QueueModel(timeout_s=1.0)
    queue_run(tmp_path / "r", model, [Level(40, hold_s=20)], stalls=[(6.0, 9.0)], ledger=LEDGER_OK)
    a = analyze_run(tmp_path / "r", slos=SLOS)
    windows = a["incidents"]["breach_windows"]
    assert len(windows) == 1
    w = windows[0]
    # Requests intended from shortly before the stall until it ends wait for it.
    assert w["start_ns"] <= T0_NS + 6 * NS and w["end_ns"] >= T0_NS + 9 * NS
    # 3 s stall, then the 240-request backlog drains at 80 req/s spare capacity: about 3 s.
    assert w["duration_s"] <= 8
    assert w["orders"]["timed_out"] > 0
    assert w["orders"]["failed"] == a["incidents"]["orders"]["failed"]
    assert a["incidents"]["stalls"][0]["start_ns"] == T0_NS + 6 * NS
    assert w["recovered"]


def test_time_to_recover_counts_from_when_load_fell(tmp_path):
    # Overload at 120 users (ceiling 80), then load falls to 20: the backlog drains after.
    queue_run(
        tmp_path / "r",
        QueueModel(timeout_s=30),
        [Level(120, hold_s=6, settle_s=0), Level(20, hold_s=14, settle_s=0)],
        gap_s=0,
        carry_queue=True,
    )
    w = analyze_run(tmp_path / "r", slos=SLOS)["incidents"]["breach_windows"][0]
    assert w["load_fell_ns"] == T0_NS + 6 * NS
    assert w["recovered"]
    assert w["time_to_recover_s"] > 0
    assert w["end_ns"] == w["load_fell_ns"] + int(w["time_to_recover_s"] * NS)


def test_reconciliation_passes_on_a_clean_ledger_and_fails_on_a_lost_order(tmp_path):
    queue_run(tmp_path / "a", QueueModel(), [Level(20)], ledger=LEDGER_OK)
    r = analyze_run(tmp_path / "a", slos=SLOS)["reconciliation"]
    assert r["available"] and r["passed"] and r["lost_acknowledged_orders"] == 0
    lost = dict(
        LEDGER_OK, lost_orders=["9f1c"], conserved=False, assets={"KRW": {"conserved": False}}
    )
    queue_run(tmp_path / "b", QueueModel(), [Level(20)], ledger=lost)
    r = analyze_run(tmp_path / "b", slos=SLOS)["reconciliation"]
    assert r["passed"] is False
    assert r["lost_acknowledged_orders"] == 1
    assert "1 acknowledged orders lost" in r["note"] and "KRW" in r["note"]


def test_without_a_ledger_reconciliation_is_unavailable_not_passed(tmp_path):
    queue_run(tmp_path / "r", QueueModel(), [Level(20)])
    r = analyze_run(tmp_path / "r", slos=SLOS)["reconciliation"]
    assert r["available"] is False and r["passed"] is None
