"""Master/worker runs: offered users follow the timeline; a killed worker's users are replaced."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import defaultdict

import psutil
import pytest
from load_cli import events, run_meta, surgeproof

from surgeproof.rundir.reader import read_records, read_timeline

HOLD = """\
name: hold
description: Ramp to 20 users and hold them.
model: open
slos:
  - {group: "*", error_ratio: 50%}
timeline:
  - phase: ramp-and-hold
    duration: 18s
    users: 20
    ramp: 4s
    mix: {market_watcher: 0.5, app_user: 0.5}
"""


def offered_per_second(run_dir):
    """Sum of active users over sources per whole second since t0."""
    t0 = run_meta(run_dir)["t0_ns"]
    rows, _ = read_timeline(run_dir)
    by_second: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        by_second[int((row["t_ns"] - t0) // 1_000_000_000)][row["source"]] = row["active_users"]
    return {s: sum(v.values()) for s, v in by_second.items()}


@pytest.mark.slow
def test_two_workers_track_the_timeline(tmp_path, small_surge):
    out = surgeproof(
        "run",
        str(small_surge),
        "--workers",
        "2",
        "--reports-dir",
        str(tmp_path),
        "--run-id",
        "w",
        "--timeout",
        "3",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    run_dir = tmp_path / "w"
    meta = run_meta(run_dir)
    assert len(meta["workers"]["seen"]) == 2 and not meta["workers"]["lost"]
    assert set(read_records(run_dir).per_source) == set(meta["workers"]["seen"])
    from surgeproof.scenario.catalog import load_scenario
    from surgeproof.scenario.plan import resolve

    plan = resolve(load_scenario(small_surge))
    offered = offered_per_second(run_dir)
    for second, users in offered.items():
        if 0 <= second < plan.duration_s - 1:
            # A sample taken during second s reflects arrivals up to s+1 (one-second lookahead).
            lo = plan.target_users(second) - 1.5
            hi = plan.target_users(min(second + 2, plan.duration_s - 0.01)) + 1.5
            assert lo <= users <= hi, (second, users, lo, hi)


@pytest.mark.slow
def test_a_killed_worker_is_recorded_and_its_users_taken_over(tmp_path):
    scenario = tmp_path / "hold.yaml"
    scenario.write_text(HOLD)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "surgeproof.cli",
            "run",
            str(scenario),
            "--workers",
            "2",
            "--reports-dir",
            str(tmp_path),
            "--run-id",
            "k",
            "--timeout",
            "3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_dir = tmp_path / "k"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (
            (run_dir / "run.json").is_file()
            and json.loads((run_dir / "run.json").read_text())["t0_ns"]
            and time.time_ns() > json.loads((run_dir / "run.json").read_text())["t0_ns"] + 6e9
        ):
            break
        time.sleep(0.2)
    workers = [
        p
        for p in psutil.Process(proc.pid).children(recursive=True)
        if "worker" in " ".join(p.cmdline())
    ]
    assert len(workers) == 2
    victim = workers[0]
    killed_ns = time.time_ns()
    victim.send_signal(signal.SIGKILL)
    _, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 0, stderr[-2000:]
    meta = run_meta(run_dir)
    assert len(meta["workers"]["lost"]) == 1
    lost = meta["workers"]["lost"][0]
    ev = events(run_dir)
    assert any(e["type"] == "worker_lost" and e["source"] == lost["source"] for e in ev)
    rebalanced = [e for e in ev if e["type"] == "rebalanced"]
    assert rebalanced and rebalanced[0]["t_ns"] - killed_ns < 8e9
    # The records the dead worker shipped before it died are kept.
    assert read_records(run_dir).per_source.get(lost["source"], 0) > 0
    # After the takeover the survivor alone offers the full 20 users.
    t0 = meta["t0_ns"]
    after = (rebalanced[0]["t_ns"] - t0) / 1e9 + 2
    offered = offered_per_second(run_dir)
    tail = [u for s, u in offered.items() if after <= s < 17]
    assert tail and min(tail) >= 19
