"""surgeproof report on a real short run: a self-contained HTML report a browser can render."""

import base64
import json
import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser

import numpy as np
import pytest

from surgeproof.analysis.freshness import is_stale
from surgeproof.cli import main

CHART_KEYS = ("concurrency", "capacity", "errors", "groups", "websocket")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def rendered(real_run, tmp_path_factory):
    """The real run, copied, with its report written by the command."""
    run_dir = tmp_path_factory.mktemp("rendered") / real_run.name
    shutil.copytree(real_run, run_dir)
    assert main(["report", str(run_dir)]) == 0
    return run_dir


def test_report_analyses_a_run_without_analysis_first(rendered):
    assert (rendered / "analysis.json").is_file()
    assert is_stale(rendered) is None


def test_verdict_comes_first_with_the_bracket_in_real_users(rendered):
    html = (rendered / "report.html").read_text()
    body = html.split("<body>", 1)[1]
    first = re.search(r'<p class="verdict (pass|fail|inconclusive)" id="verdict">(.*?)</p>', body)
    assert first is not None
    assert body.index('id="verdict"') < body.index("<h2")
    analysis = json.loads((rendered / "analysis.json").read_text())
    said = first.group(2)
    assert said.startswith(analysis["verdict"]["status"].upper() + ": ")
    real = analysis["ceiling"]["real"]
    for n in (real["last_pass_users"], real["first_fail_users"]):
        if n is not None:
            assert f"{n:,.0f}" in said
    assert "real users" in said and "simulated" not in said
    # The scale is stated once, on the first screen, after the verdict.
    statement = analysis["scale"]["statement"]
    assert html.count(statement) == 1 and html.index(statement) > html.index('id="verdict"')


def _drawn(run_dir):
    """The charts a report of ``run_dir`` has: the retries chart only when something was re-sent
    or reconnected, which a short real run may or may not do."""
    amp = json.loads((run_dir / "analysis.json").read_text())["amplification"]
    busy = amp["http"]["resends"] or amp["websocket"]["reconnect_attempts"]
    busy = busy or amp["websocket"]["sessions_lost"]
    return CHART_KEYS + (("retries",) if busy else ())


def test_every_chart_is_an_embedded_png(rendered):
    html = (rendered / "report.html").read_text()
    keys = _drawn(rendered)
    for key in keys:
        m = re.search(rf'<figure id="chart-{key}">.*?src="data:image/png;base64,([^"]+)"', html)
        assert m, key
        assert base64.b64decode(m.group(1)).startswith(PNG_MAGIC)
    assert len(re.findall(r'src="data:image/png;base64,', html)) == len(keys)
    assert '<h2 id="retries">Retries and reconnects</h2>' in html


def test_nothing_is_fetched_from_the_network(rendered):
    html = (rendered / "report.html").read_text()
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<link" not in html and "<script" not in html


def test_the_first_screen_has_the_requirement_and_the_headroom_against_each_figure(rendered):
    html = (rendered / "report.html").read_text()
    answer = html.split('<section id="answer">', 1)[1].split("</section>", 1)[0]
    section = answer.split('id="headroom"', 1)[1]
    for label in ("normal capacity", "capacity on 3 Dec 2024", "capacity after expansion"):
        assert f"<td>{label}</td>" in section
    assert "500,000 concurrent users" in section
    requirement = answer.split('id="requirements"', 1)[1].split('id="headroom"', 1)[0]
    assert "<td>ceiling &gt;= peak * 1.2 = 648,000 real users</td>" in requirement
    assert re.search(r"<td>(PASS|FAIL|NOT SHOWN)</td>", requirement)


def test_report_has_endpoints_scenario_scale_and_provenance(rendered):
    html = (rendered / "report.html").read_text()
    assert "POST /v1/orders" in html or "GET /v1/ticker" in html
    assert "name: martial-law-2024-12-03" in html
    assert "1 simulated user = 10,000 real users" in html
    nav = re.findall(r'<li><a href="#[^"]+">([^<]+)</a></li>', html.split("<nav>", 1)[1])
    assert nav and len(nav) == len(set(nav))  # each section once
    assert "+09:00" in html and "+00:00" in html  # times in KST and UTC


def test_markdown_report_tells_the_same_story(rendered):
    md = (rendered / "report.md").read_text()
    html = (rendered / "report.html").read_text()
    verdict = md.split("\n\n**", 1)[1].split("**", 1)[0]
    assert verdict.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;") in html
    for key in _drawn(rendered):
        assert (rendered / "report-charts" / f"{key}.png").read_bytes().startswith(PNG_MAGIC)
        assert f"(report-charts/{key}.png)" in md


