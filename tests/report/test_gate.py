"""surgeproof gate: exit 0 when every requirement holds, 1 when one fails, 2 for unusable input.

The step run's truth: levels of 300k, 500k and 600k real users hold (p99 20/30/40 ms, no errors);
700k breaks (p99 2,000 ms, 5% server errors). Its measured ceiling is 600,000 real users.
"""

import json
import shutil

import pytest
from junitparser import Failure, JUnitXml
from stepruns import STEPS, Step, write_step_run

from surgeproof.cli import main


def gate(*args):
    return main(["gate", *map(str, args)])


def test_every_requirement_holding_exits_0(step_run, tmp_path, capsys):
    junit = tmp_path / "junit.xml"
    code = gate(
        step_run, "--require-ceiling", "peak*1.1", "--max-p99", "login=800ms", "--junit", junit
    )

    assert code == 0
    out = capsys.readouterr().out
    assert "PASS  ceiling >= peak * 1.1 (594,000): measured 600,000 real" in out
    suite = next(iter(JUnitXml.fromfile(str(junit))))
    assert (suite.tests, suite.failures) == (4, 0)  # 2 flags + the scenario's 2 SLOs


def test_ceiling_below_requirement_fails_with_the_bracket(step_run, capsys):
    assert gate(step_run, "--require-ceiling", "peak*1.2") == 1
    out = capsys.readouterr().out
    assert (
        "FAIL  ceiling >= peak * 1.2 (648,000): measured 600,000 real concurrent users, limit "
        ">= 648,000 real concurrent users; failed at 700,000 real users"
    ) in out


def test_absolute_ceiling_requirement(step_run):
    assert gate(step_run, "--no-scenario", "--require-ceiling", "590000") == 0
    assert gate(step_run, "--no-scenario", "--require-ceiling", "610000") == 1


def test_latency_limit_fails_on_the_window_that_broke_it(step_run, capsys):
    # Without a ceiling requirement every steady-state window is judged, the 700k one included.
    assert gate(step_run, "--no-scenario", "--max-p99", "login=800ms") == 1
    out = capsys.readouterr().out
    assert "FAIL  login p99 <= 800 ms" in out
    assert "measured 2,000.0 ms in window step-4 (70 sim. users)" in out


def test_latency_is_judged_only_up_to_the_required_load(step_run):
    # Required 594k: only the 300k/500k windows count, and they held 800 ms.
    code = gate(
        step_run, "--no-scenario", "--require-ceiling", "peak*1.1", "--max-p99", "login=800ms"
    )
    assert code == 0


def test_error_ratio_limit_fails(step_run, capsys):
    assert gate(step_run, "--no-scenario", "--max-error-ratio", "1%") == 1
    # `*` is every group on its own: the 700k window's logins (even-numbered calls) got 21 of
    # its 35 server errors, 21 of 350 = 6% (the pooled 5% is not what is judged).
    assert "measured 0.06 (6.00%) on login in window step-4" in capsys.readouterr().out
    assert gate(step_run, "--no-scenario", "--max-error-ratio", "0.1") == 0


def test_scenario_requirements_alone_are_judged(step_run, capsys):
    assert gate(step_run) == 1  # the scenario's SLOs, over every window: step-4 breaks them
    out = capsys.readouterr().out
    assert "FAIL  * p99 <= 500 ms (steady-state windows)" in out


def test_regression_within_tolerance_passes(step_run, tmp_path):
    slower = tuple(Step(s.users, s.latency_ms * 1.03, s.error_share) for s in STEPS)
    candidate = write_step_run(tmp_path / "candidate", slower)
    code = gate(candidate, "--no-scenario", "--baseline", step_run, "--tolerance", "5%")
    assert code == 0


