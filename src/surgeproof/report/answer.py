"""The end of ``surgeproof run``: the analysis, the report, and the answer printed once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from surgeproof.analysis.contract import as_analysis
from surgeproof.errors import UserError


def answer_run(run_dir: Path, report: bool = True) -> tuple[dict[str, Any] | None, Path | None]:
    """Write ``analysis.json`` (and the report), print the summary and where they are; the
    answer for the live dashboard and the report's path."""
    from surgeproof.analysis.freshness import current_analysis

    try:
        analysis = current_analysis(run_dir)
    except UserError as exc:
        print(f"surgeproof run: no analysis: {exc}", flush=True)
        return None, None
    html = md = None
    if report:
        from surgeproof.report.render import write_reports

        html, md = write_reports(run_dir, analysis)
    lines = list(as_analysis(analysis).summary)
    print()
    for line in lines:
        print(f"  {line}")
    print()
    if html is not None:
        print(f"report: {html}  (and {md.name} beside it)", flush=True)
    else:
        print(f"analysis: {run_dir / 'analysis.json'}", flush=True)
    return final_answer(analysis, lines, html), html


def final_answer(analysis: dict[str, Any], lines: list[str], report: Path | None) -> dict[str, Any]:
    """What the dashboard shows once the run is over: the verdict's line first, then the rest."""
    status = as_analysis(analysis).verdict.status
    return {
        "status": status,
        "headline": lines[0] if lines else status.upper(),
        "lines": lines[1:],
        "report_path": str(report) if report is not None else None,
    }
