"""``report.html``: one self-contained file (inline CSS, base64 PNG charts), no network needed."""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING

from surgeproof.report.charts import Chart
from surgeproof.report.content import ReportContent, Table
from surgeproof.terminal import printable

if TYPE_CHECKING:
    from surgeproof.report.recovery import RecoveryBlock

_CSS = """
:root { --pass: #2b8a3e; --fail: #c92a2a; --inc: #e67700; --ink: #212529; --mute: #6c757d; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans KR", sans-serif;
       color: var(--ink); margin: 0 auto; padding: 1.5rem; max-width: 1180px; }
h1 { font-size: 1.55rem; margin: 0 0 .8rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .6rem; border-bottom: 1px solid #dee2e6; }
.verdict { font-size: 1.2rem; font-weight: 600; padding: .9rem 1.1rem; margin: 0 0 1rem;
           border-left: 6px solid var(--inc); background: #fff9db; }
.verdict.pass { border-color: var(--pass); background: #ebfbee; }
.verdict.fail { border-color: var(--fail); background: #fff5f5; }
.verdict strong { letter-spacing: .03em; }
#answer h3 { font-size: 1rem; margin: .8rem 0 .2rem; }
#answer .scale, #answer .bracket { margin: .3rem 0; }
#answer table { width: auto; min-width: 60%; }
table { border-collapse: collapse; width: 100%; font-size: .86rem; margin: .4rem 0; }
th, td { border: 1px solid #dee2e6; padding: .3rem .45rem; text-align: left; vertical-align: top; }
th { background: #f1f3f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.scroll { overflow-x: auto; }
figure { margin: 1rem 0 1.6rem; }
figure img { width: 100%; height: auto; border: 1px solid #e9ecef; }
figcaption { color: var(--mute); font-size: .85rem; }
.note { color: var(--mute); font-size: .85rem; }
pre { background: #f8f9fa; padding: .7rem; overflow-x: auto; font-size: .8rem; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; font-size: .9rem; }
dl.kv dt { font-weight: 600; } dl.kv dd { margin: 0; overflow-wrap: anywhere; }
nav ul { columns: 2; font-size: .9rem; }
@media (max-width: 800px) { body { padding: .8rem; } nav ul { columns: 1; } }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  nav { display: none; }
  h2 { break-after: avoid; }
  figure, table, .verdict { break-inside: avoid; }
  details { display: block; } details > summary { display: none; }
  .scroll { overflow: visible; }
  a { color: inherit; text-decoration: none; }
}
"""


def escape(value: str) -> str:
    """A value from the run as HTML text or attribute: entities for ``<>&"'``, and no control
    characters or bidi overrides (which ``html.escape`` leaves in, to reorder what is read)."""
    return html.escape(printable(str(value)))


