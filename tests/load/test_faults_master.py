"""The master (conductor) SIGKILLed mid-run: its workers, local and remote, stop by themselves,
the embedded exchange goes with it, and what reached disk reads back as a partial run."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest
from load_cli import fleet_env, run_meta

from surgeproof.analysis import analyze_run
from surgeproof.load.liveness import MASTER_SILENCE_S, WORKER_EXIT_GRACE_S
from surgeproof.rundir.reader import read_records

HOLD = """\
name: hold
description: Hold 12 users for longer than the test lets the master live.
model: open
timeline:
  - phase: hold
    duration: 40s
    users: 12
    ramp: 2s
    mix: {market_watcher: 0.5, app_user: 0.5}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gone_within(procs: list[psutil.Process], seconds: float) -> list[psutil.Process]:
    """The processes still alive (not zombies) after waiting up to ``seconds``."""
    _, alive = psutil.wait_procs(procs, timeout=seconds)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.slow
def test_sigkilled_master_leaves_no_generator_running_and_a_readable_partial_run(tmp_path):
    scenario = tmp_path / "hold.yaml"
    scenario.write_text(HOLD)
    port = _free_port()
    master = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "surgeproof.cli",
            "run",
            str(scenario),
            "--workers",
            "1",
            "--expect-workers",
            "1",
            "--master-port",
            str(port),
            "--reports-dir",
            str(tmp_path),
            "--run-id",
            "m",
            "--timeout",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=fleet_env(),
    )
    # A worker the master did not start, as on another machine: only silence can stop it.
    remote = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "surgeproof.cli",
            "worker",
            "--master",
            "127.0.0.1",
            "--master-port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env=fleet_env(),
    )
    run_dir = tmp_path / "m"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                t0 = json.loads((run_dir / "run.json").read_text())["t0_ns"]
            except (OSError, ValueError):
                t0 = None
            if t0 and time.time_ns() > t0 + 5e9:
                break
            time.sleep(0.2)
        children = psutil.Process(master.pid).children(recursive=True)
        cmdlines = [" ".join(c.cmdline()) for c in children]
        assert any("surgeproof.exchange" in c for c in cmdlines), cmdlines
        assert any(" worker " in c for c in cmdlines), cmdlines
        master.send_signal(signal.SIGKILL)
        master.wait(timeout=10)
        bound = MASTER_SILENCE_S + WORKER_EXIT_GRACE_S + 5
        left = _gone_within([*children, psutil.Process(remote.pid)], bound)
        assert not left, [" ".join(p.cmdline()) for p in left]
        out = remote.communicate(timeout=5)[0]
        assert f"master silent for {MASTER_SILENCE_S:g}s" in out
    finally:
        for p in (master, remote):
            if p.poll() is None:
                p.kill()

    meta = run_meta(run_dir)
    assert meta["status"] == "running"  # the writer never finished: readers treat it as partial
    rs = read_records(run_dir)
    assert len(rs.per_source) == 2 and all(n > 0 for n in rs.per_source.values())
    analysis = analyze_run(run_dir)
    quality = analysis["data_quality"]
    assert quality["partial"] and "running" in quality["partial_reason"]
    assert analysis["input"]["records"]["total"] == len(rs.records)
