"""``surgeproof demo``: the martial-law night, compressed, against the embedded exchange.

At the default scales (1 hour → 1 minute, 1 simulated user = 2,000 real ones) the night's peak is
270 simulated users, which offer more than the embedded default target's 4 API workers × 10 ms
can serve: the demo shows the break at the panic peak and the recovery after it.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from surgeproof.load.options import RunOptions
from surgeproof.load.run import execute

DEMO_SCENARIO = "martial-law-2024-12-03"


def run_demo(reports_dir: Path, time_scale: float, user_scale: float) -> int:
    """Run the demo scenario, then the analysis and (when installed) the report and gate."""
    opts = RunOptions(
        scenario=DEMO_SCENARIO,
        time_scale=time_scale,
        user_scale=user_scale,
        reports_dir=str(reports_dir),
        timeout_s=5.0,
    )
    run_dir = execute(opts)
    try:
        analysis = importlib.import_module("surgeproof.analysis")
    except ModuleNotFoundError:
        analysis = None
    if analysis is not None and hasattr(analysis, "analyze_run"):
        analysis.analyze_run(run_dir)
        print(f"surgeproof demo: analysis written to {run_dir / 'analysis.json'}")
    try:
        report = importlib.import_module("surgeproof.report")
    except ModuleNotFoundError:
        report = None
    if report is not None and hasattr(report, "write_report"):
        report.write_report(run_dir)
    print(f"surgeproof demo: run directory {run_dir}")
    return 0