def test_regression_beyond_tolerance_fails_naming_the_number(step_run, tmp_path, capsys):
    # The 600k level now breaks: the ceiling falls to 500k, 17% below the baseline.
    worse = (*STEPS[:2], Step(60, 900.0), STEPS[3])
    candidate = write_step_run(tmp_path / "candidate", worse)
    junit = tmp_path / "junit.xml"

    code = gate(candidate, "--no-scenario", "--baseline", step_run, "--junit", junit)

    assert code == 1
    out = capsys.readouterr().out
    assert "FAIL  ceiling not below baseline: measured 500,000.0 real users" in out
    assert "-16.7% against the baseline" in out
    cases = {c.name: c for suite in JUnitXml.fromfile(str(junit)) for c in suite}
    assert any(isinstance(r, Failure) for r in cases["ceiling not below baseline"].result)


def test_baseline_with_other_scale_is_refused(step_run, tmp_path, capsys):
    other = write_step_run(tmp_path / "other", user_scale=2e-4)
    assert gate(other, "--baseline", step_run) == 2
    err = capsys.readouterr().err
    assert "not comparable" in err
    assert "scale differs (user_scale 0.0001 vs 0.0002)" in err


def test_baseline_of_another_scenario_is_refused(step_run, tmp_path, capsys):
    other = write_step_run(tmp_path / "other", scenario_name="other-steps")
    assert gate(other, "--baseline", step_run) == 2
    assert "scenario differs ('gate-steps' vs 'other-steps')" in capsys.readouterr().err


def test_baseline_against_another_target_configuration_is_refused(step_run, tmp_path, capsys):
    other = write_step_run(tmp_path / "other", target_config={"api_workers": 8})
    assert gate(other, "--baseline", step_run) == 2
    err = capsys.readouterr().err
    assert "target configuration differs at target.config.api_workers: 4 vs 8" in err


def test_unusable_input_exits_2(tmp_path, step_run, capsys):
    assert gate(tmp_path / "nowhere", "--max-p99", "login=1s") == 2
    assert gate(step_run, "--max-p99", "login=quick") == 2
    assert gate(step_run, "--require-ceiling", "peek*1.2") == 2
    err = capsys.readouterr().err
    assert "no such run directory" in err
    assert "'quick' is not a latency" in err
    assert "no figure 'peek'" in err


def test_any_requirement_kind_on_the_command_line_and_an_unknown_one_is_one_line(step_run, capsys):
    assert gate(step_run, "--no-scenario", "--require", "ceiling: peak*1.1") == 0
    assert "PASS  ceiling >= peak * 1.1 (594,000): measured 600,000 real" in (
        capsys.readouterr().out
    )
    assert gate(step_run, "--require", "basel: 3") == 2
    err = capsys.readouterr().err
    assert "--require: unknown requirement 'basel'; known: ceiling" in err
    assert err.count("\n") == 1


def test_a_gate_line_names_the_rules_source(step_run, capsys):
    gate(step_run, "--no-scenario", "--require-ceiling", "peak*1.2", "--require-ceiling", "1")
    out = capsys.readouterr().out
    fss = "source: FSS inspection findings on the 3 Dec 2024 exchange outages, published 6 Feb 2025"
    assert f"failed at 700,000 real users: * error_ratio <= 0.01; {fss}" in out
    assert "PASS  ceiling >= 1: measured 600,000 real concurrent users, limit >= 1 real " in out
    assert "source: your figure" in out


def test_markdown_summary_goes_to_the_file_and_the_ci_job_summary(step_run, tmp_path, monkeypatch):
    step_summary = tmp_path / "github_step_summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    summary = tmp_path / "summary.md"

    assert gate(step_run, "--require-ceiling", "peak*1.2", "--summary", summary) == 1

    text = summary.read_text()
    assert text.startswith("## ❌ surgeproof gate failed: 1 of 3 requirements failed")
    assert "| ❌ | ceiling >= peak * 1.2 (648,000) | 600,000 real concurrent users" in text
    assert "1 simulated user = 10,000 real users" in text
    assert step_summary.read_text().strip() == text.strip()


def test_gate_analyses_a_run_that_has_no_analysis_yet(step_run):
    shutil.rmtree(step_run / "gate", ignore_errors=True)
    assert not (step_run / "analysis.json").exists()
    gate(step_run, "--require-ceiling", "500000")
    assert (step_run / "analysis.json").is_file()