def render_html(content: ReportContent, charts: list[Chart]) -> str:
    """The whole report as one HTML document."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(content.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{escape(content.title)}</h1>",
        '<section id="answer">',
        f'<p class="verdict {escape(content.status)}" id="verdict">{escape(content.verdict)}</p>',
    ]
    for line, cls in ((content.scale_statement, "scale"), (content.bracket, "bracket")):
        if line:
            parts.append(f'<p class="{cls}">{escape(line)}</p>')
    if content.requirements.rows:
        parts.append(_table(content.requirements, "requirements", level=3))
    if content.headroom.rows or content.headroom.note:
        parts.append(_table(content.headroom, "headroom", level=3))
    if content.notes:
        parts.append('<ul class="notes">')
        parts.extend(f"<li>{escape(n)}</li>" for n in content.notes)
        parts.append("</ul>")
    parts.append("</section>")
    if content.caveats:
        parts.append('<h2 id="caveats">Read these numbers with</h2><ul>')
        parts.extend(f"<li>{escape(c)}</li>" for c in content.caveats)
        parts.append("</ul>")
    parts.append(_nav(content, charts))
    if content.recovery is not None:
        parts.append(recovery_html(content.recovery))
    if content.retries:
        parts.append('<h2 id="retries">Retries and reconnects</h2>')
        parts.extend(f"<p>{escape(sentence)}</p>" for sentence in content.retries)
    parts.append('<h2 id="charts">Charts</h2>')
    for chart in charts:
        data = base64.b64encode(chart.png).decode("ascii")
        parts.append(
            f'<figure id="chart-{escape(chart.key)}"><h3>{escape(chart.title)}</h3>'
            f'<img src="data:image/png;base64,{data}" alt="{escape(chart.alt)}">'
            f"<figcaption>{escape(chart.caption)}</figcaption></figure>"
        )
    for i, table in enumerate(content.tables):
        parts.append(_table(table, f"table-{i}"))
    if content.gateway_outages:
        parts.append('<h2 id="gateway-outages">Websocket gateway outages</h2><ul>')
        parts.extend(f"<li>{escape(sentence)}</li>" for sentence in content.gateway_outages)
        parts.append("</ul>")
    parts.append('<h2 id="scale">Scale factors</h2>')
    parts.append(_kv(content.scale))
    parts.append('<h2 id="scenario">The scenario as run</h2>')
    if content.scenario_yaml:
        parts.append(f"<pre>{escape(content.scenario_yaml)}</pre>")
    if content.scenario_resolved:
        parts.append(
            "<details><summary>As resolved for this run (after time and user scale)</summary>"
            f"<pre>{escape(content.scenario_resolved)}</pre></details>"
        )
    if content.profile_yaml:
        parts.append("<h3>Capacity profile as run</h3>")
        parts.append(f"<pre>{escape(content.profile_yaml)}</pre>")
    parts.append('<h2 id="provenance">Provenance</h2>')
    parts.append(_kv(content.provenance))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _nav(content: ReportContent, charts: list[Chart]) -> str:
    """Every section once, in page order (a chart and a section never share a title)."""
    links = [("recovery", "Recovery (BCP drill)")] if content.recovery else []
    links += [("retries", "Retries and reconnects")] if content.retries else []
    links += [(f"chart-{c.key}", c.title) for c in charts]
    links += [(f"table-{i}", t.title) for i, t in enumerate(content.tables)]
    if content.gateway_outages:
        links.append(("gateway-outages", "Websocket gateway outages"))
    links += [("scale", "Scale factors"), ("scenario", "The scenario as run")]
    links.append(("provenance", "Provenance"))
    seen: set[str] = set()
    items = []
    for anchor, title in links:
        if title in seen:
            continue
        seen.add(title)
        items.append(f'<li><a href="#{escape(anchor)}">{escape(title)}</a></li>')
    return "<nav><ul>" + "".join(items) + "</ul></nav>"


def _table(table: Table, anchor: str, level: int = 2) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    body = []
    for row in table.rows:
        cells = "".join(
            f'<td class="num">{escape(c)}</td>' if _numeric(c) else f"<td>{escape(c)}</td>"
            for c in row
        )
        body.append(f"<tr>{cells}</tr>")
    if not table.rows:
        body.append(f'<tr><td colspan="{len(table.header)}">none</td></tr>')
    note = f'<p class="note">{escape(table.note)}</p>' if table.note else ""
    return (
        f'<h{level} id="{anchor}">{escape(table.title)}</h{level}><div class="scroll"><table>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>{note}"
    )


def recovery_html(block: RecoveryBlock) -> str:
    """The recovery block as HTML (a section of its own)."""
    from surgeproof.report.recovery import ANCHOR, TITLE

    parts = [f'<h2 id="{ANCHOR}">{escape(TITLE)}</h2>']
    parts += [f"<p>{escape(s)}</p>" for s in block.orders]
    if block.marks:
        parts.append("<p>Marks on the run's clock (surgeproof mark):</p><ul>")
        parts += [f"<li>{escape(m)}</li>" for m in block.marks]
        parts.append("</ul>")
    for f in block.faults:
        parts.append(f'<h3 id="{escape(f.key)}">{escape(f.heading)}</h3>')
        parts.append(f"<p>{escape(f.sentence)}</p>")
        parts.append(
            "<table>"
            + "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in f.facts)
            + "</table>"
        )
        if f.output_tail:
            parts.append("<details><summary>last lines of its output</summary><pre>"
                         + escape("\n".join(f.output_tail)) + "</pre></details>")  # fmt: skip
        if f.chart is not None:
            data = base64.b64encode(f.chart.png).decode("ascii")
            parts.append(
                f'<figure id="chart-{escape(f.chart.key)}">'
                f'<img src="data:image/png;base64,{data}" alt="{escape(f.chart.alt)}">'
                f"<figcaption>{escape(f.chart.caption)}</figcaption></figure>"
            )
        parts.append(_table(f.groups, f"{f.key}-groups"))
        parts.append(_table(f.orders, f"{f.key}-orders"))
    return "\n".join(parts)


def _kv(rows: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    return f'<dl class="kv">{items}</dl>'


def _numeric(cell: str) -> bool:
    stripped = cell.replace(",", "").replace("%", "").replace("+", "").replace("-", "", 1)
    return stripped.replace(".", "", 1).strip().isdigit()
