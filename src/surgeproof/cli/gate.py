"""``surgeproof gate RUN_DIR``: the CI gate — exit 0 when every requirement holds, 1 when one
fails, 2 on bad input."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``gate`` subcommand."""
    from surgeproof.scenario.requirements import NAMES as REQUIREMENT_KINDS

    g = subparsers.add_parser(
        "gate",
        help="CI gate: exit 0 when every requirement holds, 1 when one fails, 2 bad input",
        description="Judge a run against the scenario's requirements and SLOs and the flags "
        "given; optionally against an accepted baseline run.",
    )
    g.add_argument("run_dir", metavar="RUN_DIR", type=Path)
    g.add_argument(
        "--require-ceiling",
        action="append",
        default=[],
        metavar="EXPR",
        help="the measured ceiling (real users) must reach EXPR: 'peak*1.2', 'expanded', 600000",
    )
    g.add_argument(
        "--require",
        action="append",
        default=[],
        metavar="RULE",
        help=f"a requirement of any kind ({', '.join(REQUIREMENT_KINDS)}), as a scenario's "
        "'requirements:' writes it, e.g. 'sebi:peak'; repeatable",
    )
    for flag, metric in (("--max-p50", "p50"), ("--max-p95", "p95"), ("--max-p99", "p99")):
        g.add_argument(
            flag,
            action="append",
            default=[],
            metavar="GROUP=LATENCY",
            dest=flag[2:].replace("-", "_"),
            help=f"{metric} latency limit of a group (login, quotation, orders, account, "
            f"websocket, *), e.g. login=800ms; repeatable",
        )
    g.add_argument(
        "--max-error-ratio",
        action="append",
        default=[],
        metavar="RATIO",
        help="error-ratio limit, all groups ('0.01', '1%%') or one ('orders=0.02'); repeatable",
    )
    g.add_argument("--baseline", type=Path, metavar="RUN_DIR", help="an accepted earlier run")
    g.add_argument(
        "--tolerance", default="5%", help="how much worse than the baseline (default 5%%)"
    )
    g.add_argument(
        "--no-scenario",
        action="store_true",
        help="judge only the flags' requirements, not the scenario's own slos/requirements",
    )
    g.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML here")
    g.add_argument(
        "--summary",
        type=Path,
        metavar="FILE",
        help="write the Markdown summary here (also appended to $GITHUB_STEP_SUMMARY when set)",
    )
    g.set_defaults(func=_gate)


def _gate(args: argparse.Namespace) -> int:
    from surgeproof.report.gate_run import run_gate

    return run_gate(args)
