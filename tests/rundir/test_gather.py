"""``surgeproof gather``: a shard kept on a worker's host comes into the run, whole records only,
and run.json says so; what is already there is never overwritten by something else."""

from __future__ import annotations

import json

import numpy as np
import pytest

from surgeproof.errors import UserError
from surgeproof.rundir.gather import gather_shards
from surgeproof.rundir.reader import read_records
from surgeproof.rundir.schema import RECORD_DTYPE
from surgeproof.rundir.writer import write_meta

T = 1_796_000_000 * 1_000_000_000


def _records(n: int, start: int = 0) -> bytes:
    rec = np.zeros(n, dtype=RECORD_DTYPE)
    rec["intended_ns"] = T + (start + np.arange(n)) * 1_000_000
    rec["sent_ns"] = rec["intended_ns"]
    rec["end_ns"] = rec["intended_ns"] + 5_000_000
    rec["status"] = 200
    return rec.tobytes()


def _run(tmp_path, missing: int):
    run_dir = tmp_path / "r1"
    (run_dir / "records").mkdir(parents=True)
    write_meta(
        run_dir,
        {
            "run_id": "r1",
            "status": "complete",
            "t0_ns": T,
            "counts": {"records": {"worker-a": 0}},
            "workers": {
                "nodes": {"worker-a": {"received": 0, "shard": {"shared": False}}},
                "missing_shards": [{"source": "worker-a", "records": missing}],
            },
        },
    )
    return run_dir


def _shard(tmp_path, source: str, raw: bytes, run_id: str = "r1"):
    root = tmp_path / "host" / run_id
    (root / "records").mkdir(parents=True, exist_ok=True)
    (root / "records" / f"{source}.bin").write_bytes(raw)
    (root / "records" / f"{source}.names.jsonl").write_text(
        json.dumps({"id": 0, "name": "GET /v1/ticker", "group": "quotation"}) + "\n"
    )
    (root / f"{source}.shard.json").write_text(json.dumps({"run_id": run_id, "source": source}))
    return tmp_path / "host"


def test_a_shard_left_on_its_host_comes_in_whole_and_run_json_follows(tmp_path):
    run_dir = _run(tmp_path, missing=30)
    # Killed mid-write: 32 whole records and a torn one.
    host = _shard(tmp_path, "worker-a", _records(32) + _records(1, 32)[:17])
    _shard(tmp_path, "worker-z", _records(5), run_id="another-run")  # not this run's
    [g] = gather_shards(run_dir, host)
    assert (g.source, g.action, g.records) == ("worker-a", "copied", 32)
    rs = read_records(run_dir)
    assert rs.per_source == {"worker-a": 32} and not rs.damage
    assert rs.groups == ["quotation"]
    meta = json.loads((run_dir / "run.json").read_text())
    assert meta["counts"]["records"] == {"worker-a": 32}
    assert meta["workers"]["nodes"]["worker-a"]["received"] == 32
    assert meta["workers"]["nodes"]["worker-a"]["shard"]["gathered"] is True
    assert meta["workers"]["missing_shards"] == []
    # Twice is harmless.
    [again] = gather_shards(run_dir, host)
    assert again.action == "already there"


def test_a_gathering_cut_short_is_completed_but_a_different_file_is_left_alone(tmp_path):
    run_dir = _run(tmp_path, missing=10)
    full = _records(10)
    (run_dir / "records" / "worker-a.bin").write_bytes(full[:123])  # the master got 3 chunks
    host = _shard(tmp_path, "worker-a", full)
    [g] = gather_shards(run_dir, host)
    assert g.action == "copied" and (run_dir / "records" / "worker-a.bin").read_bytes() == full
    (run_dir / "records" / "worker-a.bin").write_bytes(_records(10, start=99))
    [g] = gather_shards(run_dir, host)
    assert g.action == "conflict"
    assert (run_dir / "records" / "worker-a.bin").read_bytes() == _records(10, start=99)


def test_nothing_to_gather_is_a_one_line_error(tmp_path):
    run_dir = _run(tmp_path, missing=1)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no record shards of run r1"):
        gather_shards(run_dir, tmp_path / "empty")
