"""Ctrl-C in a master/worker run: the run stops within seconds, every worker's records reach the
run directory, it is marked partial with the time it stopped, and analysis and report work."""

from __future__ import annotations

import os
import signal

import psutil
import pytest
from load_cli import events, run_meta, start_run, surgeproof, wait_for_samples

from surgeproof.analysis import analyze_run
from surgeproof.rundir.reader import read_records


@pytest.mark.slow
def test_ctrl_c_in_a_master_worker_run_keeps_every_workers_records(tmp_path, small_surge):
    # A terminal's Ctrl-C goes to the whole foreground process group: start the run as one.
    proc = start_run(
        str(small_surge),
        "--workers",
        "2",
        "--reports-dir",
        str(tmp_path),
        "--run-id",
        "cut",
        "--timeout",
        "2",
        start_new_session=True,
    )
    run_dir = tmp_path / "cut"
    wait_for_samples(run_dir, 6)  # both workers have shipped a few seconds each
    children = psutil.Process(proc.pid).children(recursive=True)
    os.killpg(proc.pid, signal.SIGINT)
    out, stderr = proc.communicate(timeout=30)  # "stops within seconds", with room for CI
    assert proc.returncode == 3, stderr[-2000:]
    assert "SIGINT: stopping" in out
    assert not [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]

    meta = run_meta(run_dir)
    assert meta["status"] == "partial" and meta["partial_reason"] == "interrupted (SIGINT)"
    assert meta["stopped_at_utc"] and not meta["workers"]["lost"]
    # Each worker's last batch arrived: what it says it shipped is what the directory holds.
    rs = read_records(run_dir)
    assert not rs.damage
    assert set(rs.per_source) == set(meta["workers"]["seen"]) and len(rs.per_source) == 2
    for source, node in meta["workers"]["nodes"].items():
        assert node["shipped"] == node["received"] == rs.per_source[source] > 0
    assert events(run_dir)[-1]["type"] == "run_end"

    analysis = analyze_run(run_dir)
    assert analysis["data_quality"]["partial"]
    assert analysis["data_quality"]["partial_reason"] == "interrupted (SIGINT)"
    assert analysis["input"]["records"]["per_source"] == rs.per_source
    report = surgeproof("report", str(run_dir))
    assert report.returncode == 0, report.stderr[-2000:]
    html = (run_dir / "report.html").read_text()
    assert "interrupted (SIGINT)" in html
