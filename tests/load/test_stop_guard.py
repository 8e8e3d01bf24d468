"""A run stuck in a greenlet that never yields still answers SIGTERM: the stop guard marks
run.json (partial, with why), ends the run's own child processes and exits with 3; a second
signal ends a stop that is merely slow at once. Real processes, real signals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

#: A conductor in miniature: gevent-patched, run.json "running", a child process, the guard,
#: then stuck the way the mode says.
SCRIPT = """
from gevent import monkey
monkey.patch_all()
import subprocess, sys
from pathlib import Path
import gevent
from surgeproof.load.stop_guard import StopGuard
from surgeproof.rundir.writer import write_meta

run_dir, mode, stuck_after_s = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
meta = {"run_id": "stuck", "status": "running"}
write_meta(run_dir, meta)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
reason = []
guard = StopGuard(
    run_dir,
    lambda name: reason.append(f"interrupted ({name})"),
    lambda: (meta, 40, 12, reason[0] if reason else None),
    stuck_after_s=stuck_after_s,
)
guard.start()
gevent.sleep(0.5)
print(child.pid, flush=True)
if mode == "busy":        # a greenlet that never yields: the hub never runs again
    while True:
        pass
elif mode == "blocked":   # a C call that never returns (the GIL released)
    monkey.get_original("time", "sleep")(300)
else:                     # the hub runs, the stop is just slow
    while True:
        gevent.sleep(0.1)
"""


def _start(
    tmp_path: Path, mode: str, stuck_after_s: float = 1.0
) -> tuple[subprocess.Popen, psutil.Process]:
    script = tmp_path / "stuck.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), mode, str(stuck_after_s)],
        stdout=subprocess.PIPE,
        text=True,
    )
    child = psutil.Process(int(proc.stdout.readline()))
    return proc, child


def _meta(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "run.json").read_text())


@pytest.mark.parametrize("mode", ["busy", "blocked"])
def test_a_stuck_run_answers_sigterm_and_leaves_run_json_marked(tmp_path, mode):
    proc, child = _start(tmp_path, mode)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)  # a bound for the test, not a timing assertion
    assert proc.returncode == 3
    meta = _meta(tmp_path)
    assert meta["status"] == "partial"
    assert meta["partial_reason"] == (
        "interrupted (SIGTERM); stuck: the generator did not answer for 1 s after the signal; "
        "stopped without draining"
    )
    assert meta["ended_at_utc"] and meta["stopped_at_utc"]
    assert "surgeproof run: partial (interrupted (SIGTERM); stuck" in out
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE


def test_a_second_signal_ends_a_slow_stop_at_once(tmp_path):
    proc, child = _start(tmp_path, "slow", stuck_after_s=60.0)
    proc.send_signal(signal.SIGINT)
    with pytest.raises(subprocess.TimeoutExpired):  # the hub answers: no hard stop yet
        proc.wait(timeout=3)
    assert _meta(tmp_path)["status"] == "running"
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 3
    meta = _meta(tmp_path)
    assert meta["status"] == "partial"
    assert meta["partial_reason"] == (
        "interrupted (SIGINT); a second SIGINT: stopped at once, without draining"
    )
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
