"""One websocket gateway of the embedded exchange killed mid-run: its sessions drop and come back
on the other gateway and on its replacement; a gateway that dies on its own is noticed the same
way; analysis and report show each outage."""

from __future__ import annotations

import json
import os
import signal
import urllib.request

import numpy as np
import pytest
from load_cli import events, run_meta, start_run, surgeproof, wait_for_samples

from surgeproof.analysis import analyze_run
from surgeproof.analysis.gateway_outages import loss_window
from surgeproof.rundir.reader import read_records
from surgeproof.rundir.schema import Kind, Outcome
from surgeproof.scenario.catalog import scenarios_dir

WATCHERS = """\
name: watchers
description: Market watchers held through websocket gateway crashes.
model: open
timeline:
  - phase: hold
    duration: 16s
    users: 200
    ramp: 3s
    mix: {market_watcher: 1.0}
"""


def two_gateways(tmp_path):
    """scenarios/targets/sessions.yaml with 2 gateways and a few hundred accounts."""
    text = (scenarios_dir() / "targets" / "sessions.yaml").read_text()
    text = text.replace("ws_gateways: 4", "ws_gateways: 2")
    text = text.replace("accounts: 2000", "accounts: 300")
    assert "ws_gateways: 2" in text
    path = tmp_path / "two-gateways.yaml"
    path.write_text(text)
    return path


def gateways(url: str) -> list[dict]:
    with urllib.request.urlopen(f"{url}/admin/metrics?since=0", timeout=5) as resp:
        return json.loads(resp.read())["gateways"]


