"""``report.md``: the same report in Markdown, charts linked as PNG files beside it."""

from __future__ import annotations

from surgeproof.report.charts import Chart
from surgeproof.report.content import ReportContent, Table


def render_markdown(content: ReportContent, charts: list[Chart], chart_dir: str) -> str:
    """The report as Markdown; ``chart_dir`` is where the chart PNGs lie, relative to it."""
    lines = [f"# {content.title}", "", f"**{content.verdict}**", ""]
    for line in (content.scale_statement, content.bracket):
        if line:
            lines += [line, ""]
    if content.requirements.rows:
        lines += _table(content.requirements, level=3)
    if content.headroom.rows or content.headroom.note:
        lines += _table(content.headroom, level=3)
    if content.notes:
        lines += [*(f"* {n}" for n in content.notes), ""]
    if content.caveats:
        lines += ["## Read these numbers with", "", *(f"* {c}" for c in content.caveats), ""]
    if content.retries:
        lines += ["## Retries and reconnects", ""]
        for sentence in content.retries:
            lines += [sentence, ""]
    lines += ["## Charts", ""]
    for chart in charts:
        lines += [
            f"### {chart.title}",
            "",
            f"![{chart.alt}]({chart_dir}/{chart.key}.png)",
            "",
            f"_{chart.caption}_",
            "",
        ]
    for table in content.tables:
        lines += _table(table)
    if content.gateway_outages:
        lines += ["## Websocket gateway outages", ""]
        lines += [f"* {sentence}" for sentence in content.gateway_outages] + [""]
    lines += ["## Scale factors", ""]
    lines += [f"* **{k}**: {v}" for k, v in content.scale] + [""]
    lines += ["## The scenario as run", ""]
    if content.scenario_yaml:
        lines += ["```yaml", content.scenario_yaml.rstrip("\n"), "```", ""]
    if content.profile_yaml:
        lines += [
            "Capacity profile as run:",
            "",
            "```yaml",
            content.profile_yaml.rstrip("\n"),
            "```",
            "",
        ]
    lines += ["## Provenance", ""]
    lines += [f"* **{k}**: {v}" for k, v in content.provenance]
    return "\n".join(lines) + "\n"


def _table(table: Table, level: int = 2) -> list[str]:
    out = [f"{'#' * level} {table.title}", ""]
    out.append("| " + " | ".join(table.header) + " |")
    out.append("|" + "---|" * len(table.header))
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
    if not table.rows:
        out.append("| none |" + " |" * (len(table.header) - 1))
    if table.note:
        out += ["", f"_{table.note}_"]
    return [*out, ""]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