SMALL_GROUP_SCENARIO = """\
name: small-group
description: One level; orders are a small share of the calls and fail often.
model: open
slos:
  - {group: "*", error_ratio: 1%}
search:
  start: 100
  max: 200
"""


def _small_group_failing_run(path):
    """150 users, 10 s: 96% quotation (all ok), 4% orders of which 20% fail with 503.

    Pooled over all calls the error ratio is 0.8% (under 1%); orders alone are at 20%.
    """
    import numpy as np

    from surgeproof.rundir.schema import RECORD_DTYPE, Kind, Outcome
    from surgeproof.rundir.writer import JsonlLog, RecordFile, write_meta

    t0, ns = 1_733_230_800_000_000_000, 1_000_000_000
    path.mkdir(parents=True)
    (path / "scenario.yaml").write_text(SMALL_GROUP_SCENARIO)
    n = 3000
    rec = np.zeros(n, dtype=RECORD_DTYPE)
    rec["intended_ns"] = t0 + np.arange(n) * (10 * ns // n)
    rec["sent_ns"] = rec["intended_ns"] + 100_000
    rec["end_ns"] = rec["intended_ns"] + 20_000_000
    orders = np.arange(n) % 25 == 0  # 4%
    failed = orders & (np.cumsum(orders) % 5 == 0)  # a fifth of the orders
    rec["name_id"] = np.where(orders, 1, 0)
    rec["outcome"] = np.where(failed, Outcome.SERVER_ERROR, Outcome.OK)
    rec["status"] = np.where(failed, 503, 200)
    rec["kind"] = Kind.HTTP
    rec["concurrency"] = 150
    source = RecordFile(path, "local")
    source.add_names({0: ("GET /v1/ticker", "quotation"), 1: ("POST /v1/orders", "orders")})
    source.append(rec)
    source.close()
    events = JsonlLog(path / "events.jsonl")
    level = {"start_ns": t0, "end_ns": t0 + 10 * ns, "target_users": 150, "label": "level-1"}
    events.append({"t_ns": t0 + 10 * ns, "type": "level", **level})
    events.close()
    write_meta(
        path,
        {
            "run_id": "small-group",
            "status": "complete",
            "t0_ns": t0,
            "scenario_name": "small-group",
            "load_model": "open",
            "scale": {"time_scale": 1.0, "user_scale": 1.0, "assumption": "unscaled"},
            "target": {"url": "http://127.0.0.1:40000", "embedded": True, "config": {}},
            "workers": {"expected": 0, "seen": ["local"], "lost": []},
        },
    )
    return path


def test_a_small_group_failing_star_slo_is_one_verdict_everywhere(tmp_path, capsys):
    # `*` means every group on its own: the analysis, its summary, the gate, JUnit and the report
    # all say orders broke it, although the pooled error ratio (0.8%) would have held.
    run = _small_group_failing_run(tmp_path / "run")
    junit = tmp_path / "junit.xml"
    assert gate(run, "--junit", junit) == 1
    out = capsys.readouterr().out
    assert (
        "FAIL  * error_ratio <= 0.01 (steady-state windows): measured 0.2 (20.00%) on orders" in out
    )
    case = next(c for suite in JUnitXml.fromfile(str(junit)) for c in suite)
    assert any(isinstance(r, Failure) and "on orders" in r.message for r in case.result)
    analysis = json.loads((run / "analysis.json").read_text())
    assert analysis["verdict"]["status"] == "fail"
    assert analysis["levels"][0]["reasons"][0] == "orders error_ratio 20.00% > 1.00%"
    # The summary: the verdict, then the level that failed and why.
    assert "orders error_ratio 20.00% > 1.00%" in analysis["summary"][1]
    assert analysis["overall"]["groups"]["*"]["error_ratio"] == pytest.approx(0.008)
    # A flag on the same SLO is judged by the same rule.
    assert gate(run, "--no-scenario", "--max-error-ratio", "1%") == 1
    assert main(["report", str(run)]) == 0
    report = (run / "report.md").read_text()
    assert "**FAIL: " in report and "orders error_ratio 20.00% > 1.00%" in report
