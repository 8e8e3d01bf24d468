"""The embedded exchange killed mid-run and restarted on its port: the run goes on, the outage's
calls are recorded as connection errors, and analysis and report show the breach and recovery."""

from __future__ import annotations

import numpy as np
import pytest
from load_cli import events, run_meta, surgeproof

from surgeproof.analysis import analyze_run
from surgeproof.rundir.reader import read_records
from surgeproof.rundir.schema import FLAG_RETRY, Kind, Outcome

HOLD = """\
name: hold
description: Hold users through a target outage.
model: open
slos:
  - {group: "*", error_ratio: 5%}
timeline:
  - phase: hold
    duration: 16s
    users: 16
    ramp: 2s
    mix: {market_watcher: 0.4, app_user: 0.4, api_bot: 0.2}
"""

#: The client timeout of the run: a call sent just before the kill ends within this.
TIMEOUT_S = 2


@pytest.mark.slow
def test_killed_and_restarted_exchange_is_an_outage_the_run_survives(tmp_path):
    scenario = tmp_path / "hold.yaml"
    scenario.write_text(HOLD)
    out = surgeproof(
        "run",
        str(scenario),
        "--reports-dir",
        str(tmp_path),
        "--run-id",
        "o",
        "--timeout",
        str(TIMEOUT_S),
        "--inject-target-outage",
        "5:3",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    run_dir = tmp_path / "o"
    assert run_meta(run_dir)["status"] == "complete"  # the run went on to its end
    ev = events(run_dir)
    [down] = [e for e in ev if e["type"] == "target_down"]
    [up] = [e for e in ev if e["type"] == "target_up"]
    assert down["cause"] == "injected" and down["signal"] == "SIGKILL"
    assert up["pid"] != down["pid"]  # a real new process
    assert up["t_ns"] - down["t_ns"] >= 3e9 and up["down_s"] >= 3

    # Errors by cause: connection errors, and only around the outage.
    rs = read_records(run_dir)
    http = rs.records[rs.records["kind"] == Kind.HTTP]
    conn = http[http["outcome"] == Outcome.CONNECTION_ERROR]
    assert len(conn) > 0
    assert conn["end_ns"].min() >= down["t_ns"]
    assert conn["intended_ns"].max() <= up["t_ns"] + TIMEOUT_S * 1e9
    before = http[http["end_ns"] < down["t_ns"]]
    assert len(before) > 0 and np.all(before["outcome"] != Outcome.CONNECTION_ERROR)
    # Recovery: calls succeed again against the restarted process.
    after = http[http["intended_ns"] > up["t_ns"] + 2e9]
    assert len(after) > 0 and np.mean(after["outcome"] == Outcome.OK) > 0.9

    # Market watchers whose websocket died with the process open it again on their own: their
    # attempts while the port was dark fail as retries, then each is back and subscribed.
    ws = rs.records[rs.records["kind"] != Kind.HTTP]
    lost = ws[(ws["kind"] == Kind.WS_GAP) & (ws["outcome"] == Outcome.CONNECTION_ERROR)]
    lost_users = set(lost["user"].tolist())
    assert lost_users and lost["end_ns"].min() >= down["t_ns"]
    connects = ws[ws["kind"] == Kind.WS_CONNECT]
    retries = connects[(connects["flags"] & FLAG_RETRY) != 0]
    assert np.all(retries["attempt"] >= 1) and np.all(retries["sent_ns"] > down["t_ns"])
    dark = retries[retries["sent_ns"] < up["t_ns"]]
    assert len(dark) > 0 and np.all(dark["outcome"] != Outcome.OK)
    back = retries[(retries["outcome"] == Outcome.OK) & (retries["sent_ns"] >= up["t_ns"])]
    assert set(back["user"].tolist()) == lost_users
    resubscribed = ws[
        (ws["kind"] == Kind.WS_FIRST_MESSAGE)
        & (ws["outcome"] == Outcome.OK)
        & (ws["sent_ns"] >= up["t_ns"])
    ]
    assert set(resubscribed["user"].tolist()) == lost_users

    # The analysis has one breach window over the outage, recovered; the report shows it.
    analysis = analyze_run(run_dir)
    windows = analysis["incidents"]["breach_windows"]
    over = [w for w in windows if w["start_ns"] <= up["t_ns"] and w["end_ns"] >= down["t_ns"]]
    assert len(over) == 1 and over[0]["recovered"]
    recovery_s = (over[0]["end_ns"] - up["t_ns"]) / 1e9  # SLOs held again this long after
    assert 0 <= recovery_s <= 3
    assert any("error_ratio" in s for s in over[0]["slos_broken"])
    report = surgeproof("report", str(run_dir))
    assert report.returncode == 0, report.stderr[-2000:]
    md = (run_dir / "report.md").read_text()
    assert "## SLO-breach windows" in md and "| 5.0 s |" in md

    # Retries and reconnects in the analysis, from the same records: the watchers' reconnect
    # storm after the kill, every lost session back; no behaviour here re-sends HTTP calls.
    amp = analysis["amplification"]
    sent_http = int(np.count_nonzero(http["sent_ns"] > 0))
    assert (amp["http"]["first_attempts"], amp["http"]["resends"]) == (sent_http, 0)
    assert amp["http"]["factor"] == 1.0 and amp["http"]["peak"] is None
    storm = amp["websocket"]
    assert storm["reconnect_attempts"] == len(retries)
    assert storm["reconnects_failed"] == int(np.count_nonzero(retries["outcome"] != Outcome.OK))
    assert storm["users_reconnected"] == len(set(retries["user"].tolist()))
    assert storm["peak"]["start_ns"] + analysis["input"]["window_s"] * 1e9 > down["t_ns"]
    assert storm["sessions_back"] >= len(lost_users) and storm["never_back"] == 0
    # Every session lost at the kill came back only once the port answered again.
    assert storm["resubscribe_s"]["p50"] >= (up["t_ns"] - lost["end_ns"].max()) / 1e9
    [outage] = analysis["incidents"]["target_outages"]
    assert outage["reconnect_attempts"] >= len(dark)
    section = md.split("## Retries and reconnects", 1)[1].split("\n## ", 1)[0]
    assert f"{len(retries):,} websocket reconnect attempt" in section
    assert "No HTTP call was re-sent." in section
