"""Step runs with a known truth for gate and evidence tests, written with the real writer.

Each level holds ``users`` simulated users sending 2 req/s each for ``hold_s``; every request takes
exactly the level's latency, and a given share of them ends in a server error. With user scale
1/10,000 and the Upbit profile, the levels map straight onto the FSS figures (50 = 500,000).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from surgeproof.rundir.schema import RECORD_DTYPE, Kind, Outcome
from surgeproof.rundir.writer import JsonlLog, RecordFile, write_meta
from surgeproof.scenario.catalog import scenarios_dir

T0_NS = 1_733_230_800_000_000_000  # 2024-12-03T22:00:00+09:00
NS = 1_000_000_000
RATE_PER_USER = 2.0
ENDPOINTS = (("POST /v1/session", "login"), ("GET /v1/ticker", "quotation"))

SCENARIO = """\
name: gate-steps
description: Synthetic steps for the gate tests.
profile: upbit
model: open
slos:
  - {group: "*", p99: 500ms}
  - {group: "*", error_ratio: 1%}
search:
  start: 300000
  max: 800000
"""


@dataclass(frozen=True)
class Step:
    """One level: simulated users, the latency every request sees, the share of 5xx answers."""

    users: int
    latency_ms: float
    error_share: float = 0.0
    hold_s: float = 5.0


#: 300k, 500k, 600k real users hold; 700k breaks the p99 SLO: the ceiling is 600,000.
STEPS = (Step(30, 20.0), Step(50, 30.0), Step(60, 40.0), Step(70, 2000.0, 0.05))


def write_step_run(
    path: Path,
    steps: tuple[Step, ...] = STEPS,
    *,
    user_scale: float = 1e-4,
    scenario_name: str = "gate-steps",
    target_config: dict | None = None,
) -> Path:
    """A complete run directory at ``path`` with one level event per step."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "scenario.yaml").write_text(SCENARIO.replace("gate-steps", scenario_name))
    shutil.copy(scenarios_dir() / "profiles" / "upbit.yaml", path / "profile.yaml")
    events = JsonlLog(path / "events.jsonl")
    timeline = JsonlLog(path / "timeline.jsonl")
    source = RecordFile(path, "local")
    source.add_names({i: ep for i, ep in enumerate(ENDPOINTS)})
    events.append({"t_ns": T0_NS, "type": "run_start"})
    t = T0_NS
    for i, step in enumerate(steps):
        rate = step.users * RATE_PER_USER
        n = round(rate * step.hold_s)
        rec = np.zeros(n, dtype=RECORD_DTYPE)
        rec["intended_ns"] = t + (np.arange(n) * (NS / rate)).astype(np.int64)
        rec["sent_ns"] = rec["intended_ns"] + 100_000
        rec["end_ns"] = rec["intended_ns"] + int(step.latency_ms * 1e6)
        failed = (np.arange(n) % 100) < round(step.error_share * 100)
        rec["outcome"] = np.where(failed, Outcome.SERVER_ERROR, Outcome.OK)
        rec["status"] = np.where(failed, 503, 200)
        rec["name_id"] = np.arange(n) % len(ENDPOINTS)
        rec["kind"] = Kind.HTTP
        rec["user"] = np.arange(n) % step.users
        rec["concurrency"] = step.users
        source.append(rec)
        end = t + int(step.hold_s * NS)
        for sec in range(int(step.hold_s) + 1):
            timeline.append(
                {
                    "t_ns": t + sec * NS,
                    "source": "local",
                    "target_users": step.users,
                    "active_users": step.users,
                    "cpu_percent": 30.0,
                    "late_sends": 0,
                    "missed": 0,
                    "inflight": 0,
                }
            )
        events.append(
            {
                "t_ns": end,
                "type": "level",
                "start_ns": t,
                "end_ns": end,
                "target_users": step.users,
                "label": f"step-{i + 1}",
            }
        )
        t = end + 3 * NS  # a gap longer than the latency, so no answer spills into the next
    events.append({"t_ns": t, "type": "run_end", "status": "complete"})
    for log in (events, timeline):
        log.close()
    source.close()
    write_meta(
        path,
        {
            "run_id": path.name,
            "status": "complete",
            "partial_reason": None,
            "started_at_utc": "2024-12-03T13:00:00+00:00",
            "started_at_kst": "2024-12-03T22:00:00+09:00",
            "ended_at_utc": "2024-12-03T13:01:00+00:00",
            "ended_at_kst": "2024-12-03T22:01:00+09:00",
            "t0_ns": T0_NS,
            "scenario": {"name": scenario_name, "levels": [s.users for s in steps]},
            "scenario_name": scenario_name,
            "profile_name": "upbit",
            "load_model": "open",
            "scale": {
                "time_scale": 1.0,
                "user_scale": user_scale,
                "assumption": "1 simulated user stands for 10000 real users",
            },
            "target": {
                "url": "http://127.0.0.1:40000",
                "embedded": True,
                "config": target_config or {"api_workers": 4},
            },
            "workers": {"expected": 0, "seen": ["local"], "lost": []},
            "host": {"hostname": "test", "platform": "linux", "cpu_count": 2, "python": "3.11"},
            "versions": {"surgeproof": "0.1.0"},
            "git_commit": None,
            "counts": {"records": {"local": source.count}},
        },
    )
    return path
