"""The gate's Markdown summary, shaped for a CI job summary (GitHub's ``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

import os
from pathlib import Path

from surgeproof.report.checks import GateResult


def gate_markdown(
    result: GateResult, *, report_path: str | None = None, recovery: list[str] | None = None
) -> str:
    """A heading with the outcome, a table of every check, the caveats, each drilled fault's
    recovery (``report.recovery.gate_lines``), the report's path."""
    failed = len(result.failures)
    if result.passed:
        head = f"## ✅ surgeproof gate passed: {len(result.checks)} requirements hold"
    else:
        head = f"## ❌ surgeproof gate failed: {failed} of {len(result.checks)} requirements failed"
    lines = [head, "", f"Run `{result.run_id}` (`{result.run_dir}`)", ""]
    lines += ["| | requirement | measured | limit | from |", "|---|---|---|---|---|"]
    for c in result.checks:
        mark = "✅" if c.passed else "❌"
        measured = c.measured + (f" — {c.note}" if c.note else "")
        lines.append(
            f"| {mark} | {_cell(c.name)} | {_cell(measured)} | {_cell(c.limit)} | `{c.origin}` |"
        )
    if not result.checks:
        lines.append("| ⚠️ | no requirements given | | | |")
    if result.caveats:
        lines += ["", "**Read with:**", *(f"* {_cell(c)}" for c in result.caveats)]
    if recovery:
        lines += ["", "**Recovery (BCP drill):**", *(f"* {_cell(r)}" for r in recovery)]
    if report_path:
        lines += ["", f"Full report: `{report_path}`"]
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


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