def test_stale_analysis_is_recomputed(rendered):
    events = rendered / "events.jsonl"
    events.write_text(events.read_text())  # newer than analysis.json now
    assert is_stale(rendered) == "analysis.json is older than the raw data"
    assert main(["report", str(rendered)]) == 0
    assert is_stale(rendered) is None


def test_a_directory_that_is_not_a_run_is_a_one_line_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().endswith("not a surgeproof run directory (no run.json)")


@pytest.mark.slow
def test_chromium_renders_the_report_to_a_non_blank_screenshot(rendered, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (.ci/run installs it)")
    shot = tmp_path / "report.png"
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1280,2000",
            (rendered / "report.html").resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.is_file(), done.stderr[-2000:]
    import matplotlib.image

    pixels = matplotlib.image.imread(str(shot))
    assert pixels.shape[:2] == (2000, 1280)
    # A blank page is one colour; a rendered report has text, tables and charts.
    assert np.unique(pixels.reshape(-1, pixels.shape[-1])[::97], axis=0).shape[0] > 50
    assert float(pixels[..., :3].std()) > 0.05


class _Prose(HTMLParser):
    """The visible prose of a page: text outside tables, preformatted blocks, styles and the
    image data, block by block."""

    SKIP = frozenset({"style", "script", "pre", "table", "title", "nav"})
    BLOCKS = frozenset({"p", "li", "h1", "h2", "h3", "figcaption", "dt", "dd", "summary"})

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.blocks: list[str] = []
        self._now: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.depth += 1
        elif tag in self.BLOCKS:
            self._flush()

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.depth -= 1
        elif tag in self.BLOCKS:
            self._flush()

    def handle_data(self, data):
        if not self.depth:
            self._now.append(data)

    def _flush(self):
        text = " ".join("".join(self._now).split())
        if text:
            self.blocks.append(text)
        self._now = []


def _sentences(blocks) -> list[str]:
    """Sentences of five words or more (shorter ones are labels: "none", "PASS", a number)."""
    out = []
    for block in blocks:
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", block):
            sentence = sentence.strip(" _*")
            if len(sentence.split()) >= 5:
                out.append(sentence)
    return out


def _markdown_prose(md: str) -> list[str]:
    md = re.sub(r"```.*?```", "", md, flags=re.S)  # the scenario and profile as run
    md = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", md)  # image alt text is not shown
    return [
        line.lstrip("#* ").strip()
        for line in md.splitlines()
        if line.strip() and not line.lstrip().startswith("|")
    ]


def test_no_sentence_is_said_twice(rendered):
    parser = _Prose()
    parser.feed((rendered / "report.html").read_text())
    parser._flush()
    for where, blocks in (
        ("report.html", parser.blocks),
        ("report.md", _markdown_prose((rendered / "report.md").read_text())),
    ):
        sentences = _sentences(blocks)
        assert len(sentences) > 10, where  # the check reads the report, not an empty page
        twice = [s for s, n in Counter(sentences).items() if n > 1]
        assert not twice, (where, twice)


def test_reporting_4x_the_windows_and_levels_costs_at_most_4x_the_work(tmp_path):
    """A count, not a clock: lines of surgeproof's code executed by ``write_reports`` for a run
    with 4× the levels and windows (every other level breaks its p99, so breaches, failing
    levels and breach windows grow with it too). A per-window or per-level scan of the whole
    series would multiply the count by ~16."""
    from stepruns import Step, write_step_run

    from surgeproof.analysis.run import analyze_run
    from surgeproof.report.render import write_reports
    from worklines import lines_executed

    work = {}
    for levels in (40, 160):
        steps = tuple(Step(30 + i % 7, 2000.0 if i % 2 else 20.0) for i in range(levels))
        run_dir = write_step_run(tmp_path / f"r{levels}", steps)
        analysis = analyze_run(run_dir)
        assert sum(lv["verdict"] == "fail" for lv in analysis["levels"]) == levels // 2
        assert len(analysis["timeseries"]["start_ns"]) >= 7 * levels
        work[levels], (html, md) = lines_executed(
            lambda run_dir=run_dir, analysis=analysis: write_reports(run_dir, analysis)
        )
        assert f"step-{levels}" in md.read_text() and html.stat().st_size > 0
    assert work[160] <= 4.2 * work[40], work
