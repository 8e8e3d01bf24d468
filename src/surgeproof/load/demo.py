"""``surgeproof demo``: the martial-law night, compressed, against the embedded exchange.

At the default scales (1 hour → 1 minute, 1 simulated user = 2,000 real ones) the night's peak is
270 simulated users, which offer more than the embedded default target's 4 API workers × 10 ms
can serve: the demo shows the break at the panic peak and the recovery after it, then writes the
analysis, the HTML/Markdown report and the CI gate's verdict into the run directory.
"""

from __future__ import annotations

import time
from pathlib import Path

from surgeproof.analysis.freshness import current_analysis
from surgeproof.load.launch import execute
from surgeproof.load.options import RunOptions
from surgeproof.report.gate_run import gate
from surgeproof.report.junit import write_junit
from surgeproof.report.render import write_reports
from surgeproof.report.summary import gate_markdown, write_summary

DEMO_SCENARIO = "martial-law-2024-12-03"


def run_demo(reports_dir: Path, time_scale: float, user_scale: float) -> int:
    """Run the demo scenario, then analyse, report and gate it; 0 once the report exists."""
    opts = RunOptions(
        scenario=DEMO_SCENARIO,
        time_scale=time_scale,
        user_scale=user_scale,
        reports_dir=str(reports_dir),
        timeout_s=5.0,
    )
    run_dir = execute(opts)
    started = time.monotonic()
    analysis = current_analysis(run_dir)
    html, md = write_reports(run_dir, analysis)
    # The gate judges the scenario's own requirements (the 3 Dec peak plus a 20% margin) and SLOs.
    result = gate(run_dir)
    write_junit(result, run_dir / "gate" / "junit.xml", elapsed_s=time.monotonic() - started)
    write_summary(gate_markdown(result, report_path=str(html)), run_dir / "gate" / "summary.md")

    print()
    for line in analysis.get("summary") or []:
        print(f"  {line}")
    print()
    for check in result.checks:
        print(f"  {'PASS' if check.passed else 'FAIL'}  {check.name}: {check.message}")
    word = "PASSED" if result.passed else f"FAILED ({len(result.failures)} of {len(result.checks)})"
    print(f"\ngate: {word}  (JUnit: {run_dir / 'gate' / 'junit.xml'})")
    print(f"run directory: {run_dir}")
    print(f"report: {html}")
    print(f"report: {md}")
    if not result.passed:
        print(
            "The embedded default exchange is sized to break near the 3 Dec peak, so a failing "
            "gate is the expected outcome of the demo; `surgeproof gate RUN_DIR` exits 1 on it."
        )
    return 0
