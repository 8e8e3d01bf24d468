"""Reconciliation after a restart: the ledger comes from the restarted process, which cannot see
what the process before the outage acknowledged, so a clean ledger is partial, not passed."""

from faults import target_outage
from synthetic import Level, QueueModel, queue_run

from surgeproof.analysis.run import analyze_run
from surgeproof.scenario.model import Slo

SLOS = [Slo("*", "p99", 500.0)]
CLEAN = {
    "conserved": True,
    "lost_orders": [],
    "acknowledged_orders": {"count": 42},
    "assets": {"KRW": {"conserved": True}},
}


def test_a_clean_ledger_without_restart_passes(tmp_path):
    queue_run(tmp_path / "r", QueueModel(), [Level(20)], ledger=CLEAN)
    r = analyze_run(tmp_path / "r", slos=SLOS)["reconciliation"]
    assert r["status"] == "passed" and r["passed"] is True and r["partial_reason"] is None


def test_a_clean_ledger_after_a_restart_is_partial_not_passed(tmp_path):
    queue_run(tmp_path / "r", QueueModel(), [Level(20)], ledger=CLEAN)
    target_outage(tmp_path / "r", 4.0, 6.5)
    a = analyze_run(tmp_path / "r", slos=SLOS)
    r = a["reconciliation"]
    assert r["status"] == "partial" and r["passed"] is None
    assert "restarted process" in r["partial_reason"] and "t=4.0 s" in r["partial_reason"]
    assert "acknowledged before the outage" in r["note"]
    assert r["lost_acknowledged_orders"] == 0  # what the ledger said stays on record
    assert any(line.startswith("reconciliation PARTIAL: ") for line in a["summary"])


def test_orders_lost_by_the_restarted_process_still_fail(tmp_path):
    lost = dict(CLEAN, lost_orders=["9f1c"])
    queue_run(tmp_path / "r", QueueModel(), [Level(20)], ledger=lost)
    target_outage(tmp_path / "r", 4.0, 6.5)
    r = analyze_run(tmp_path / "r", slos=SLOS)["reconciliation"]
    assert r["status"] == "failed" and r["passed"] is False


def test_no_ledger_is_unavailable_even_after_an_outage(tmp_path):
    queue_run(tmp_path / "r", QueueModel(), [Level(20)])
    target_outage(tmp_path / "r", 4.0, None)
    r = analyze_run(tmp_path / "r", slos=SLOS)["reconciliation"]
    assert r["status"] == "unavailable" and r["passed"] is None
