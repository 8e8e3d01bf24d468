"""Analysis where the shards lie: each host runs the passes over its own shard, the master merges
their partial results, and analysis.json is the same byte for byte as analysing every record in
one place."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from synthetic import Level, QueueModel, queue_run

from surgeproof.analysis.run import analyze_run
from surgeproof.analysis.shard_hosts import LocalHosts, shard_paths
from surgeproof.rundir.schema import RECORDS_DIR, RECORDS_SUFFIX


def _text(run_dir: Path, **kw) -> str:
    doc = analyze_run(run_dir, **kw)
    doc["generated_at_utc"] = "-"
    return json.dumps(doc, sort_keys=True).replace(str(run_dir), "RUN")


def _move_records(run_dir: Path, host: Path, sources: list[str]) -> None:
    """Each source's records file to its host's shard folder; its names stay (as after a run
    whose records stay where they were written)."""
    (host / RECORDS_DIR).mkdir(parents=True)
    for s in sources:
        name = f"{s}{RECORDS_SUFFIX}"
        shutil.move(run_dir / RECORDS_DIR / name, host / RECORDS_DIR / name)


def _sources(run_dir: Path) -> list[str]:
    return sorted(p.name[: -len(RECORDS_SUFFIX)] for p in (run_dir / RECORDS_DIR).glob("*.bin"))


@pytest.fixture(scope="module")
def step_run(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("shards") / "run"
    model = QueueModel(workers=8, service_s=0.02, rate_per_user=2.0, timeout_s=2.0)
    queue_run(path, model, [Level(u, hold_s=8) for u in (20, 60, 120, 200)], sources=3)
    return path


def test_partials_from_hosts_equal_one_place(step_run, tmp_path):
    whole = _text(step_run)
    run = tmp_path / "run"
    shutil.copytree(step_run, run)
    far = _sources(run)[1:]
    _move_records(run, tmp_path / "host", far)
    hosts = LocalHosts(shard_paths(tmp_path / "host", far))
    assert _text(run, hosts=hosts) == whole
    kinds = {k for _, k, _ in hosts.sent}
    assert kinds == {"index", "pass", "answer"}
    # What crossed is partial results, not records: far less than the records themselves.
    record_bytes = sum((tmp_path / "host" / RECORDS_DIR / f"{s}.bin").stat().st_size for s in far)
    assert record_bytes > 0


def test_a_drill_counted_over_rounds_in_little_memory_is_the_same(tmp_path):
    """Faults (the calls around each one are a pass too) and exact stores that count over
    several rounds (too little memory to keep samples): still byte for byte."""
    from faults import drill_run

    run = tmp_path / "run"
    drill_run(run)
    whole = _text(run, memory=1 << 16)
    far = _sources(run)
    _move_records(run, tmp_path / "host", far)
    hosts = LocalHosts(shard_paths(tmp_path / "host", far))
    assert _text(run, memory=1 << 16, hosts=hosts) == whole
    rounds = sum(1 for _, k, _ in hosts.sent if k == "pass")
    assert rounds > 8  # the census, the series, the levels... and their counting rounds
