"""Analysis over shards in worker processes, or in counts when memory is short: the same
analysis.json, byte for byte, as one process keeping every sample — damaged runs included."""

import json

import pytest
from synthetic import Level, QueueModel, queue_run

from surgeproof.analysis.run import analyze_run
from surgeproof.analysis.shards import Execution, resolve_jobs, shard
from surgeproof.scenario.model import Slo

SLOS = [Slo("*", "p99", 500.0), Slo("orders", "p90", 300.0), Slo("*", "error_ratio", 0.01)]


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    """A step run through the ceiling on three sources, one cut off mid-record and holding a
    record that cannot be true, another with records beyond the run's end."""
    path = tmp_path_factory.mktemp("run")
    levels = [Level(30), Level(60), Level(90), Level(40, generator_bound=True)]
    queue_run(path, QueueModel(timeout_s=1.0), levels, sources=3, exp_service=True)
    with open(path / "records" / "worker-1.bin", "ab") as fh:
        fh.write(bytes(40) + b"\x07" * 23)
    return path


def _document(path, **kw):
    a = analyze_run(path, slos=SLOS, **kw)
    a["generated_at_utc"] = None
    return json.dumps(a, indent=1, allow_nan=False)


def test_two_worker_processes_write_the_same_analysis_as_one(damaged):
    one = _document(damaged, jobs=1)
    assert '"damage": [\n' in one and "left out" in one
    assert _document(damaged, jobs=2) == one  # samples gathered from the workers
    assert _document(damaged, jobs=2, memory=1 << 14) == one  # counts added up


def test_a_memory_too_small_for_the_samples_gives_the_same_analysis(damaged, monkeypatch):
    from surgeproof.analysis import keyed

    made = []

    class Counted(keyed.RankedValues):
        def __init__(self, *args, **kw):
            made.append(kw["memory"])
            super().__init__(*args, **kw)

    whole = _document(damaged, jobs=1)
    assert not made
    monkeypatch.setattr(keyed, "RankedValues", Counted)
    assert _document(damaged, jobs=1, memory=1 << 14) == whole
    assert len(made) >= 8 and max(made) <= 1 << 14  # every store counted, within the memory


def test_jobs_auto_stays_in_one_process_for_small_runs():
    assert resolve_jobs("auto", 1_000_000) == 1
    assert resolve_jobs(3, 10) == 3
    with pytest.raises(ValueError):
        resolve_jobs(0, 10)
    with pytest.raises(ValueError):
        Execution(memory=1000)


def test_shards_are_contiguous_runs_of_about_equal_size():
    from surgeproof.analysis.scan import Block

    blocks = [Block(i // 10, i, i + 1, 0, 1, 100) for i in range(30)]
    parts = shard(blocks, 4)
    assert [b for part in parts for b in part] == blocks
    assert len(parts) == 4 and max(map(len, parts)) - min(map(len, parts)) <= 2
