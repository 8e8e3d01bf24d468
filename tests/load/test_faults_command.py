"""A real fault on a real process, from the team's own tool: the embedded exchange (speaking
Coinone's API) stopped with SIGSTOP and resumed with SIGCONT by a ``--fault-shell`` command at a
known time for a known length. The measured RTO is that length plus one SLO window, within one
window; every order in flight when it began is accounted for, one by one."""

from __future__ import annotations

import json

import numpy as np
import pytest
from load_cli import events, surgeproof

from surgeproof.rundir.reader import open_record_sources
from surgeproof.rundir.schema import FLAG_ORDER_SUBMIT

#: Slow enough (500 ms a call, 200 at a time, for about 180 calls a second of which 50 are
#: orders) that some 25 orders are in flight at any moment.
TARGET = """\
api_workers: 200
service_time_ms: 500
limits: off
"""

DRILL = """\
name: sigstop-drill
description: the exchange frozen and thawed by the team's own command
slos:
  - {group: "*", p99: 1500ms}
  - {group: "*", error_ratio: 5%}
timeline:
  - phase: trading
    duration: 24s
    users: 40
    ramp: 2s
    mix: {app_user: 0.5, panic_seller: 0.5}
    intensity: 6
    steady: false
"""

#: Frozen for two seconds; the command says when it thawed it.
STOP = "8s:kill -STOP $SURGEPROOF_TARGET_PID && sleep 2 && kill -CONT $SURGEPROOF_TARGET_PID && echo thawed $SURGEPROOF_FAULT_NAME"  # noqa: E501


@pytest.mark.slow
def test_a_sigstop_drill_measures_the_rto_and_accounts_for_every_order_in_flight(tmp_path):
    (tmp_path / "target.yaml").write_text(TARGET)
    (tmp_path / "drill.yaml").write_text(DRILL)
    res = surgeproof(
        "run", str(tmp_path / "drill.yaml"), "--target-config", str(tmp_path / "target.yaml"),
        "--dialect", "coinone", "--time-scale", "1/2", "--fault-shell", STOP,
        "--reports-dir", str(tmp_path / "reports"), "--run-id", "drill", timeout=240,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    run_dir = tmp_path / "reports" / "drill"
    evs = events(run_dir)
    t0 = json.loads((run_dir / "run.json").read_text())["t0_ns"]
    [start] = [e for e in evs if e["type"] == "fault_start"]
    [end] = [e for e in evs if e["type"] == "fault_end"]
    # AT is scenario time: 8 s at time scale 1/2 is 4 s into the run.
    assert start["planned_at_s"] == 4.0 and 4.0 <= (start["t_ns"] - t0) / 1e9 < 4.5
    assert end["exit_status"] == 0 and end["output_tail"] == ["thawed fault-1"]
    assert 2.0 <= end["duration_s"] < 3.0

    a = json.loads((run_dir / "analysis.json").read_text())
    [r] = a["recovery"]["faults"]
    rto, window = r["rto"], a["timeseries"]["window_s"]
    assert rto["status"] == "recovered"
    known = r["action_s"]  # the command's own length: frozen from its start to its end
    assert abs(rto["rto_s"] - (known + window)) <= window
    # Every group came back when the exchange thawed: its first success ends its wait then.
    for g in ("orders", "account", "quotation"):
        assert known - 0.1 <= r["groups"][g]["first_ok_s"] <= known + 1.0, g

    # The orders in flight at the fault, counted from the records themselves.
    F = r["start_ns"]
    flying = 0
    for src in open_record_sources(run_dir).sources:
        rec = src.records
        flying += int(
            np.count_nonzero(
                ((rec["flags"] & FLAG_ORDER_SUBMIT) != 0)
                & (rec["sent_ns"] > 0)
                & (rec["sent_ns"] < F)
                & (rec["end_ns"] >= F)
            )
        )
    o = r["orders_in_flight"]
    assert o["count"] == o["listed"] == flying > 0
    for row in o["orders"]:
        assert row["sent_ns"] < F <= row["end_ns"]
        # Answered after the thaw, acknowledged, and known to the exchange afterwards as such.
        assert row["outcome"] == "ok" and row["order_id"], row
        assert row["fate"] == "consistent", row
        assert row["reconciliation"]["order_id"] == row["order_id"]
    assert a["reconciliation"]["order_status"]["status"] == "passed"
    assert f"recovery: {r['sentence']}" in res.stdout
