"""The report's "Retries and reconnects" section: re-sends and websocket reconnects in a few
sentences from the analysis alone, a chart when there is something to draw, one line when there
is nothing."""

from __future__ import annotations

import copy
import json

import pytest

from surgeproof.analysis.freshness import current_analysis
from surgeproof.report.charts import retries_chart
from surgeproof.report.content import build_content, retries_sentences
from surgeproof.report.render import CHART_DIR, write_reports

NONE = "No retries or reconnects: no HTTP call was re-sent and no websocket reconnected."
HTTP = (
    "Re-sends added 38% to the HTTP load (1.38×: 12,350 re-sends on 32,500 first attempts), "
    "peaking at 2.10× at t=312 s; 61% of re-sends failed again. By group: orders 2.05×, "
    "quotation 1.10×. 73% of re-sends were sent while an SLO was breached."
)
WS = (
    "4,210 websocket reconnect attempts (3,100 connected, 1,110 failed) by 1,250 users, peak "
    "380/s at t=95 s; 1,203 of 1,210 lost sessions came back, median 2.1 s, p95 6.0 s, max "
    "14.2 s; 7 never did by the end of the run."
)


def _group(first: int, resends: int, factor: float, failed: int) -> dict:
    """An ``amplification.http.by_group`` entry as the analysis writes it."""
    return {
        "first_attempts": first,
        "resends": resends,
        "factor": factor,
        "resends_failed": failed,
        "resends_failed_ratio": failed / resends if resends else None,
    }


def _surge(analysis: dict) -> dict:
    """``analysis`` with the amplification of a panic: retrying clients and a reconnect storm."""
    a = copy.deepcopy(analysis)
    n = len(a["timeseries"]["t_s"])
    a["amplification"] = {
        "window_min_first_attempts": 5,
        "http": {
            "first_attempts": 32_500,
            "resends": 12_350,
            "factor": 1.38,
            "resends_failed": 7_534,
            "resends_failed_ratio": 0.61,
            "added_ratio": 0.38,
            "max_attempt": 3,
            "peak": {
                "factor": 2.1,
                "t_s": 312.0,
                "start_ns": 0,
                "first_attempts": 100,
                "resends": 110,
            },
            "by_group": {
                "quotation": _group(20_000, 2_000, 1.1, 1_000),
                "orders": _group(10_000, 10_500, 2.05, 6_534),
                "login": _group(2_500, 0, 1.0, 0),
            },
            "resends_in_breaches": 9_016,
            "resends_in_breaches_share": 0.73,
        },
        "websocket": {
            "reconnect_attempts": 4_210,
            "reconnects_ok": 3_100,
            "reconnects_failed": 1_110,
            "max_attempt": 5,
            "users_reconnected": 1_250,
            "peak": {"per_s": 380.0, "attempts": 380, "t_s": 95.0, "start_ns": 0},
            "sessions_lost": 1_210,
            "sessions_back": 1_203,
            "never_back": 7,
            "resubscribe_s": {
                "p50": 2.1,
                "p90": 5.0,
                "p95": 6.0,
                "p99": 9.0,
                "p99.9": 14.0,
                "max": 14.2,
            },
        },
        "series": {
            "first_attempts": [100] * n,
            "resends": [(i % 3) * 40 for i in range(n)],
            "resends_failed": [(i % 3) * 20 for i in range(n)],
            "factor": [1 + (i % 3) * 0.4 for i in range(n)],
            "reconnects_ok": [i % 4 for i in range(n)],
            "reconnects_failed": [i % 2 for i in range(n)],
            "sessions_lost": [3 if i == 2 else 0 for i in range(n)],
        },
    }
    return a


@pytest.fixture
def analysis(step_run):
    return current_analysis(step_run)


def test_the_section_says_the_numbers_in_two_sentences(analysis):
    assert analysis["incidents"]["breach_windows"]  # the breach share is said only with breaches
    assert retries_sentences(_surge(analysis)) == [HTTP, WS]