@pytest.mark.slow
def test_a_killed_gateway_is_an_outage_whose_sessions_all_come_back(tmp_path):
    scenario = tmp_path / "watchers.yaml"
    scenario.write_text(WATCHERS)
    proc = start_run(
        str(scenario),
        "--target-config",
        str(two_gateways(tmp_path)),
        "--reports-dir",
        str(tmp_path),
        "--run-id",
        "g",
        "--timeout",
        "2",
        "--inject-gateway-crash",
        "6:0",
    )
    run_dir = tmp_path / "g"
    # Gateway 1 dies on its own (as far as the run knows) at about 10 s.
    wait_for_samples(run_dir, 11)
    url = run_meta(run_dir)["target"]["url"]
    [victim] = [g for g in gateways(url) if g["id"] == 1]
    os.kill(victim["pid"], signal.SIGKILL)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    assert run_meta(run_dir)["status"] == "complete"

    ev = events(run_dir)
    downs = [e for e in ev if e["type"] == "gateway_down"]
    ups = [e for e in ev if e["type"] == "gateway_up"]
    assert [(d["gateway"], d["cause"]) for d in downs] == [(0, "injected"), (1, "died")]
    injected, died = downs
    assert injected["signal"] == "SIGKILL" and died["pid"] == victim["pid"]
    assert died["last_exit"] == "killed by SIGKILL"
    assert [u["gateway"] for u in ups] == [0, 1]
    for down, up in zip(downs, ups, strict=True):
        # The exchange really replaced the process, and says when the new one served.
        assert up["pid"] != down["pid"] and up["t_ns"] > down["t_ns"]
        assert up["down_s"] == pytest.approx((up["t_ns"] - down["t_ns"]) / 1e9)
    final = {g["id"]: g["pid"] for g in gateways_after(run_dir)}
    assert final == {0: ups[0]["pid"], 1: ups[1]["pid"]}

    # Records: sessions on each killed gateway were lost, and every lost one subscribed again.
    rs = read_records(run_dir)
    ws = rs.records[rs.records["kind"] != Kind.HTTP]
    lost = ws[(ws["kind"] == Kind.WS_GAP) & (ws["outcome"] != Outcome.OK)]
    resubscribed = ws[(ws["kind"] == Kind.WS_FIRST_MESSAGE) & (ws["outcome"] == Outcome.OK)]
    analysis = analyze_run(run_dir)
    outages = analysis["incidents"]["gateway_outages"]
    assert [o["gateway"] for o in outages] == [0, 1]
    stamps = [d["t_ns"] for d in downs]
    for k, (down, up, o) in enumerate(zip(downs, ups, outages, strict=True)):
        # The death's own window: its supervisor-stamped "died" opens a little early.
        prev, nxt = (stamps[k - 1] if k else None), (stamps[k + 1] if k + 1 < len(stamps) else None)
        start, until = loss_window(down, prev, nxt)
        assert start <= down["t_ns"] < until <= down["t_ns"] + 3 * 10**9
        mine = lost[(lost["end_ns"] >= start) & (lost["end_ns"] < until)]
        assert len(mine) > 0
        for user, t in zip(mine["user"].tolist(), mine["end_ns"].tolist(), strict=True):
            back = resubscribed[(resubscribed["user"] == user) & (resubscribed["end_ns"] > t)]
            assert len(back) > 0, f"user {user} lost at {t} never came back"
        # The analysis' entry is these records and these events.
        assert (o["down_ns"], o["up_ns"], o["pids"]) == (
            down["t_ns"],
            up["t_ns"],
            {"down": down["pid"], "up": up["pid"]},
        )
        assert (o["sessions_lost"], o["sessions_back"], o["never_back"]) == (
            len(np.unique(mine["user"])),
            len(np.unique(mine["user"])),
            0,
        )
        assert o["reconnect_attempts"] >= o["sessions_lost"]
    assert outages[0]["cause"] == "injected SIGKILL"
    assert outages[1]["cause"] == "died (killed by SIGKILL)"
    said = [line for line in analysis["summary"] if line.startswith("gateway outage: ")]
    assert [line.split(" ", 5)[4] for line in said] == ["0", "1"]  # "... websocket gateway N ..."

    report = surgeproof("report", str(run_dir))
    assert report.returncode == 0, report.stderr[-2000:]
    md = (run_dir / "report.md").read_text()
    section = md.split("## Websocket gateway outages", 1)[1].split("\n## ", 1)[0]
    first = outages[0]
    assert (
        f"* websocket gateway 0 killed at t=6 s (injected): serving again "
        f"{first['down_s']:.1f} s later; {first['sessions_lost']:,} sessions lost, "
        f"{first['sessions_back']:,} back (median" in section
    )
    assert "* websocket gateway 1 died at t=" in section and "(killed by SIGKILL)" in section
    assert "Websocket gateway outages" in (run_dir / "report.html").read_text()


def gateways_after(run_dir) -> list[dict]:
    """Each gateway's pid in the exchange's last second of per-second metrics."""
    rows = [json.loads(x) for x in (run_dir / "server" / "metrics.jsonl").read_text().splitlines()]
    last = rows[-1]["ws_gateways"]
    return [{"id": int(k), "pid": v["pid"]} for k, v in last.items()]


def test_gateway_crash_is_refused_without_gateways_or_the_embedded_exchange(tmp_path):
    scenario = tmp_path / "watchers.yaml"
    scenario.write_text(WATCHERS)
    base = ("run", str(scenario), "--reports-dir", str(tmp_path))
    cases = {
        "use a --target-config with ws_gateways": (*base, "--inject-gateway-crash", "6"),
        "not with --target": (
            *base,
            "--target",
            "http://127.0.0.1:9",
            "--inject-gateway-crash",
            "6:0",
        ),
        "expected AT[:ID]": (*base, "--inject-gateway-crash", "soon"),
        "no gateway 2": (
            *base,
            "--target-config",
            str(two_gateways(tmp_path)),
            "--inject-gateway-crash",
            "6:2",
        ),
    }
    for says, args in cases.items():
        out = surgeproof(*args)
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
        [line] = out.stderr.strip().splitlines()
        assert "--inject-gateway-crash" in line and says in line
    assert not any(tmp_path.glob("*/run.json"))  # refused before any run directory
