"""``surgeproof analyze``: analysis.json and a short human summary from a run directory (or
from a plain Locust run's CSV files)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from surgeproof.scenario.numbers import parse_number, parse_whole
from surgeproof.terminal import one_line


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``analyze`` subcommand."""
    from surgeproof.scenario.requirements import NAMES as REQUIREMENT_KINDS

    p = subparsers.add_parser(
        "analyze",
        help="compute the capacity analysis (analysis.json) of a run",
        description=(
            "Analyse a run directory from its raw data alone (no Locust, no network): the "
            "ceiling bracket, per-window series, USL fit, comparison with a capacity profile, "
            "incidents and reconciliation. Writes RUN_DIR/analysis.json."
        ),
    )
    p.add_argument("run_dir", nargs="?", metavar="RUN_DIR", help="a surgeproof run directory")
    p.add_argument("--profile", metavar="NAME|FILE", help="capacity profile (default: the run's)")
    p.add_argument("--slo", metavar="FILE", help="YAML file of SLOs (default: the scenario's)")
    p.add_argument(
        "--csv",
        metavar="PREFIX",
        help="analyse a plain Locust run's PREFIX_stats.csv / _stats_history.csv / _failures.csv",
    )
    p.add_argument("--window", default="1s", metavar="DURATION", help="series window (1s)")
    p.add_argument(
        "--require",
        action="append",
        metavar="RULE",
        help="a requirement: 'peak*1.2' (the ceiling against a figure) or any kind's "
        f"NAME:VALUE ({', '.join(REQUIREMENT_KINDS)}); repeatable; default: the scenario's",
    )
    p.add_argument(
        "--jobs",
        type=_jobs,
        default="auto",
        metavar="N|auto",
        help="worker processes over the record shards (auto: one per core from 20M records "
        "on, else 1); the analysis is the same whatever the number",
    )
    p.add_argument(
        "--memory",
        type=_memory,
        default=None,
        metavar="SIZE",
        help="memory the exact percentiles may use, all processes together, e.g. 512MiB, 4GiB "
        "(default 1GiB); more passes over the records when it is short, same numbers",
    )
    p.add_argument("--out", metavar="FILE", help="where to write analysis.json")
    p.add_argument("--quiet", action="store_true", help="print only the path written")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from surgeproof.analysis.headroom import parse_requirement
    from surgeproof.analysis.run import analyze_run, write_analysis
    from surgeproof.analysis.slo import load_slo_file
    from surgeproof.errors import UserError
    from surgeproof.scenario import load_profile
    from surgeproof.scenario.units import parse_duration

    if (args.run_dir is None) == (args.csv is None):
        raise UserError("give either RUN_DIR or --csv PREFIX (exactly one)")
    try:
        window_s = parse_duration(args.window)
    except ValueError as exc:
        raise UserError(f"--window: {exc}") from None
    profile = load_profile(args.profile) if args.profile else None
    slos = load_slo_file(args.slo) if args.slo else None
    requirements = [parse_requirement(r) for r in args.require] if args.require else None
    if args.csv is not None:
        from surgeproof.analysis.locust_csv import analyze_locust_csv

        analysis = analyze_locust_csv(
            args.csv, profile=profile, slos=slos, requirements=requirements
        )
        out = Path(args.out) if args.out else Path(f"{args.csv}_analysis.json")
        path = write_analysis(Path(args.csv).parent, analysis, out=out)
    else:
        run_dir = Path(args.run_dir)
        analysis = analyze_run(
            run_dir,
            profile=profile,
            slos=slos,
            window_s=window_s,
            requirements=requirements,
            slo_source="file",
            requirement_source="option",
            profile_source="option",
            jobs=args.jobs,
            memory=args.memory,
        )
        path = write_analysis(run_dir, analysis, out=args.out)
    if not args.quiet:
        for line in analysis["summary"]:
            print(one_line(line))
    print(f"wrote {path}", file=sys.stdout)
    return 0


#: Binary size suffixes --memory accepts.
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
#: Least --memory: every exact store needs room for a few histograms.
MIN_MEMORY = 16 << 20


def _jobs(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        n = parse_whole(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or 'auto', got {text!r}"
        ) from None
    if not 1 <= n <= 1024:
        raise argparse.ArgumentTypeError(f"expected 1 to 1024 processes, got {n}")
    return n


def _memory(text: str) -> int:
    """``512MiB``, ``4G``, ``1073741824``: bytes (binary units)."""
    t = text.strip().lower().removesuffix("ib").removesuffix("b")
    digits = t.rstrip("kmgt")
    unit = t[len(digits) :]
    try:
        value = parse_number(digits) * _UNITS[unit]
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(
            f"expected a size such as 512MiB or 4GiB, got {text!r}"
        ) from None
    if not MIN_MEMORY <= value <= 1 << 50:
        raise argparse.ArgumentTypeError(f"expected 16MiB to 1PiB, got {text!r}")
    return int(value)
