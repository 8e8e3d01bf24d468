"""Hostile names and labels in a run directory cannot be used against the readers of its reports.

The run's level labels, scenario name, run id, endpoint names, dialect and phase carry raw HTML,
a Markdown image and link, bare URLs, table pipes, newlines followed by Markdown, backtick fences
and terminal escape sequences (``hostile_run``). ``report``, ``gate --summary`` (also appended to
``$GITHUB_STEP_SUMMARY``), the JUnit XML and an evidence pack's INDEX.md are rendered the way
GitHub renders Markdown (cmark-gfm, raw HTML allowed through so nothing is hidden by a sanitiser)
and must show the values as text: no element, link, image, heading or table cell of theirs.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from cli.oneline import files_under
from report.hostile_run import FIELDS, hostile, write_hostile_run
from surgeproof.report.index import render_index
from surgeproof.report.markdown import md_code, md_code_block, md_text

#: Characters no output may carry: ESC, C1 CSI, BEL, carriage return, bidi override.
CONTROLS = re.compile("[\x1b\x9b\x07\r\u202e\u202c]")
#: Markdown lines a hostile value tried to add on lines of their own.
INJECTED_LINES = ("# injected heading", "| x | y |", "<img src=x onerror=alert(1)>")


def render(markdown: str) -> str:
    """HTML as GitHub's renderer makes it, with raw HTML let through (the worst case)."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


