"""``run --shards-stay``: records kept on the workers' hosts stay there; each worker runs the
analysis's passes over its own shard and only partial results cross the worker channel. The
analysis.json written at the end is the one that gathering every record and analysing it in one
place gives, byte for byte."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from load_cli import fleet_env, run_meta, start_run, surgeproof
from test_record_shards import HOLD, _free_port, _remote_worker

from surgeproof.analysis import analyze_run


def _same(doc: dict) -> str:
    return json.dumps({**doc, "generated_at_utc": "-"}, sort_keys=True)


@pytest.mark.slow
def test_records_stay_on_their_hosts_and_the_analysis_is_the_gathered_one(tmp_path):
    scenario = tmp_path / "hold.yaml"
    scenario.write_text(HOLD)
    port = _free_port()
    proc = start_run(
        str(scenario),
        "--expect-workers", "2", "--master-port", str(port), "--record-shards", "local",
        "--shards-stay", "--reports-dir", str(tmp_path), "--run-id", "st", "--timeout", "2",
        "--no-report", env=fleet_env(),
    )  # fmt: skip
    hosts = [tmp_path / "host-a", tmp_path / "host-b"]
    workers = [_remote_worker(port, h) for h in hosts]
    try:
        stdout, stderr = proc.communicate(timeout=120)
        for w in workers:
            w.communicate(timeout=30)
    finally:
        for p in (proc, *workers):
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
    assert proc.returncode == 0, stdout[-3000:] + stderr[-2000:]
    assert "analysed where the shards lie" in stdout, stdout[-2000:]
    run_dir = tmp_path / "st"
    meta = run_meta(run_dir)
    missing = meta["workers"]["missing_shards"]
    assert len(missing) == 2 and all(m["stays"] for m in missing)
    # No record crossed: the run directory holds each source's names, not its records.
    assert not list((run_dir / "records").glob("*.bin"))
    assert len(list((run_dir / "records").glob("*.names.jsonl"))) == 2
    where = json.loads((run_dir / "analysis.json").read_text())
    assert where["input"]["records"]["total"] > 0
    assert not [c for c in where["data_quality"]["caveats"] if "not gathered" in c]

    for h in hosts:
        gathered = surgeproof("gather", str(run_dir), "--from", str(h / "st"))
        assert gathered.returncode == 0, gathered.stderr
    one_place = analyze_run(run_dir)
    assert _same(one_place) == _same(where)


def test_shards_stay_needs_workers(tmp_path):
    scenario = tmp_path / "hold.yaml"
    scenario.write_text(HOLD)
    out = surgeproof("run", str(scenario), "--shards-stay", "--reports-dir", str(tmp_path))
    assert out.returncode == 2
    assert "--shards-stay" in out.stderr and "Traceback" not in out.stderr
    assert not list(Path(tmp_path).glob("*/run.json"))


@pytest.mark.slow
def test_on_separate_network_hosts_the_analysis_is_the_gathered_one(tmp_path, monkeypatch):
    """The master and two workers each in a network namespace of their own (as the multi-host
    test builds them): only partial results cross between hosts."""
    import os
    import sys

    from test_multihost import HOLD as SHORT
    from test_multihost import (
        MASTER_PORT,
        SUBNET,
        _build,
        _in,
        _namespaces_or_skip,
        _teardown,
        worker_on,
    )

    from surgeproof.exchange.accounts import seed_accounts
    from surgeproof.scenario.catalog import scenarios_dir

    prefix = f"ss{os.getpid() % 100000}"
    _namespaces_or_skip(prefix)
    scenario = tmp_path / "hold.yaml"
    scenario.write_text(SHORT)
    creds = tmp_path / "accounts.json"
    creds.write_text(json.dumps([a.to_json() for a in seed_accounts(100, 20241203)]))
    monkeypatch.setenv("SURGEPROOF_ACCOUNTS_FILE", str(creds))
    monkeypatch.delenv("SURGEPROOF_FLEET_KEY", raising=False)
    key = tmp_path / "fleet.key"
    key.write_text("c0ffee00" * 8 + "\n")
    key.chmod(0o600)
    py = [sys.executable, "-m"]
    procs: list = []
    try:
        _build(prefix)
        exchange = _in(
            f"{prefix}-ex", *py, "surgeproof.exchange", "--host", f"{SUBNET}.1",
            "--allow-remote", "--port", "8080", "--json", "--accounts", "100",
            "--config", str(scenarios_dir() / "targets" / "default.yaml"),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        procs.append(exchange)
        json.loads(exchange.stdout.readline())
        master = _in(
            f"{prefix}-ma", *py, "surgeproof.cli", "run", str(scenario),
            "--target", f"http://{SUBNET}.1:8080", "--allow-remote-target",
            "--expect-workers", "2", "--master-bind-host", f"{SUBNET}.2",
            "--master-port", str(MASTER_PORT), "--fleet-key-file", str(key),
            "--record-shards", "local", "--shards-stay", "--no-report",
            "--reports-dir", str(tmp_path), "--run-id", "mh", "--timeout", "3",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        procs.append(master)
        workers = [
            worker_on(prefix, w, key, "--shard-dir", str(tmp_path / f"host-{w}"))
            for w in ("w1", "w2")
        ]
        procs += workers
        out, err = master.communicate(timeout=120)
        for w in workers:
            w.communicate(timeout=30)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        _teardown(prefix)
    assert master.returncode == 0, out[-2000:] + err[-2000:]
    assert "analysed where the shards lie" in out, out[-2000:]
    run_dir = tmp_path / "mh"
    assert not list((run_dir / "records").glob("*.bin"))
    where = json.loads((run_dir / "analysis.json").read_text())
    for w in ("w1", "w2"):
        gathered = surgeproof("gather", str(run_dir), "--from", str(tmp_path / f"host-{w}" / "mh"))
        assert gathered.returncode == 0, gathered.stderr
    assert _same(analyze_run(run_dir)) == _same(where)
