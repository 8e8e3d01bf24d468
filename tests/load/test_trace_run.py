"""Issue 7 end to end: the scenario built from the shipped 3 December trace, time-compressed,
runs against the embedded exchange to a complete run directory and an analysis."""

from __future__ import annotations

import pytest
from load_cli import events, run_meta, surgeproof

from surgeproof.analysis import analyze_run
from surgeproof.rundir.reader import read_records
from surgeproof.scenario.catalog import load_scenario
from surgeproof.scenario.plan import resolve

TIME_SCALE = 1 / 480
USER_SCALE = 1 / 20000


@pytest.mark.slow
def test_martial_law_trace_scenario_runs_end_to_end(tmp_path):
    out = surgeproof(
        "run",
        "martial-law-2024-12-03-trace",
        "--time-scale",
        "1/480",
        "--user-scale",
        "1/20000",
        "--reports-dir",
        str(tmp_path),
        "--run-id",
        "trace",
        "--timeout",
        "2",
        "--progress-every",
        "10",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    run_dir = tmp_path / "trace"
    meta = run_meta(run_dir)
    assert meta["status"] == "complete" and meta["scenario_name"] == "martial-law-2024-12-03-trace"
    for name in ("scenario.yaml", "profile.yaml", "timeline.jsonl", "server/metrics.jsonl"):
        assert (run_dir / name).is_file(), name
    # Every phase of the trace was played, in order.
    plan = resolve(load_scenario("martial-law-2024-12-03-trace"), None, TIME_SCALE, USER_SCALE)
    played = [e["name"] for e in events(run_dir) if e["type"] == "phase"]
    assert played == [p.name for p in plan.program.phases]
    rs = read_records(run_dir)
    assert not rs.damage and len(rs.records) == sum(meta["counts"]["records"].values()) > 100
    assert {"login", "quotation"} <= set(rs.groups)
    analysis = analyze_run(run_dir)
    assert not analysis["data_quality"]["partial"]
    assert analysis["input"]["scenario_name"] == "martial-law-2024-12-03-trace"
    assert analysis["input"]["records"]["total"] == len(rs.records)
    assert analysis["scale"]["user_scale"] == pytest.approx(USER_SCALE)
