"""One ``surgeproof gate`` invocation: read the run (and baseline), judge, write the CI outputs."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from surgeproof.analysis.freshness import current_analysis
from surgeproof.errors import UserError
from surgeproof.report.checks import GateResult
from surgeproof.report.gate import judge_run
from surgeproof.report.junit import write_junit
from surgeproof.report.regression import Incomparable, check_comparable, regression_checks
from surgeproof.report.requirements import collect, parse_tolerance
from surgeproof.report.summary import gate_markdown, write_summary
from surgeproof.scenario.model import CapacityProfile, Scenario
from surgeproof.terminal import one_line


def run_gate(args: argparse.Namespace) -> int:
    """Exit 0 when every requirement holds, 1 when one fails (UserError → 2 via the CLI)."""
    started = time.monotonic()
    result = gate(
        args.run_dir,
        ceilings=args.require_ceiling,
        rules=args.require,
        latencies=[
            (flag, text)
            for flag, attr in (
                ("--max-p50", "max_p50"),
                ("--max-p95", "max_p95"),
                ("--max-p99", "max_p99"),
            )
            for text in getattr(args, attr)
        ],
        error_ratios=args.max_error_ratio,
        baseline=args.baseline,
        tolerance=args.tolerance,
        use_scenario=not args.no_scenario,
    )
    if args.junit:
        write_junit(result, args.junit, elapsed_s=time.monotonic() - started)
    report = Path(args.run_dir) / "report.html"
    from surgeproof.report.recovery import gate_lines

    recovery = gate_lines(current_analysis(args.run_dir))
    summary = gate_markdown(
        result, report_path=str(report) if report.exists() else None, recovery=recovery
    )
    write_summary(summary, args.summary)
    for check in result.checks:
        print(f"{check.mark}  {one_line(check.name)}: {one_line(check.message)}")
    for line in recovery:
        print(f"recovery: {one_line(line)}")
    for caveat in result.caveats:
        print(f"note: {one_line(caveat)}")
    if not result.checks:
        print(
            "no requirements: give --require/--require-ceiling/--max-p99/--max-error-ratio/"
            "--baseline, "
            "or a scenario with slos/requirements",
            file=sys.stderr,
        )
        return 2
    failed = len(result.failures)
    word = "passed" if result.passed else f"FAILED ({failed} of {len(result.checks)})"
    print(f"gate {word}: {one_line(result.run_id)}")
    return 0 if result.passed else 1


def gate(
    run_dir: Path,
    *,
    ceilings: list[str] = (),  # type: ignore[assignment]
    rules: list[str] = (),  # type: ignore[assignment]
    latencies: list[tuple[str, str]] = (),  # type: ignore[assignment]
    error_ratios: list[str] = (),  # type: ignore[assignment]
    baseline: Path | None = None,
    tolerance: str = "5%",
    use_scenario: bool = True,
) -> GateResult:
    """Judge ``run_dir`` against the scenario's requirements and the given ones."""
    run_dir = Path(run_dir)
    tol = parse_tolerance(tolerance)
    analysis = current_analysis(run_dir)
    scenario, _ = scenario_as_run(run_dir)
    ceiling_reqs, slo_reqs = collect(
        scenario if use_scenario else None,
        ceilings=ceilings,
        rules=rules,
        latencies=latencies,
        error_ratios=error_ratios,
    )
    result = judge_run(run_dir, analysis, ceiling_reqs, slo_reqs)
    if baseline is not None:
        meta, base_meta = _meta(run_dir), _meta(Path(baseline))
        try:
            check_comparable(meta, base_meta)
        except Incomparable as exc:
            raise UserError(
                f"--baseline {baseline}: not comparable with {run_dir}: {exc}"
            ) from None
        base_analysis = current_analysis(Path(baseline))
        base_id = str(base_meta.get("run_id") or Path(baseline).name)
        result.checks.extend(regression_checks(analysis, base_analysis, tol, base_id))
    return result


def scenario_as_run(run_dir: Path) -> tuple[Scenario | None, CapacityProfile | None]:
    """The scenario and profile files copied into the run directory, parsed."""
    from surgeproof.scenario.catalog import load_profile
    from surgeproof.scenario.parse import parse_scenario
    from surgeproof.scenario.yamlfile import read_yaml

    profile = None
    if (run_dir / "profile.yaml").is_file():
        profile = load_profile(run_dir / "profile.yaml")
    scenario = None
    if (run_dir / "scenario.yaml").is_file():
        doc, source = read_yaml(run_dir / "scenario.yaml")
        # The run's own profile copy answers the scenario's profile name: the figures as run.
        scenario = parse_scenario(doc, source, (lambda _f: profile) if profile else None)
    return scenario, profile


def _meta(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "run.json"
    if not path.is_file():
        raise UserError(f"{run_dir}: not a surgeproof run directory (no run.json)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from None
