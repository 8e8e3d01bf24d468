"""``run --shards-stay``: records kept on the workers' hosts stay there; each worker runs the
analysis's passes over its own shard and only partial results cross the worker channel. The
analysis.json written at the end is the one that gathering every record and analysing it in one
place gives, byte for byte."""

from __future__ import annotations

import json
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
