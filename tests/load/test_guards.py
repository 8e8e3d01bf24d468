"""Guards a careful SRE expects: an abort rule that stops the ramp early and says so, remote
targets named before any load, and credentials that never reach a file of the run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from load_cli import events, run_meta, surgeproof

from surgeproof.analysis import analyze_run
from surgeproof.exchange.accounts import seed_accounts
from surgeproof.rundir.reader import read_records, read_timeline
from surgeproof.rundir.schema import Outcome

RAMP = """\
name: ramp
description: A 30-second ramp that an abort rule should cut short.
model: open
timeline:
  - phase: ramp
    duration: 30s
    users: 30
    ramp: 30s
    mix: {market_watcher: 0.5, api_bot: 0.5}
"""


@pytest.mark.slow
def test_abort_rule_stops_the_ramp_early_and_the_run_is_analysable(tmp_path):
    scenario = tmp_path / "ramp.yaml"
    scenario.write_text(RAMP)
    # A dead target (killed at 3 s, not back within the run) makes every call an error.
    out = surgeproof(
        "run",
        str(scenario),
        "--reports-dir",
        str(tmp_path),
        "--run-id",
        "a",
        "--timeout",
        "2",
        "--inject-target-outage",
        "3:60",
        "--abort-error-ratio",
        "0.5",
        "--abort-after",
        "2",
    )
    assert out.returncode == 3, out.stderr[-2000:]
    run_dir = tmp_path / "a"
    meta = run_meta(run_dir)
    assert meta["status"] == "partial"
    assert meta["partial_reason"].startswith("aborted: error ratio")
    assert "> 0.5 for 2s" in meta["partial_reason"]
    [abort] = [e for e in events(run_dir) if e["type"] == "abort"]
    assert abort["rule"] == "error ratio > 0.5 for 2s" and abort["value"] > 0.5
    # The ramp was stopped long before its 30 users: no sample and no record after the abort
    # is further up the ramp than a few seconds.
    rows, _ = read_timeline(run_dir)
    assert max(r["target_users"] for r in rows) < 15
    rs = read_records(run_dir)
    assert rs.records["intended_ns"].max() < abort["t_ns"] + 2e9
    analysis = analyze_run(run_dir)
    assert analysis["data_quality"]["partial"]
    assert analysis["data_quality"]["partial_reason"] == meta["partial_reason"]


def test_remote_target_is_refused_naming_the_host(tmp_path, small_surge):
    out = surgeproof(
        "run",
        str(small_surge),
        "--target",
        "http://staging.invalid:8080",
        "--reports-dir",
        str(tmp_path),
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    [line] = out.stderr.strip().splitlines()
    assert "staging.invalid" in line and "--allow-remote-target" in line


def test_target_outage_is_refused_for_a_target_the_tool_did_not_start(tmp_path, small_surge):
    out = surgeproof(
        "run",
        str(small_surge),
        "--target",
        "http://127.0.0.1:9",
        "--inject-target-outage",
        "3:1",
        "--reports-dir",
        str(tmp_path),
    )
    assert out.returncode == 2 and "--inject-target-outage" in out.stderr
    bad = surgeproof("run", str(small_surge), "--inject-target-outage", "soon")
    assert bad.returncode == 2 and "AT:SECONDS" in bad.stderr and "Traceback" not in bad.stderr


SIGNED = """\
name: signed
description: Logins and signed order calls with the accounts of a file.
model: open
timeline:
  - phase: trade
    duration: 8s
    users: 10
    ramp: 2s
    mix: {app_user: 0.5, panic_seller: 0.5}
    intensity: 2
"""


@pytest.mark.slow
def test_credentials_from_a_file_never_reach_any_output(tmp_path, monkeypatch):
    # The embedded exchange's own accounts (same seed), so the secrets are really used.
    accounts = seed_accounts(20, 20241203)
    creds = tmp_path / "secrets" / "accounts.json"
    creds.parent.mkdir()
    creds.write_text(json.dumps({"accounts": [a.to_json() for a in accounts]}))
    scenario = tmp_path / "signed.yaml"
    scenario.write_text(SIGNED)
    reports = tmp_path / "reports"
    monkeypatch.setenv("SURGEPROOF_ACCOUNTS_FILE", str(creds))  # the way CI passes secrets
    out = surgeproof(
        "run",
        str(scenario),
        "--workers",
        "1",
        "--reports-dir",
        str(reports),
        "--run-id",
        "s",
        "--timeout",
        "3",
    )
    assert out.returncode == 0, out.stderr[-2000:]
    run_dir = reports / "s"
    for cmd in (("analyze", str(run_dir)), ("report", str(run_dir))):
        done = surgeproof(*cmd)
        assert done.returncode == 0, done.stderr[-2000:]
    # The secrets were used: logins and signed order calls succeeded.
    rs = read_records(run_dir)
    ok = rs.records[rs.records["outcome"] == Outcome.OK]
    ok_groups = {rs.groups[int(i)] for i in np.unique(ok["name_id"])}
    assert {"login", "orders"} <= ok_groups
    secrets = [s for a in accounts for s in (a.password, a.secret_key, a.access_key)]
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert len(files) > 10 and any(p.suffix == ".html" for p in files)
    texts = [out.stdout, out.stderr] + [p.read_bytes().decode("latin-1") for p in files]
    leaked = {s for s in secrets for t in texts if s in t}
    assert not leaked
