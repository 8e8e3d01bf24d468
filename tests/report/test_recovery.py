"""The report's recovery block: per fault its sentence, facts, output, table by group, orders in
flight and chart — read from analysis.json, the same in HTML and Markdown."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "analysis"))

from faults import drill_run

from surgeproof.analysis.run import analyze_run
from surgeproof.report.recovery import recovery_block
from surgeproof.report.render import write_reports
from surgeproof.scenario.model import Slo

SLOS = [Slo("*", "p99", 500.0), Slo("*", "error_ratio", 0.01)]
CRAFTED = "<script>alert(1)</script> \x1b[31m~~~~ | done"


def _drill(path: Path) -> int:
    return drill_run(path, output_tail=["switched", CRAFTED])


def test_a_run_with_a_fault_has_the_block_in_both_reports(tmp_path):
    path = tmp_path / "r"
    in_flight = _drill(path)
    analysis = analyze_run(path, slos=SLOS)
    record = analysis["recovery"]["faults"][0]
    html_path, md_path = write_reports(path, analysis)
    html, md = html_path.read_text(), md_path.read_text()
    for text in (html, md):
        assert "Recovery (BCP drill)" in text and "Fault failover" in text
        assert f"RTO {record['rto']['rto_s']:.1f} s" in text
        assert "Orders in flight when failover began" in text
    assert record["sentence"] in md
    # The crafted output line is text, never markup or a fence that ends the block early.
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    # In Markdown it sits verbatim inside a fence that its "~~~~" cannot close.
    assert "~~~~ | done" in md
    line = next(i for i, text in enumerate(md.splitlines()) if "~~~~ | done" in text)
    fence = next(t for t in reversed(md.splitlines()[:line]) if t.startswith(("```", "~~~")))
    assert fence.startswith("```") or len(fence) > 4
    assert (path / "report-charts" / "recovery-0.png").stat().st_size > 1000
    assert 'id="chart-recovery-0"' in html and 'href="#recovery"' in html
    assert f"{in_flight:,} order submissions were in flight" in md


def test_the_group_table_reads_the_analysis_figures():
    analysis = {
        "recovery": {"faults": [{
            "fault": 0, "name": "kill", "kind": "target-outage", "origin": "--inject-target-outage",
            "start_ns": 10**18, "end_ns": 10**18 + 3 * 10**9, "t_start_s": 8.0, "t_end_s": 11.0,
            "action_s": 3.0, "action": {"seconds": 3.0, "down_s": 3.0, "ended": True},
            "rto": {"status": "recovered", "rto_s": 5.0, "impact_ns": 10**18,
                    "impact_after_s": 0.0, "recovered_ns": 10**18 + 4 * 10**9,
                    "held_until_ns": 10**18 + 5 * 10**9, "breached_windows": 4, "window_s": 1.0,
                    "rule": "the RTO rule", "until_ns": None},
            "span": {"start_ns": 10**18, "end_ns": 10**18 + 5 * 10**9, "duration_s": 5.0},
            "groups": {"login": {"calls": 40, "ok": 10, "error_ratio": 0.75,
                                 "errors": {"server_error": 30},
                                 "latency_ms": {"p99": 4000.0, "max": 5000.0},
                                 "first_ok_s": 3.2, "waiting_from_s": 0.1, "longest_wait_s": 3.1}},
            "logins": {"attempts": 40, "ok": 10, "refused": 30,
                       "refused_by_cause": {"server_error": 30}},
            "websocket": {"sessions_lost": 7, "sessions_back": 6, "never_back": 1,
                          "resubscribe_s": {"p50": 1.0, "max": 2.0}, "reconnect_attempts": 20},
            "orders_in_flight": {"count": 1, "by_fate": {"connection_error": 1},
                                 "orders": [{"source": "local", "user": 3, "action": "market_sell",
                                             "intended_ns": 10**18 - 6 * 10**6,
                                             "sent_ns": 10**18 - 5 * 10**6,
                                             "end_ns": 10**18 + 2 * 10**6,
                                             "outcome": "connection_error", "status": None,
                                             "order_id": None, "fate": "connection_error",
                                             "reconciliation": None}],
                                 "listed": 1},
            "sentence": "fault kill (target-outage) at t=8 s: RTO 5.0 s",
        }], "rule": "the RTO rule", "silence_horizon_s": 3600.0, "listed_orders_at_most": 1000},
        "reconciliation": {"order_status": {
            "available": True, "acknowledged": 5, "looked_up": 5,
            "counts": {"consistent": 4, "unknown": 1, "inconsistent": 0, "unconfirmed": 0},
            "lost_orders": ["o-9"], "inconsistent_orders": [], "unconfirmed_reasons": {},
            "listed_at_most": 1000, "status": "failed", "passed": False, "note": "4 of 5 ...",
            "ledger_agreement": {"available": False, "agrees": None, "note": "no ledger"}}},
    }  # fmt: skip
    block = recovery_block(analysis, draw=False)
    assert block is not None and block.charts == []
    [f] = block.faults
    assert f.groups.rows == [("login", "40", "10", "75.0%", "4,000", "5,000", "3.100", "3.200")]
    assert "Logins refused: 30 of 40" in f.groups.note and "sessions lost: 7" in f.groups.note
    assert f.orders.rows == [
        ("local #3", "market_sell", "-0.005", "+0.002", "connection_error", "—", "connection error")
    ]
    assert ("RTO", "5.0 s") in f.facts
    assert block.orders[1] == "Acknowledged but unknown to the exchange (lost): o-9."


def test_no_fault_and_no_lookup_means_no_block():
    assert recovery_block({"reconciliation": {}}, draw=False) is None


def test_a_recovery_record_the_contract_does_not_hold_is_one_line_naming_the_field():
    import pytest

    from surgeproof.analysis.contract import ContractError

    crafted = {"recovery": {"faults": [{"fault": "0"}], "rule": "r", "silence_horizon_s": 1.0,
                            "listed_orders_at_most": 1}}  # fmt: skip
    with pytest.raises(ContractError, match=r"recovery: faults\[0\]\.fault: expected an integer"):
        recovery_block(crafted, draw=False)


def test_the_gate_summary_says_how_each_drilled_fault_recovered(tmp_path, capsys):
    from surgeproof.cli import main

    path = tmp_path / "r"
    _drill(path)
    code = main(["gate", str(path), "--max-error-ratio", "100%", "--summary", str(tmp_path / "s")])
    assert code in (0, 1)
    sentence = analyze_run(path)["recovery"]["faults"][0]["sentence"]
    summary = (tmp_path / "s").read_text()
    assert "**Recovery (BCP drill):**" in summary and f"* {sentence}" in summary
    assert f"recovery: {sentence}" in capsys.readouterr().out


def test_external_marks_are_listed_on_the_runs_clock_as_text(tmp_path):
    from faults import add_events, at

    path = tmp_path / "r"
    _drill(path)
    add_events(path, {"t_ns": at(12.5), "type": "mark", "text": "db back " + CRAFTED},
               {"t_ns": at(5.25), "type": "mark", "text": "standby promoted by hand"})  # fmt: skip
    analysis = analyze_run(path, slos=SLOS)
    assert [(m["t_s"], m["text"][:7]) for m in analysis["recovery"]["marks"]] == [
        (5.25, "standby"),
        (12.5, "db back"),
    ]
    html_path, md_path = write_reports(path, analysis)
    html, md = html_path.read_text(), md_path.read_text()
    for text in (html, md):
        assert "Marks on the run's clock" in text and "t=5.2 s: standby promoted by hand" in text
    assert "<script>alert(1)</script>" not in html
