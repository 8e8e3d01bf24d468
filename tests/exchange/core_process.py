"""Test helpers: the exchange as a process (``--json``), and waiting for processes to go."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import psutil


def start_core(*args: str, hard_fd_limit: int | None = None) -> tuple[subprocess.Popen, dict]:
    """Start ``python -m surgeproof.exchange --json --no-limits *args``; its announcement."""

    def limit():
        if hard_fd_limit:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard_fd_limit, hard_fd_limit))

    proc = subprocess.Popen(
        [sys.executable, "-m", "surgeproof.exchange", "--json", "--no-limits", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=limit,
    )
    return proc, json.loads(proc.stdout.readline())


def gone(pid: int) -> bool:
    """No such process any more (a zombie waiting for its parent counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pids: list[int], timeout: float = 10.0) -> list[int]:
    """The pids still running after waiting up to ``timeout`` seconds for all to go."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(gone(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if not gone(p)]
