"""A worker SIGKILLed mid-run: its users move to the survivor within 5 s, nothing shipped is lost,
and the window in which offered load fell short is on record for the analysis; a step search
holds the level it cut short again instead of counting it as a failure."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict

import pytest
from load_cli import events, run_meta, sigkill_a_local_worker, start_run

from surgeproof.analysis import analyze_run
from surgeproof.rundir.reader import read_records, read_timeline

HOLD = """\
name: hold
description: Ramp to 20 users and hold them.
model: open
slos:
  - {group: "*", error_ratio: 50%}
timeline:
  - phase: ramp-and-hold
    duration: 15s
    users: 20
    ramp: 3s
    mix: {market_watcher: 0.5, app_user: 0.5}
"""

#: Issue 6: users redistributed to the living workers within this long (plain Locust: 63 s).
REBALANCE_WITHIN_S = 5.0


def _offered_per_second(run_dir, t0: int) -> dict[int, int]:
    rows, _ = read_timeline(run_dir)
    by_second: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        by_second[int((row["t_ns"] - t0) // 1_000_000_000)][row["source"]] = row["active_users"]
    return {s: sum(v.values()) for s, v in by_second.items()}


@pytest.mark.slow
def test_sigkilled_worker_users_move_within_5s_and_its_records_are_kept(tmp_path):
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
    killed_ns = sigkill_a_local_worker(proc, run_dir, after_s=6)
    _, stderr = proc.communicate(timeout=90)
    assert proc.returncode == 0, stderr[-2000:]

    meta = run_meta(run_dir)
    [lost] = meta["workers"]["lost"]
    assert lost["detected_by"] == "process exit"
    ev = events(run_dir)
    assert [e["source"] for e in ev if e["type"] == "worker_lost"] == [lost["source"]]
    [rebalanced] = [e for e in ev if e["type"] == "rebalanced"]
    assert rebalanced["users"] >= 20 and rebalanced["workers"] == 1
    assert rebalanced["t_ns"] - killed_ns < REBALANCE_WITHIN_S * 1e9

    # Every record the dead worker shipped is in the run directory, none of them torn.
    rs = read_records(run_dir)
    assert not rs.damage
    assert rs.per_source[lost["source"]] == meta["counts"]["records"][lost["source"]] > 0
    survivor = next(s for s in meta["workers"]["seen"] if s != lost["source"])
    assert meta["workers"]["nodes"][survivor]["shipped"] == rs.per_source[survivor]

    # The shortfall window brackets the kill: from the victim's last batch to users restored.
    assert lost["short_from_ns"] <= killed_ns <= lost["restored_t_ns"] == rebalanced["t_ns"]
    assert 0 < lost["short_s"] < REBALANCE_WITHIN_S + 1.5

    # After the takeover the survivor alone offers the full 20 users.
    t0 = meta["t0_ns"]
    offered = _offered_per_second(run_dir, t0)
    after = (rebalanced["t_ns"] - t0) / 1e9 + 2
    tail = [u for s, u in offered.items() if after <= s < 14]
    assert tail and min(tail) >= 19

    # The analysis keeps the window and says a worker was lost.
    analysis = analyze_run(run_dir)
    [seen_lost] = analysis["generator"]["lost_workers"]
    assert seen_lost["short_from_ns"] == lost["short_from_ns"]
    assert seen_lost["restored_t_ns"] == lost["restored_t_ns"]
    assert any("worker" in c and "lost" in c for c in analysis["data_quality"]["caveats"])


SEARCH = """\
name: search-losing-a-worker
description: Step search over two workers, one of which is killed during the first level.
model: open
slos:
  - {group: "*", error_ratio: 50%}
search:
  start: 10
  max: 15
  step_factor: 1.5
  settle: 2s
  hold: 5s
  resolution: 5%
  mix: {app_user: 1.0}
  intensity: 10
"""


@pytest.mark.slow
def test_a_step_search_holds_again_the_level_a_killed_worker_cut_short(tmp_path):
    scenario = tmp_path / "search.yaml"
    scenario.write_text(SEARCH)
    proc = start_run(
        str(scenario),
        "--workers",
        "2",
        "--reports-dir",
        str(tmp_path),
        "--run-id",
        "s",
        "--timeout",
        "2",
    )
    run_dir = tmp_path / "s"
    # level-1 is held from ~0.2 s: settle to ~2.2 s, its judged window to ~7.2 s.
    sigkill_a_local_worker(proc, run_dir, after_s=3.5)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr[-2000:]

    meta = run_meta(run_dir)
    [lost] = meta["workers"]["lost"]
    search = meta["search"]
    assert search["complete"] and search["gave_up"] == []
    cut, again = search["levels"][:2]
    # The level the worker's death cut short is not a failure: it is held again, and counts.
    assert (cut["label"], cut["verdict"], cut["short_of"]) == (
        "level-1",
        "inconclusive",
        [lost["source"]],
    )
    assert f"worker {lost['source']}" in cut["reasons"][0]
    assert (again["label"], again["users"], again["verdict"]) == ("level-1 (again)", 10, "pass")
    assert search["bracket"]["last_pass"] == 15 and search["bracket"]["first_fail"] is None
    ev = events(run_dir)
    [phase] = [e for e in ev if e["type"] == "phase" and e["name"] == "level-1 (again)"]
    assert phase["again_of"] == "level-1"
    # The re-held window starts after the lost users ran again.
    [level_again] = [e for e in ev if e["type"] == "level" and e["label"] == "level-1 (again)"]
    assert level_again["start_ns"] >= lost["restored_t_ns"]

    # The analysis agrees: the cut level is inconclusive naming the worker, the bracket skips it.
    analysis = analyze_run(run_dir)
    verdicts = {lv["label"]: lv["verdict"] for lv in analysis["levels"]}
    assert verdicts == {"level-1": "inconclusive", "level-1 (again)": "pass", "level-2": "pass"}
    [window] = analysis["data_quality"]["shortfall_windows"]
    assert window["levels"] == ["level-1"]
    assert analysis["ceiling"]["last_pass"]["label"] == "level-2"
