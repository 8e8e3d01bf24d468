"""The report's table of refused worker-channel messages: drawn from analysis.json alone, in both
renderings, only when the master refused something."""

from __future__ import annotations

import copy

import pytest

from surgeproof.analysis.freshness import current_analysis
from surgeproof.report.content import build_content
from surgeproof.report.refusals import TITLE, refused_messages_tables
from surgeproof.report.render import write_reports

REFUSED = {
    "messages": 38,
    "peers": 2,
    "by_reason": {"unauthenticated": 37, "replay": 1},
    "entries": [
        {
            "peer": "evil_1",
            "claimed_source": "../../etc/x",
            "message": "surgeproof_batch",
            "reason": "unauthenticated",
            "why": "not from an authenticated worker (it never proved the fleet key)",
            "count": 37,
            "first_ns": 1,
            "last_ns": 2,
            "first_t_s": 3.0,
            "last_t_s": 64.5,
        },
        {
            "peer": "vm_1a2b",
            "claimed_source": "worker-1a2b3c4d",
            "message": "surgeproof_batch",
            "reason": "replay",
            "why": "its sequence number is not above the last one accepted",
            "count": 1,
            "first_ns": 1,
            "last_ns": 1,
            "first_t_s": 7.25,
            "last_t_s": 7.25,
        },
    ],
}


@pytest.fixture
def analysis(step_run):
    return current_analysis(step_run)


def _refused(analysis: dict) -> dict:
    a = copy.deepcopy(analysis)
    a["data_quality"]["refused_messages"] = copy.deepcopy(REFUSED)
    return a


def test_the_table_names_each_peer_what_it_claimed_why_and_when(analysis):
    [table] = refused_messages_tables(_refused(analysis))
    assert table.title == TITLE
    assert table.rows[0] == (
        "evil_1",
        "../../etc/x",
        "surgeproof_batch",
        "unauthenticated: not from an authenticated worker (it never proved the fleet key)",
        "37",
        "t=3.0–64.5 s",
    )
    assert table.rows[1][3].startswith("replay: ") and table.rows[1][5] == "t=7.2 s"
    assert table.note.startswith("38 message(s) from 2 peer(s)")


def test_both_renderings_show_it_and_a_clean_run_has_no_such_table(step_run, analysis, tmp_path):
    html_path, md_path = write_reports(step_run, _refused(analysis), tmp_path / "out")
    md, html = md_path.read_text(), html_path.read_text()
    assert f"## {TITLE}" in md or f"### {TITLE}" in md
    assert "evil_1" in md and "evil_1" in html and TITLE in html
    assert analysis["data_quality"]["refused_messages"]["messages"] == 0
    assert TITLE not in [t.title for t in build_content(step_run, analysis).tables]
    csv_like = copy.deepcopy(analysis)
    del csv_like["data_quality"]["refused_messages"]  # a Locust-CSV analysis has no such section
    assert refused_messages_tables(csv_like) == []
