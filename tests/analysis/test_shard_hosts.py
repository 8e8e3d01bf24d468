"""Analysis where the shards lie: each host runs the passes over its own shard, the master merges
their partial results, and analysis.json is the same byte for byte as analysing every record in
one place."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from synthetic import Level, QueueModel, queue_run

from surgeproof.analysis.pass_wire import TRAVELS, decode, encode
from surgeproof.analysis.run import analyze_run
from surgeproof.analysis.scan import Census, CensusPass
from surgeproof.analysis.shard_hosts import (
    LocalHosts,
    ShardAnswerer,
    ShardHostError,
    shard_paths,
)
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


class _Forging(LocalHosts):
    """Hosts whose answers to pass rounds are replaced by ``forge(answer)``."""

    def __init__(self, shards, forge) -> None:
        super().__init__(shards)
        self.forge = forge

    def send(self, source, kind, payload):
        wait = super().send(source, kind, payload)
        return (lambda: self.forge(wait())) if kind == "pass" else wait


def _hosted(step_run: Path, tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    run = tmp_path / "run"
    shutil.copytree(step_run, run)
    far = _sources(run)
    _move_records(run, tmp_path / "host", far)
    return run, shard_paths(tmp_path / "host", far)


@pytest.mark.parametrize(
    "forge, why",
    [
        (lambda a: b"not a pass at all", "bad magic"),
        (lambda a: a[: len(a) // 2], "refused"),
        (lambda a: pickle.dumps("x"), "bad magic"),
        (lambda a: encode(CensusPass(1.0)) if b"CensusPass" not in a else _grown(a), "merge"),
    ],
)
def test_a_partial_that_does_not_fit_its_plan_is_refused_in_one_line(
    step_run, tmp_path, forge, why
):
    run, shards = _hosted(step_run, tmp_path)
    before = sorted(p.name for p in run.iterdir())
    with pytest.raises(ShardHostError, match=why) as err:
        analyze_run(run, hosts=_Forging(shards, forge))
    assert "\n" not in str(err.value) and str(err.value).startswith("worker-")
    assert sorted(p.name for p in run.iterdir()) == before  # nothing written


def _grown(answer: bytes) -> bytes:
    """The census's partial with a range that is not a pair (it cannot merge)."""
    p = decode(answer, TRAVELS, max_bytes=1 << 30)
    p.ranges["latency"] = [1, 2, 3]
    return encode(p)


def test_a_host_refuses_requests_it_cannot_trust(step_run, tmp_path):
    run, shards = _hosted(step_run, tmp_path)
    path = next(iter(shards.values()))
    host = ShardAnswerer(path, memory=1 << 20)
    for kind, payload, why in [
        ("format", b"", "unknown request"),
        ("index", b"junk", "magic"),
        ("index", encode({"span": None, "block": 0}), "block"),
        ("pass", encode({"scan": {}, "pass": 1, "first": True, "ranges": 0}), "record pass"),
        ("pass", _craft_pass(run, path, ranges=[[0, 10**9]]), "outside the shard"),
        ("pass", _craft_pass(run, path, ranges=[[5, 5]]), "empty or reversed"),
        ("pass", _craft_pass(run, path, n_win=1 << 24), "more than"),
        ("pass", _craft_pass(run, path, name_index=[10**6]), "name_index"),
    ]:
        with pytest.raises(ShardHostError, match=why) as err:
            host.answer(kind, payload)
        assert "\n" not in str(err.value)


def _craft_pass(run: Path, path: Path, *, ranges=((0, 1),), n_win=10, name_index=None) -> bytes:
    """A pass request as a master would send it, then altered."""
    from surgeproof.analysis.timeseries import SeriesPass
    from surgeproof.rundir.reader import index_source, read_meta
    from surgeproof.rundir.span import run_span

    span = run_span(read_meta(run))
    found = index_source(path, span)
    census = Census(counted=10, latency=(0, 10), service=(0, 10))
    p = SeriesPass.__new__(SeriesPass)
    p.__dict__.update(SeriesPass(_Scan(), census, 0, 10**9, n_win, 2, False).__dict__)
    setup = {
        "index": 0, "whole": found.whole, "span": list(span), "block": found.blocks.size,
        "names": ["a", "b"], "groups": ["g", "h"], "name_groups": ["g", "h"],
        "name_group": np.array([0, 1], np.int16),
        "name_index": np.array(name_index or [0, 1, 1], np.int64),
        "per_source": {"x": found.whole},
    }  # fmt: skip
    return encode(
        {"scan": setup, "pass": p.fresh(), "first": True, "ranges": np.array(ranges, np.int64)}
    )


class _Scan:
    from surgeproof.analysis.shards import Execution

    execution = Execution()
