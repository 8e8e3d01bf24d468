"""The gate's Markdown summary, shaped for a CI job summary (GitHub's ``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

import os
from pathlib import Path

from surgeproof.report.checks import GateResult
from surgeproof.report.markdown import md_code, md_text


def gate_markdown(
    result: GateResult, *, report_path: str | None = None, recovery: list[str] | None = None
) -> str:
    """A heading with the outcome, a table of every check, the caveats, each drilled fault's
    recovery (``report.recovery.gate_lines``), the report's path."""
    failed = len(result.failures)
    skipped = len(result.skipped)
    if result.passed:
        head = f"## ✅ surgeproof gate passed: {len(result.checks) - skipped} requirements hold"
        head += f", {skipped} not applicable" if skipped else ""
    else:
        head = f"## ❌ surgeproof gate failed: {failed} of {len(result.checks)} requirements failed"
    lines = [head, "", f"Run {md_code(result.run_id)} ({md_code(result.run_dir)})", ""]
    lines += [
        "| | requirement | measured | limit | from | source |",
        "|---|---|---|---|---|---|",
    ]
    for c in result.checks:
        mark = "⏭️" if not c.applicable else "✅" if c.passed else "❌"
        measured = c.measured + (f" — {c.note}" if c.note else "")
        lines.append(
            f"| {mark} | {md_text(c.name)} | {md_text(measured)} | {md_text(c.limit)} | "
            f"{md_code(c.origin, cell=True)} | {md_text(c.source)} |"
        )
    if not result.checks:
        lines.append("| ⚠️ | no requirements given | | | | |")
    if result.caveats:
        lines += ["", "**Read with:**", *(f"* {md_text(c)}" for c in result.caveats)]
    if recovery:
        lines += ["", "**Recovery (BCP drill):**", *(f"* {md_text(r)}" for r in recovery)]
    if report_path:
        lines += ["", f"Full report: {md_code(report_path)}"]
    return "\n".join(lines) + "\n"


def write_summary(text: str, path: Path | None) -> list[Path]:
    """Write to ``path`` and append to ``$GITHUB_STEP_SUMMARY`` when set; the files written."""
    written = []
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    step = os.environ.get("GITHUB_STEP_SUMMARY")
    if step:
        with open(step, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
        written.append(Path(step))
    return written