def test_both_renderings_carry_the_section_and_its_chart(step_run, analysis, tmp_path):
    html_path, md_path = write_reports(step_run, _surge(analysis), tmp_path / "out")
    md = md_path.read_text()
    section = md.split("## Retries and reconnects\n", 1)[1].split("\n## ", 1)[0]
    assert HTTP in section and WS in section
    assert md.index("## Retries and reconnects") < md.index("## Charts")
    html = html_path.read_text()
    assert f"<p>{HTTP}</p>" in html and f"<p>{WS}</p>" in html
    assert '<figure id="chart-retries">' in html and 'href="#retries"' in html
    assert (tmp_path / "out" / CHART_DIR / "retries.png").is_file()
    assert f"({CHART_DIR}/retries.png)" in md


def test_a_run_with_neither_says_so_in_one_line_and_draws_nothing(step_run, analysis, tmp_path):
    assert analysis["amplification"]["http"]["resends"] == 0  # the step run never re-sends
    assert retries_sentences(analysis) == [NONE]
    assert retries_chart(analysis) is None
    html_path, md_path = write_reports(step_run, analysis, tmp_path / "out")
    md = md_path.read_text()
    section = md.split("## Retries and reconnects\n", 1)[1].split("\n## ", 1)[0]
    assert section.strip() == NONE  # no zeros printed
    assert not (tmp_path / "out" / CHART_DIR / "retries.png").exists()
    assert 'id="chart-retries"' not in html_path.read_text()


def test_a_few_re_sends_are_not_rounded_away_to_nothing(analysis):
    few = _surge(analysis)
    few["amplification"]["http"].update(
        first_attempts=32_504, resends=105, factor=1.00323, resends_failed_ratio=0.6
    )
    few["amplification"]["http"]["by_group"]["quotation"]["factor"] = 1.004
    text = retries_sentences(few)[0]
    assert text.startswith(
        "Re-sends added 0.3% to the HTTP load (1.003×: 105 re-sends on 32,504 first attempts)"
    )
    assert "quotation 1.004×" in text and "60% of re-sends failed again" in text


def test_only_one_kind_gets_its_sentence_and_a_short_line_for_the_other(analysis):
    only_ws = _surge(analysis)
    only_ws["amplification"]["http"].update(resends=0, peak=None, resends_failed_ratio=None)
    assert retries_sentences(only_ws) == ["No HTTP call was re-sent.", WS]
    only_http = _surge(analysis)
    only_http["amplification"]["websocket"].update(
        reconnect_attempts=0, sessions_lost=0, sessions_back=0, never_back=0
    )
    assert retries_sentences(only_http) == [HTTP, "No websocket reconnected."]


def test_a_run_cut_short_says_never_back_by_the_end_of_the_data(analysis):
    cut = _surge(analysis)
    cut["data_quality"]["partial"] = True
    [_, ws] = retries_sentences(cut)
    assert ws.endswith("7 never did by the end of the data (the run was cut short).")


def test_lost_sessions_none_of_which_came_back(analysis):
    a = _surge(analysis)
    a["amplification"]["websocket"].update(sessions_back=0, never_back=1_210, resubscribe_s=None)
    [_, ws] = retries_sentences(a)
    assert ws.endswith("; none of the 1,210 lost sessions came back by the end of the run.")


def test_an_analysis_without_the_section_claims_nothing(step_run, analysis):
    # Locust CSV analyses have no per-attempt data: no section at all, not "no retries".
    del analysis["amplification"]
    assert retries_sentences(analysis) == []
    assert build_content(step_run, analysis).retries == []
    assert retries_chart(analysis) is None


def test_the_chart_draws_what_the_section_counts(analysis):
    surge = _surge(analysis)
    chart = retries_chart(surge)
    assert chart is not None and chart.key == "retries"
    quiet = copy.deepcopy(surge)
    quiet["amplification"]["series"]["resends"] = [0] * len(quiet["timeseries"]["t_s"])
    assert retries_chart(quiet).png != chart.png
    assert "at least 5 first attempts" in chart.caption


def test_the_stored_analysis_json_round_trips_the_section(step_run, analysis):
    stored = json.loads((step_run / "analysis.json").read_text())
    assert stored["amplification"] == analysis["amplification"]
