"""`surgeproof run`: complete run directories, honest partial ones, clear errors."""

from __future__ import annotations

import json
import signal

import numpy as np
import pytest
from load_cli import events, run_meta, start_run, surgeproof, wait_for_samples

from surgeproof.rundir.reader import read_meta, read_records, read_timeline
from surgeproof.rundir.schema import Outcome


@pytest.mark.slow
def test_martial_law_compressed_under_a_minute_gives_a_complete_run_directory(tmp_path):
    out = surgeproof(
        "run",
        "martial-law-2024-12-03",
        "--time-scale",
        "1/240",
        "--user-scale",
        "1/20000",
        "--reports-dir",
        str(tmp_path),
        "--run-id",
        "ml",
        "--timeout",
        "3",
        "--progress-every",
        "10",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    run_dir = tmp_path / "ml"
    meta = read_meta(run_dir)
    assert meta["status"] == "complete"
    assert meta["scale"]["user_scale"] == pytest.approx(1 / 20000)
    assert "2000" in meta["scale"]["assumption"] or "20000" in meta["scale"]["assumption"]
    assert meta["started_at_kst"].endswith("+09:00") and meta["target"]["embedded"]
    for name in (
        "scenario.yaml",
        "profile.yaml",
        "timeline.jsonl",
        "server/metrics.jsonl",
        "server/ledger.json",
        "locust/locust.log",
        "dialect.yaml",
    ):
        assert (run_dir / name).is_file(), name
    rs = read_records(run_dir)
    assert not rs.damage
    assert len(rs.records) == sum(meta["counts"]["records"].values()) > 100
    assert {"login", "quotation", "orders"} <= set(rs.groups)
    phases = [e["name"] for e in events(run_dir) if e["type"] == "phase"]
    assert phases[0] == "evening-baseline" and "panic-selling" in phases
    assert "users" in out.stdout and "req/s" in out.stdout  # progress lines
    # Before the load: which steady windows the time scale makes too short to judge.
    assert (
        "surgeproof run: warning: at 1/240, 5 of 7 steady windows are under 5 s (shortest "
        "1.4 s) and will be inconclusive; 1/66 keeps them all judgeable"
    ) in out.stdout
    # After it: the answer, as the demo ends, then where the report is.
    analysis = json.loads((run_dir / "analysis.json").read_text())
    assert f"\n  {analysis['summary'][0]}\n" in out.stdout
    assert analysis["summary"][0].startswith(analysis["verdict"]["status"].upper() + ": ")
    assert out.stdout.rstrip().endswith(
        f"report: {run_dir / 'report.html'}  (and report.md beside it)"
    )
    assert (run_dir / "report.html").is_file() and (run_dir / "report.md").is_file()


@pytest.mark.slow
def test_sigint_leaves_a_partial_run_directory_that_reads_back(tmp_path, small_surge):
    proc = start_run(
        str(small_surge), "--reports-dir", str(tmp_path), "--run-id", "cut", "--timeout", "2"
    )
    run_dir = tmp_path / "cut"
    wait_for_samples(run_dir, 4)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 3, stderr[-2000:]
    meta = run_meta(run_dir)
    assert meta["status"] == "partial"
    assert meta["partial_reason"] == "interrupted (SIGINT)" and meta["stopped_at_utc"]
    rs = read_records(run_dir)
    assert len(rs.records) == sum(meta["counts"]["records"].values()) > 0
    assert events(run_dir)[-1] == {**events(run_dir)[-1], "type": "run_end", "status": "partial"}
    # Every record is whole: nothing is left half-sent.
    sent = rs.records[rs.records["outcome"] != Outcome.MISSED]
    assert np.all(sent["end_ns"] >= sent["sent_ns"])
    assert read_timeline(run_dir)[0]


def test_malformed_scenario_is_one_line_naming_file_and_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\ndescription: x\ntimeline:\n  - phase: a\n    duration: -5s\n    users: 10\n"
    )
    out = surgeproof("run", str(bad), "--reports-dir", str(tmp_path))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.yaml" in lines[0] and "duration" in lines[0]
    assert "Traceback" not in out.stderr
    assert not any(tmp_path.glob("*/run.json"))


def test_non_loopback_target_is_refused(tmp_path, small_surge):
    reports = tmp_path / "reports"
    out = surgeproof(
        "run",
        str(small_surge),
        "--target",
        "http://192.0.2.10:8080",
        "--reports-dir",
        str(reports),
    )
    assert out.returncode == 2
    assert "not a loopback address" in out.stderr and "--allow-remote-target" in out.stderr
    assert not reports.exists()