class Elements(HTMLParser):
    """The elements of an HTML text, with their attributes, and each table's rows' widths."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.rows: list[list[int]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.rows.append([])
        elif tag == "tr":
            self.rows[-1].append(0)
        elif tag in ("td", "th"):
            self.rows[-1][-1] += 1

    def handle_data(self, data):
        self.text.append(data)

    def named(self, *names: str) -> list[tuple[str, dict]]:
        return [(t, a) for t, a in self.tags if t in names]


def assert_inert(markdown: str, own_images: str | None = None) -> Elements:
    """The Markdown renders no element, link, image, heading or table cell from a value."""
    assert not CONTROLS.search(markdown)
    for line in markdown.splitlines():
        assert not line.startswith(INJECTED_LINES), line
    html = render(markdown)
    found = Elements(html)
    assert found.named("script", "a", "iframe", "style") == []
    for _, attrs in found.named("img"):
        assert own_images and attrs["src"].startswith(own_images), attrs
    for table in found.rows:
        assert len(set(table)) == 1, table  # every row as wide as the header: no pipe got in
    assert not re.search(r"<h[1-6][^>]*>injected heading", html)  # never a heading of its own
    return found


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """A hostile run, analysed, reported and gated in-process; and a sentinel folder beside it."""
    root = tmp_path_factory.mktemp("hostile")
    sentinel = root / "sentinel"
    sentinel.mkdir()
    (sentinel / "keep.txt").write_text("untouched")
    run_dir = write_hostile_run(root / "r|`<b>")  # the folder's own name is hostile too
    step_summary = root / "step-summary.md"
    step_summary.write_text("earlier step\n")
    before = {p: p.read_bytes() for p in files_under(sentinel)}
    capsys = _Capture()
    mp = pytest.MonkeyPatch()
    mp.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    try:
        answers = {
            "analyze": capsys.run("analyze", run_dir),
            "report": capsys.run("report", run_dir),
            "gate": capsys.run(
                "gate", run_dir, "--summary", root / "gate.md", "--junit", root / "junit.xml"
            ),
        }
    finally:
        mp.undo()
    return {
        "root": root,
        "run_dir": run_dir,
        "sentinel": (sentinel, before),
        "answers": answers,
        "step_summary": step_summary,
    }


class _Capture:
    """``surgeproof ARGV`` in this process with stdout/stderr captured (module-scoped)."""

    def run(self, *argv):
        import contextlib
        import io

        from surgeproof.cli import main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in argv])
        return code, out.getvalue(), err.getvalue()


def test_the_commands_ran_on_the_hostile_run(outputs):
    answers = outputs["answers"]
    assert answers["analyze"][0] == 0 and answers["report"][0] == 0
    assert answers["gate"][0] == 1  # the steps' known truth: the p99 and error SLOs fail


def test_report_md_shows_every_hostile_value_only_as_text(outputs):
    markdown = (outputs["run_dir"] / "report.md").read_text()
    for field in ("level", "scenario", "runid", "endpoint"):
        assert field + "\\<script>" in markdown, field  # there, escaped
    found = assert_inert(markdown, own_images="report-charts/")
    shown = "".join(found.text)
    assert "level<script>alert(1)</script> ![x](http://attacker.invalid/p.png)" in shown
    # The scenario copy's own lines of backticks cannot close the fence it sits in.
    assert found.named("pre") and "<script>alert(1)</script>\n  ````\n" in shown


def test_the_gate_summary_and_the_ci_job_summary_show_them_only_as_text(outputs):
    summary = (outputs["root"] / "gate.md").read_text()
    assert "level\\<script>" in summary
    found = assert_inert(summary)
    assert "runid<script>" in "".join(found.text)  # the run id, in a code span
    step = outputs["step_summary"].read_text()
    assert step.startswith("earlier step\n") and summary in step
    assert_inert(step)


def test_junit_is_valid_xml_whose_messages_render_as_text(outputs):
    root = ET.parse(outputs["root"] / "junit.xml").getroot()  # control characters would break it
    messages = [f.get("message") for f in root.iter("failure")]
    texts = [f.text for f in root.iter("failure")] + [c.get("name") for c in root.iter("testcase")]
    assert len(messages) == 2 and all("level\\<script>" in m for m in messages)
    for text in messages + texts:
        assert "\n" not in text.strip()
        assert_inert(text)


def test_report_html_has_no_element_from_a_value(outputs):
    html = (outputs["run_dir"] / "report.html").read_text()
    assert not CONTROLS.search(html)
    found = Elements(html)
    assert found.named("script", "iframe", "a") == [
        (t, a) for t, a in found.named("a") if a.get("href", "").startswith("#")
    ]
    assert all(a["src"].startswith("data:image/png;base64,") for _, a in found.named("img"))
    assert "level<script>alert(1)</script>" in "".join(found.text)


def test_nothing_outside_the_run_directory_changed(outputs):
    sentinel, before = outputs["sentinel"]
    assert {p: p.read_bytes() for p in files_under(sentinel)} == before
    root = outputs["root"]
    top = {p.name for p in root.iterdir()}
    assert top == {"sentinel", outputs["run_dir"].name, "step-summary.md", "gate.md", "junit.xml"}


def test_an_evidence_index_shows_hostile_names_only_as_text():
    pack = {
        "run_id": hostile("runid"),
        "created_at_utc": "2024-12-03T13:00:00+00:00",
        "created_at_kst": "2024-12-03T22:00:00+09:00",
        "made_by": {"surgeproof": "0.1.0", "python": "3.11"},
        "run_made_by": hostile("made-by"),
        "headline": {"verdict": hostile("verdict")},
    }
    files = ["run/report.md", "run/records/a|b`c<img src=x>.bin", "run/x\n# injected heading"]
    assert_inert(render_index(pack, files))


@pytest.mark.parametrize("field", FIELDS)
def test_the_primitive_makes_each_value_inert_alone_and_in_a_table(field):
    value = hostile(field)
    assert_inert(f"* {md_text(value)}\n")
    assert_inert(f"| a | b |\n|---|---|\n| {md_text(value)} | {md_code(value, cell=True)} |\n")
    assert_inert(f"# {md_text(value)}\n\n{md_code(value)}\n")
    block = "\n".join(["x", *md_code_block("```\n" + value + "\n````\n~~~"), "", "![i](p)"])
    assert Elements(render(block)).named("img") == [("img", {"src": "p", "alt": "i"})]


@pytest.mark.parametrize(
    "value",
    ["# h", "## h", "- item", "+ item", "* item", "1. item", "3) item", "> quote", "---", "===",
     "***", "___", "<div>", "<!-- c -->", "<http://x.invalid>", "&lt;b&gt;", "&#60;b&#62;",
     "$x^2$", "~~s~~", "**b**", "_i_", "a*b*c", "[l]: http://x.invalid", "[^1]"],
)  # fmt: skip
def test_markdown_that_means_something_at_a_line_start_means_nothing_in_a_value(value):
    found = Elements(render(f"{md_text(value)}\n"))
    assert [t for t, _ in found.tags] == ["p"], (value, found.tags)
    assert "".join(found.text).strip() == value


def test_plain_figures_stay_readable():
    for text in ("ceiling >= peak * 1.2 (648,000)", "login p99 <= 800 ms", "market_watcher 0.6",
                 "8.0 s", "-5%", "a & b"):  # fmt: skip
        assert md_text(text) == text
