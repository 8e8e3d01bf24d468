"""Helpers: run the real command line in a child process and read what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

#: A fleet key for tests whose master and workers are started apart (``--expect-workers``):
#: both get it in the environment, as on hosts that share a Kubernetes Secret.
FLEET_KEY = "test-fleet-key-" + "5eed" * 12


def fleet_env() -> dict[str, str]:
    """This process's environment with the tests' fleet key."""
    return {**os.environ, "SURGEPROOF_FLEET_KEY": FLEET_KEY}


def surgeproof(*args: str, timeout: float = 180, **kw) -> subprocess.CompletedProcess:
    """Run the real command line in a child process (Locust monkey-patches its process)."""
    env = kw.pop("env", None) or {**os.environ}
    return subprocess.run(
        [sys.executable, "-m", "surgeproof.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        **kw,
    )


def start_run(*args: str, **kw) -> subprocess.Popen:
    """Start ``surgeproof run ARGS`` in the background, its output captured as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "surgeproof.cli", "run", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def wait_for_samples(run_dir: Path, lines: int, within_s: float = 60) -> None:
    """Wait until ``timeline.jsonl`` holds ``lines`` samples (the run is well under way)."""
    tl = run_dir / "timeline.jsonl"
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if tl.is_file() and len(tl.read_text().splitlines()) >= lines:
            return
        time.sleep(0.2)


def run_meta(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


def sigkill_a_local_worker(proc: subprocess.Popen, run_dir: Path, after_s: float) -> int:
    """SIGKILL one of the workers ``proc`` started, ``after_s`` into its run; when (ns)."""
    import signal

    import psutil

    wait_for_t0(run_dir, after_s, within_s=60)
    workers = [
        p
        for p in psutil.Process(proc.pid).children(recursive=True)
        # The subcommand itself, not a substring: the exchange's --state-dir lies under the
        # test's tmp_path, whose name may hold "worker".
        if "worker" in p.cmdline()
    ]
    assert len(workers) >= 2, f"expected the run's local workers, found {len(workers)}"
    killed_ns = time.time_ns()
    workers[0].send_signal(signal.SIGKILL)
    return killed_ns


def wait_for_t0(run_dir: Path, after_s: float, within_s: float = 90) -> None:
    """Wait until the run has been going ``after_s`` seconds (from its t0)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        t0 = _t0(run_dir)
        if t0 and time.time_ns() > t0 + after_s * 1e9:
            return
        time.sleep(0.1)
    raise AssertionError(f"{run_dir}: the run did not get {after_s:g} s in within {within_s:g} s")


def _t0(run_dir: Path) -> int | None:
    """The run's t0 once it started (run.json holds 0 before), else None."""
    try:
        return json.loads((run_dir / "run.json").read_text())["t0_ns"] or None
    except (OSError, ValueError):
        return None
