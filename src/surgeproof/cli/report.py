"""``surgeproof report RUN_DIR``: report.html (self-contained) and report.md of a run, for the
people who read its result (``gate`` answers CI, ``evidence`` auditors)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` subcommand."""
    p = subparsers.add_parser(
        "report",
        help="write report.html (self-contained) and report.md for a run",
        description="Write RUN_DIR/report.html and RUN_DIR/report.md; analyse first when "
        "analysis.json is missing or older than the raw data.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", type=Path)
    p.add_argument("--out", type=Path, help="folder for report.html/.md (default: RUN_DIR)")
    p.set_defaults(func=_report)


def _report(args: argparse.Namespace) -> int:
    from surgeproof.analysis.freshness import current_analysis
    from surgeproof.report.render import write_reports
    from surgeproof.terminal import one_line

    analysis = current_analysis(args.run_dir)
    html, md = write_reports(args.run_dir, analysis, out_dir=args.out)
    from surgeproof.analysis.answer import headline

    print(one_line(headline(analysis)))
    print(f"report: {html}  (and {md.name} beside it)")
    return 0
