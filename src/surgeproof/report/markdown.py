"""``report.md``: the same report in Markdown, charts linked as PNG files beside it; and the
escaping every Markdown document surgeproof writes uses for the values in it.

Every value in a report comes from a run, a scenario, a profile or a dialect, files anyone can
craft. ``md_text`` makes one inert where it enters a document (inline text and table cells):
Markdown and HTML syntax is backslash-escaped, line breaks become spaces, control characters
go, so a phase label cannot add raw HTML, a link, an image, a table column or a line.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from surgeproof.terminal import printable

if TYPE_CHECKING:  # matplotlib stays unloaded for the gate, which only escapes
    from surgeproof.report.charts import Chart
    from surgeproof.report.content import ReportContent, Table
    from surgeproof.report.recovery import RecoveryBlock

#: Characters with a meaning anywhere in a line (CommonMark and GFM: escapes, code spans, links
#: and images, raw HTML and autolinks, table cells, GitHub's math). CommonMark lets any ASCII
#: punctuation be backslash-escaped, and shows it as written.
_ALWAYS = "\\`[]|$"
#: Emphasis and strikethrough delimiters, inert between two spaces (``peak * 1.2``) and, for
#: ``_``, between two letters or digits (``market_watcher``); ``&`` before an entity name and
#: ``<`` before a tag, comment or autolink (``<= 800 ms`` stays as it is).
_DELIMITERS = re.compile(r"[\\`\[\]|$*_~]|&(?=[#A-Za-z])|<(?=[A-Za-z/!?])")
#: What GFM turns into a link by itself: ``scheme://`` and ``www.``.
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*):(?=//)")
_WWW = re.compile(r"(?i)\b(www)\.")
#: What means something at the start of a line: headings, lists, quotes, setext underlines.
_LINE_START = re.compile(
    r"^(?:([>]|#{1,6}(?=[ \t]|$)|[-+=*](?=[ \t]|[-+=* \t]*$))|([0-9]{1,9})([.)])(?=[ \t]|$))"
)
_BACKTICKS = re.compile(r"`+")


def md_text(value: object) -> str:
    """``value`` as inert Markdown text for a line or a table cell: shown as written."""
    text = printable(str(value)).replace("\r", "").replace("\n", " ").replace("\t", " ")
    text = _DELIMITERS.sub(_escape_delimiter, text)
    text = _SCHEME.sub(r"\1\\:", text)
    text = _WWW.sub(r"\1\\.", text)
    return _LINE_START.sub(_escape_line_start, text)


def md_code(value: object, *, cell: bool = False) -> str:
    """``value`` as an inline code span (kept verbatim on one line); ``cell``: in a table."""
    text = printable(str(value)).replace("\r", "").replace("\n", " ").replace("\t", " ")
    if cell:
        text = text.replace("|", "\\|")  # GFM splits table cells before it reads code spans
    longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_code_block(text: str, info: str = "") -> list[str]:
    """The lines of a fenced code block holding ``text`` verbatim: its fence is longer than any
    run of backticks inside, so no line of ``text`` can close it."""
    body = printable(text).rstrip("\n")
    longest = max((len(m) for m in _BACKTICKS.findall(body)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, *body.split("\n"), fence]


def _escape_delimiter(m: re.Match) -> str:
    char, text, at = m.group(), m.string, m.start()
    if char in _ALWAYS or char in "&<":
        return "\\" + char
    before = text[at - 1] if at else " "
    after = text[at + 1] if at + 1 < len(text) else " "
    if before.isspace() and after.isspace():
        return char  # can neither open nor close emphasis
    if char == "_" and before.isalnum() and after.isalnum():
        return char  # intraword: never emphasis
    return "\\" + char


def _escape_line_start(m: re.Match) -> str:
    if m.group(1):
        return "\\" + m.group(1)
    return m.group(2) + "\\" + m.group(3)


def render_markdown(content: ReportContent, charts: list[Chart], chart_dir: str) -> str:
    """The report as Markdown; ``chart_dir`` is where the chart PNGs lie, relative to it."""
    t = md_text
    lines = [f"# {t(content.title)}", "", f"**{t(content.verdict)}**", ""]
    for line in (content.scale_statement, content.bracket):
        if line:
            lines += [t(line), ""]
    if content.requirements.rows:
        lines += _table(content.requirements, level=3)
    if content.headroom.rows or content.headroom.note:
        lines += _table(content.headroom, level=3)
    if content.notes:
        lines += [*(f"* {t(n)}" for n in content.notes), ""]
    if content.caveats:
        lines += ["## Read these numbers with", "", *(f"* {t(c)}" for c in content.caveats), ""]
    if content.recovery is not None:
        lines += recovery_markdown(content.recovery, chart_dir)
    if content.retries:
        lines += ["## Retries and reconnects", ""]
        for sentence in content.retries:
            lines += [t(sentence), ""]
    lines += ["## Charts", ""]
    for chart in charts:
        lines += [
            f"### {t(chart.title)}",
            "",
            f"![{t(chart.alt)}]({chart_dir}/{chart.key}.png)",
            "",
            f"_{t(chart.caption)}_",
            "",
        ]
    for table in content.tables:
        lines += _table(table)
    if content.gateway_outages:
        lines += ["## Websocket gateway outages", ""]
        lines += [f"* {t(sentence)}" for sentence in content.gateway_outages] + [""]
    lines += ["## Scale factors", ""]
    lines += [f"* **{t(k)}**: {t(v)}" for k, v in content.scale] + [""]
    lines += ["## The scenario as run", ""]
    if content.scenario_yaml:
        lines += [*md_code_block(content.scenario_yaml, "yaml"), ""]
    if content.profile_yaml:
        lines += ["Capacity profile as run:", "", *md_code_block(content.profile_yaml, "yaml"), ""]
    lines += ["## Provenance", ""]
    lines += [f"* **{t(k)}**: {t(v)}" for k, v in content.provenance]
    return "\n".join(lines) + "\n"


def _table(table: Table, level: int = 2) -> list[str]:
    out = [f"{'#' * level} {md_text(table.title)}", ""]
    out.append("| " + " | ".join(md_text(h) for h in table.header) + " |")
    out.append("|" + "---|" * len(table.header))
    out += ["| " + " | ".join(md_text(c) for c in row) + " |" for row in table.rows]
    if not table.rows:
        out.append("| none |" + " |" * (len(table.header) - 1))
    if table.note:
        out += ["", f"_{md_text(table.note)}_"]
    return [*out, ""]


def recovery_markdown(block: RecoveryBlock, chart_dir: str) -> list[str]:
    """The recovery block as Markdown lines (charts linked as PNG files in ``chart_dir``)."""
    from surgeproof.report.recovery import TITLE

    lines = [f"## {TITLE}", ""]
    for s in block.orders:
        lines += [md_text(s), ""]
    if block.marks:
        lines += ["Marks on the run's clock (surgeproof mark):", ""]
        lines += [f"* {md_text(m)}" for m in block.marks] + [""]
    for f in block.faults:
        lines += [f"### {md_text(f.heading)}", "", md_text(f.sentence), ""]
        lines += [f"* **{md_text(k)}**: {md_text(v)}" for k, v in f.facts] + [""]
        if f.output_tail:
            lines += ["Last lines of its output:", ""]
            lines += [*md_code_block("\n".join(f.output_tail)), ""]
        if f.chart is not None:
            lines += [f"![{md_text(f.chart.alt)}]({chart_dir}/{f.chart.key}.png)", "",
                      f"_{md_text(f.chart.caption)}_", ""]  # fmt: skip
        for table in (f.groups, f.orders):
            lines += _table(table, level=4)  # under its fault's heading
    return lines
