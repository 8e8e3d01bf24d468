"""Writing a run's reports: charts drawn once, then the HTML and Markdown renderings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from surgeproof.analysis.contract import as_analysis
from surgeproof.report.content import build_content

CHART_DIR = "report-charts"


def write_reports(
    run_dir: Path, analysis: dict[str, Any], out_dir: Path | None = None
) -> tuple[Path, Path]:
    """Write ``report.html`` (self-contained), ``report.md`` and its chart PNGs; their paths."""
    # matplotlib is heavy: imported here, when a report is actually drawn.
    from surgeproof.report import charts as ch
    from surgeproof.report.html import render_html
    from surgeproof.report.markdown import render_markdown

    run_dir = Path(run_dir)
    out_dir = Path(out_dir) if out_dir else run_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    typed = as_analysis(analysis)  # read through the contract once, drawn and said from it
    drawn = [
        ch.concurrency_chart(typed),
        ch.capacity_chart(typed),
        ch.errors_chart(typed),
        ch.group_latency_chart(typed),
        ch.websocket_chart(typed),
    ]
    retries = ch.retries_chart(typed)  # only when the run re-sent or reconnected anything
    if retries is not None:
        drawn.append(retries)
    content = build_content(run_dir, typed)
    from surgeproof.report.recovery import recovery_block

    content.recovery = recovery_block(typed)
    html_path = out_dir / "report.html"
    html_path.write_text(render_html(content, drawn), encoding="utf-8")
    (out_dir / CHART_DIR).mkdir(exist_ok=True)
    for chart in drawn + (content.recovery.charts if content.recovery else []):
        (out_dir / CHART_DIR / f"{chart.key}.png").write_bytes(chart.png)
    md_path = out_dir / "report.md"
    md_path.write_text(render_markdown(content, drawn, CHART_DIR), encoding="utf-8")
    return html_path, md_path
