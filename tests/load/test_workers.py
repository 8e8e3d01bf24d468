"""Master/worker runs: offered users follow the timeline (a killed worker: test_faults_worker)."""

from __future__ import annotations

from collections import defaultdict

import pytest
from load_cli import run_meta, surgeproof

from surgeproof.rundir.reader import read_records, read_timeline


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
            lo = plan.program.target_users(second) - 1.5
            hi = plan.program.target_users(min(second + 2, plan.duration_s - 0.01)) + 1.5
            assert lo <= users <= hi, (second, users, lo, hi)
