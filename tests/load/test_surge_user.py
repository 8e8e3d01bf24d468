"""A simulated person holds no greenlet of its own: its arrival and calls are due times on the
process's clock; stopping people (a ramp down, the end) takes them off it and ends their
sessions. Real users under Locust's runner against the embedded exchange, in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("surge_user_child.py")
USERS = 60


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
        yield json.loads(proc.stdout.readline())["url"]
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.slow
def test_people_live_on_the_clock_and_leave_it_when_stopped(exchange):
    out = subprocess.run(
        [sys.executable, str(CHILD), exchange, str(USERS)],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    held, half, done = got["held"], got["half"], got["done"]
    # Every person is here and has one next call on the clock...
    assert held["users"] == held["active"] == held["pending_calls"] == USERS
    # ...and none holds a greenlet: the few running are the clock's and the couriers'.
    assert held["greenlets_added"] < USERS // 4, held
    # A ramp down takes the leavers off the clock; the end takes everyone.
    assert half["users"] == half["active"] == half["pending_calls"] == USERS // 2
    assert done == {"users": 0, "active": 0, "pending_calls": 0, "leaving": 0}
    # Everyone who logged in logged out, and no call went out before its intended time.
    assert got["logins"] == got["logouts"] == USERS
    assert got["calls"] > 3 * USERS and got["sent_before_intended"] == 0
