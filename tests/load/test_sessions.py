"""2,000 concurrent live market-watcher sessions: every websocket opens, subscribes and is watched.

A real, bounded run on loopback: the embedded exchange with its websocket gateways
(``scenarios/targets/sessions.yaml``), two Locust workers, 2,000 market watchers held for a
sustained window. Issue 6's 50,000-session figure is the benchmark (``benchmarks/load/``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from load_cli import run_meta, surgeproof

from surgeproof.rundir.reader import read_records
from surgeproof.rundir.schema import Kind, Outcome
from surgeproof.scenario.catalog import scenarios_dir

SESSIONS = 2000
WATCHERS = f"""\
name: watchers-2000
description: 2,000 market watchers arrive over 6 s and hold their subscriptions for 14 s.
model: open
slos:
  - {{group: "*", error_ratio: 1%}}
timeline:
  - phase: arrive
    duration: 8s
    users: {SESSIONS}
    ramp: 6s
    mix: {{market_watcher: 1.0}}
    intensity: 0.05
    steady: false
  - phase: hold
    duration: 14s
    users: {SESSIONS}
    mix: {{market_watcher: 1.0}}
    intensity: 0.05
"""


def sessions_by_user(run_dir) -> tuple[np.ndarray, np.ndarray]:
    """Records and a (source, user) key per record."""
    rs = read_records(run_dir)
    source_index = np.repeat(np.arange(len(rs.per_source)), list(rs.per_source.values()))
    key = source_index.astype(np.int64) << 32 | rs.records["user"].astype(np.int64)
    return rs.records, key


@pytest.mark.slow
def test_two_thousand_live_sessions_each_subscribed_and_watched(tmp_path):
    scenario = tmp_path / "watchers.yaml"
    scenario.write_text(WATCHERS)
    out = surgeproof(
        "run",
        str(scenario),
        "--workers",
        "2",
        "--target-config",
        str(scenarios_dir() / "targets" / "sessions.yaml"),
        "--reports-dir",
        str(tmp_path),
        "--run-id",
        "s",
        "--max-duration",
        "45",
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    run_dir = tmp_path / "s"
    assert run_meta(run_dir)["status"] == "complete"
    records, key = sessions_by_user(run_dir)
    kind, outcome = records["kind"], records["outcome"]

    ws = np.isin(kind, [Kind.WS_CONNECT, Kind.WS_FIRST_MESSAGE, Kind.WS_GAP])
    failed = ws & (outcome != Outcome.OK)
    assert not failed.any(), np.unique(outcome[failed], return_counts=True)

    connected = np.unique(key[(kind == Kind.WS_CONNECT) & (outcome == Outcome.OK)])
    subscribed = np.unique(key[(kind == Kind.WS_FIRST_MESSAGE) & (outcome == Outcome.OK)])
    watched = np.unique(key[(kind == Kind.WS_GAP) & (outcome == Outcome.OK)])
    assert len(connected) == SESSIONS
    assert len(subscribed) == SESSIONS
    # Every session was held through the window: at least two closed gap intervals each.
    gaps_per_session = np.unique(key[kind == Kind.WS_GAP], return_counts=True)[1]
    assert len(watched) == SESSIONS and gaps_per_session.min() >= 2
    # With one ticker every 3 s, no held session went silent for much longer than that.
    gap = records["end_ns"][kind == Kind.WS_GAP] - records["sent_ns"][kind == Kind.WS_GAP]
    assert gap.max() < 8e9

    # The exchange's own count: 2,000 websockets open at once, none refused.
    seconds = [json.loads(x) for x in (run_dir / "server" / "metrics.jsonl").read_text().split()]
    assert max(s.get("ws_connections", 0) for s in seconds) == SESSIONS
    assert sum(s.get("shed_503", 0) + s.get("server_errors", 0) for s in seconds) == 0
