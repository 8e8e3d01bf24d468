"""What the report says, from the analysis alone: endpoints from ``overall.endpoints``, target
outages and worker losses in the incident tables of both renderings."""

import json

import pytest
from faultruns import DOWN_S, RESTORED_S, SHORT_FROM_S, UP_S, write_fault_run

from surgeproof.analysis.freshness import current_analysis
from surgeproof.cli import main
from surgeproof.report.content import build_content, endpoints_table


@pytest.fixture(scope="module")
def fault_report(tmp_path_factory):
    run_dir = write_fault_run(tmp_path_factory.mktemp("faults") / "f")
    assert main(["report", str(run_dir)]) == 0
    return run_dir


def test_endpoint_rows_are_the_analysis_figures(step_run):
    analysis = current_analysis(step_run)
    table = endpoints_table(analysis)
    endpoints = analysis["overall"]["endpoints"]
    assert [row[0] for row in table.rows] == list(endpoints)  # busiest first, as analysed
    for row in table.rows:
        e = endpoints[row[0]]
        assert row[1] == e["group"] and row[2] == f"{e['count']:,}"
        assert row[7] == f"{e['latency_ms']['p99']:,.1f}"


def test_the_endpoint_table_reads_the_analysis_not_the_records(step_run):
    # An analysis is the report's only source: a figure changed there is the figure shown.
    analysis = current_analysis(step_run)
    name = next(iter(analysis["overall"]["endpoints"]))
    analysis["overall"]["endpoints"][name]["latency_ms"]["p99"] = 4321.0
    row = next(r for r in build_content(step_run, analysis).tables[1].rows if r[0] == name)
    assert row[7] == "4,321.0"


def test_markdown_lists_the_outage_with_its_down_and_recovery_time(fault_report):
    analysis = json.loads((fault_report / "analysis.json").read_text())
    [o] = analysis["incidents"]["target_outages"]
    md = (fault_report / "report.md").read_text()
    section = md.split("## Target outages", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith(f"| {DOWN_S:.1f} s"))
    assert f"| {UP_S:.1f} s | {UP_S - DOWN_S:.1f} s | injected SIGKILL |" in row
    assert f"| {o['recovery_s']:.1f} s after it came back |" in row


def test_markdown_lists_the_lost_worker_and_its_shortfall_window(fault_report):
    md = (fault_report / "report.md").read_text()
    section = md.split("## Generator worker losses", 1)[1].split("\n## ", 1)[0]
    assert (
        f"| worker-b7 | process exit | {SHORT_FROM_S:.1f} s | {RESTORED_S:.1f} s | "
        f"{RESTORED_S - SHORT_FROM_S:.1f} s | step-2 |"
    ) in section
    # The voided level says why in the levels table too.
    levels = md.split("## Steady-state windows (levels)", 1)[1].split("\n## ", 1)[0]
    step2 = next(line for line in levels.splitlines() if line.startswith("| step-2 "))
    assert "INCONCLUSIVE" in step2 and "worker worker-b7" in step2


def test_html_has_the_same_fault_tables(fault_report):
    html = (fault_report / "report.html").read_text()
    outages = html.split(">Target outages</h2>", 1)[1].split("<h2", 1)[0]
    assert "<td>injected SIGKILL</td>" in outages and f">{DOWN_S:.1f} s</td>" in outages
    losses = html.split(">Generator worker losses</h2>", 1)[1].split("<h2", 1)[0]
    assert "<td>worker-b7</td>" in losses and "<td>step-2</td>" in losses


def test_a_restart_makes_the_ledger_reconciliation_partial_in_the_caveats(tmp_path):
    run_dir = write_fault_run(tmp_path / "f")
    ledger = {"conserved": True, "lost_orders": [], "acknowledged_orders": {"count": 9}}
    (run_dir / "server").mkdir()
    (run_dir / "server" / "ledger.json").write_text(json.dumps(ledger))
    content = build_content(run_dir, current_analysis(run_dir))
    [line] = [c for c in content.caveats if c.startswith("Order ledger reconciliation")]
    assert line.startswith("Order ledger reconciliation: PARTIAL") and "restarted" in line


def test_runs_without_faults_have_empty_fault_tables(step_run):
    tables = {t.title: t for t in build_content(step_run, current_analysis(step_run)).tables}
    assert tables["Target outages"].rows == [] and tables["Generator worker losses"].rows == []
