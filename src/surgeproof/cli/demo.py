"""``surgeproof demo``: the martial-law night, compressed, against the embedded exchange.

At the default scales (1 hour → 1 minute, 1 simulated user = 2,000 real ones) the night's peak is
270 simulated users, which offer more than the embedded default target's 4 API workers × 10 ms
can serve: the demo shows the break at the panic peak and the recovery after it, then writes the
analysis, the HTML/Markdown report and the CI gate's verdict into the run directory. Every steady
window of the night lasts at least 5.5 s at 1/60, so each gets a verdict. The live dashboard is
on (port 9647, or any free port when that one is taken) and stays up a few seconds after the
report, with the verdict and a link to it.
"""

from __future__ import annotations

import argparse
import socket
import time
from pathlib import Path
from typing import Any

DEMO_SCENARIO = "martial-law-2024-12-03"
#: Seconds the dashboard stays up after the report, for a last look at the verdict.
DEMO_LINGER_S = 5.0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand."""
    from surgeproof.cli.run import DASHBOARD_PORT
    from surgeproof.load.options import scale_arg

    d = subparsers.add_parser("demo", help="the martial-law surge, compressed, then the report")
    d.add_argument("--reports-dir", default="reports")
    d.add_argument("--time-scale", type=scale_arg, default=1 / 60)
    d.add_argument("--user-scale", type=scale_arg, default=1 / 2000)
    d.add_argument(
        "--dashboard",
        type=int,
        default=DASHBOARD_PORT,
        metavar="PORT",
        help=f"the live dashboard's port (default {DASHBOARD_PORT}, any free one when taken)",
    )
    d.add_argument("--no-dashboard", action="store_true", help="no live dashboard")
    d.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from surgeproof.load.flag_bounds import check_port

    port = None
    if not args.no_dashboard:
        check_port("--dashboard", args.dashboard, zero_picks=True)
        port = free_or_any(args.dashboard) if args.dashboard else 0
    return run_demo(Path(args.reports_dir), args.time_scale, args.user_scale, port)


def run_demo(
    reports_dir: Path,
    time_scale: float,
    user_scale: float,
    dashboard_port: int | None = None,
    linger_s: float = DEMO_LINGER_S,
) -> int:
    """Run the demo scenario, then analyse, report and gate it; 0 once the report exists."""
    from surgeproof.load.launch import execute
    from surgeproof.load.options import RunOptions

    opts = RunOptions(
        scenario=DEMO_SCENARIO,
        time_scale=time_scale,
        user_scale=user_scale,
        reports_dir=str(reports_dir),
        timeout_s=5.0,
        dashboard_port=dashboard_port,
        metrics_linger_s=linger_s if dashboard_port is not None else 0.0,
    )
    execute(opts, _answer)
    return 0


def free_or_any(port: int) -> int:
    """``port`` when nothing listens on it on loopback, else 0 (any free port): the demo's
    dashboard never stops the demo."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port


def _answer(run_dir: Path) -> tuple[dict[str, Any], Path]:
    """Analysis, reports and gate of the finished run; the answer printed once."""
    from surgeproof.analysis.freshness import current_analysis
    from surgeproof.report.answer import final_answer
    from surgeproof.report.gate_run import gate
    from surgeproof.report.junit import write_junit
    from surgeproof.report.render import write_reports
    from surgeproof.report.summary import gate_markdown, write_summary

    started = time.monotonic()
    analysis = current_analysis(run_dir)
    html, md = write_reports(run_dir, analysis)
    # The gate judges the scenario's own requirements (the 3 Dec peak plus a 20% margin) and SLOs.
    result = gate(run_dir)
    junit = run_dir / "gate" / "junit.xml"
    write_junit(result, junit, elapsed_s=time.monotonic() - started)
    write_summary(gate_markdown(result, report_path=str(html)), run_dir / "gate" / "summary.md")

    lines = [str(line) for line in analysis.get("summary") or []]
    print()
    for line in lines:
        print(f"  {line}")
    # A check's name without its scope ("(steady-state windows up to ...)"): the SLO itself.
    failed = [c.name.split(" (")[0] for c in result.checks if not c.passed]
    word = (
        f"passed ({len(result.checks)} checks)"
        if result.passed
        else f"FAILED {len(failed)} of {len(result.checks)} checks: " + ", ".join(failed)
    )
    print(f"  gate {word} (JUnit: {junit})")
    print(f"report: {html}  (and {md.name} beside it)")
    if not result.passed:
        print(
            "The embedded exchange is sized to break near the 3 Dec peak: this failure is the "
            "finding the demo shows (surgeproof gate RUN_DIR exits 1 on it)."
        )
    return final_answer(analysis, lines, html), html
