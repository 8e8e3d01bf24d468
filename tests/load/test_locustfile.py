"""``locust -f loadtests/locustfile.py``: plain Locust writes a complete run directory (the same
run.json ``surgeproof run`` writes, driver ``plain locust``) that analyze, report and gate read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from surgeproof.cli import main
from surgeproof.rundir.reader import read_meta, read_records

ROOT = Path(__file__).resolve().parents[2]

PLAIN_SURGE = """\
name: plain-surge
description: One short steady phase, driven by plain Locust.
model: open
slos:
  - {group: "*", error_ratio: 50%}
timeline:
  - phase: steady
    duration: 7s
    users: 12
    ramp: 1s
    mix: {api_bot: 0.5, market_watcher: 0.5}
    intensity: 2
"""


@pytest.fixture
def exchange():
    """The embedded exchange on an ephemeral loopback port, started by the test."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "surgeproof.exchange", "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line, "the exchange printed nothing"
        yield json.loads(line)["url"]
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.slow
def test_plain_locust_run_directory_is_complete_and_analyses(exchange, tmp_path, capsys):
    scenario = tmp_path / "plain-surge.yaml"
    scenario.write_text(PLAIN_SURGE)
    run_dir = tmp_path / "plain-run"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "loadtests" / "locustfile.py"),
            "--headless",
            "--host",
            exchange,
            "--scenario",
            str(scenario),
            "--time-scale",
            "1",
            "--user-scale",
            "1",
            "--surgeproof-dir",
            str(run_dir),
            "--loglevel",
            "WARNING",
            "--only-summary",
            "-t",
            "30s",  # a bound; the shape ends the test at the timeline's end (7 s)
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    meta = read_meta(run_dir)
    assert meta["status"] == "complete" and meta["partial_reason"] is None
    assert meta["driver"]["kind"] == "plain locust"
    for key in ("run_id", "t0_ns", "scenario", "scale", "target", "host", "versions", "counts"):
        assert meta.get(key) is not None, key
    assert meta["scenario_name"] == "plain-surge" and meta["target"]["url"] == exchange
    assert (run_dir / "scenario.yaml").read_text() == PLAIN_SURGE
    records = read_records(run_dir)
    assert len(records.records) == meta["counts"]["records"]["local"] > 200
    types = [json.loads(x)["type"] for x in (run_dir / "events.jsonl").read_text().splitlines()]
    assert types[0] == "run_start" and "phase" in types and "level" in types
    assert types[-1] == "run_end"

    assert main(["analyze", str(run_dir)]) == 0
    a = json.loads((run_dir / "analysis.json").read_text())
    [level] = a["levels"]
    assert level["label"] == "steady" and level["target_users"] == 12
    assert level["verdict"] == "pass", level["reasons"]
    assert main(["report", str(run_dir)]) == 0
    assert (run_dir / "report.html").is_file()
    assert main(["gate", str(run_dir)]) == 0
    assert "PASS  * error_ratio <= 0.5" in capsys.readouterr().out
