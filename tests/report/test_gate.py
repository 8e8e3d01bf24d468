"""surgeproof gate: exit 0 when every requirement holds, 1 when one fails, 2 for unusable input.

The step run's truth: levels of 300k, 500k and 600k real users hold (p99 20/30/40 ms, no errors);
700k breaks (p99 2,000 ms, 5% server errors). Its measured ceiling is 600,000 real users.
"""

import shutil

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
    assert "measured 0.05357 (5.36%) in window step-4"  # 30 of 560 in capsys.readouterr().out
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
