"""``surgeproof gather`` against crafted shard folders and run directories: every case is refused
with one line naming the input and exit 2, before anything is written — the run directory and a
sentinel folder outside it are exactly as they were."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from sentinel import Sentinel, refused, snapshot, surgeproof
from surgeproof.rundir.schema import RECORD_DTYPE
from surgeproof.rundir.writer import write_meta

T = 1_796_000_000 * 1_000_000_000


def _records(n: int) -> bytes:
    rec = np.zeros(n, dtype=RECORD_DTYPE)
    rec["intended_ns"] = T + np.arange(n) * 1_000_000
    rec["sent_ns"] = rec["intended_ns"]
    rec["end_ns"] = rec["intended_ns"] + 5_000_000
    rec["status"] = 200
    return rec.tobytes()


class Case:
    """A run ``r1`` that lost worker-a's shard, the worker's shard folder, and a sentinel."""

    def __init__(self, tmp_path: Path, status: str = "complete") -> None:
        self.tmp = tmp_path
        self.sentinel = Sentinel(tmp_path / "sentinel")
        self.run = tmp_path / "r1"
        (self.run / "records").mkdir(parents=True)
        (self.run / "records" / "local.bin").write_bytes(_records(3))
        (self.run / "records" / "local.names.jsonl").write_text(
            json.dumps({"id": 0, "name": "GET /v1/ticker", "group": "quotation"}) + "\n"
        )
        workers = {
            "seen": ["worker-a"],
            "nodes": {"worker-a": {"received": 0, "shard": {"shared": False, "records": 30}}},
            "missing_shards": [{"source": "worker-a", "records": 30, "received": 0}],
        }
        meta = {"run_id": "r1", "status": status, "t0_ns": T}
        if status != "running":
            meta |= {"counts": {"records": {"local": 3, "worker-a": 0}}, "workers": workers}
        write_meta(self.run, meta)
        self.host = tmp_path / "host"
        self.shard = self.host / "r1"
        self.add("worker-a", _records(30))

    def add(self, source: str, raw: bytes, run_id: str = "r1") -> Path:
        root = self.host / run_id
        (root / "records").mkdir(parents=True, exist_ok=True)
        (root / "records" / f"{source}.bin").write_bytes(raw)
        (root / "records" / f"{source}.names.jsonl").write_text(
            json.dumps({"id": 0, "name": "GET /v1/ticker", "group": "quotation"}) + "\n"
        )
        (root / f"{source}.shard.json").write_text(json.dumps({"run_id": run_id}))
        return root / "records" / f"{source}.bin"

    def gather(self, *extra: str):
        self.run_before = snapshot(self.run)
        return surgeproof("gather", self.run, "--from", self.host, *extra)

    def assert_nothing_changed(self) -> None:
        assert snapshot(self.run) == self.run_before
        self.sentinel.assert_unchanged()


@pytest.fixture
def case(tmp_path):
    return Case(tmp_path)


def test_a_sound_shard_still_comes_in(case):
    done = case.gather()
    assert done.returncode == 0, done.stderr
    assert done.stdout == "surgeproof gather: worker-a: copied (30 records)\n"
    assert (case.run / "records" / "worker-a.bin").read_bytes() == _records(30)
    case.sentinel.assert_unchanged()


def test_a_shard_that_is_a_link_to_a_file_outside_is_not_followed(case):
    shard = case.shard / "records" / "worker-a.bin"
    shard.unlink()
    shard.symlink_to(case.sentinel.passwd)
    refused(case.gather(), "gather", f"--from {shard}: a symbolic link; only files are gathered")
    case.assert_nothing_changed()
    assert not (case.run / "records" / "worker-a.bin").exists()


@pytest.mark.parametrize("which", ["names", "shard.json"])
def test_a_names_file_or_shard_json_that_is_a_link_is_not_read(case, which):
    path = {
        "names": case.shard / "records" / "worker-a.names.jsonl",
        "shard.json": case.shard / "worker-a.shard.json",
    }[which]
    path.unlink()
    path.symlink_to(case.sentinel.passwd)
    why = "only files are gathered" if which == "names" else "not read"
    refused(case.gather(), "gather", f"--from {path}: a symbolic link; {why}")
    case.assert_nothing_changed()


@pytest.mark.parametrize("folder", ["r1", "records"])
def test_a_folder_on_the_way_that_is_a_link_is_not_followed(case, folder):
    # The real shard moves into the sentinel's neighbour; a link takes its place.
    elsewhere = case.tmp / "elsewhere"
    if folder == "r1":
        case.shard.rename(elsewhere)
        case.shard.symlink_to(elsewhere)
        link = case.shard
    else:
        (case.shard / "records").rename(elsewhere)
        (case.shard / "records").symlink_to(elsewhere)
        link = case.shard / "records"
    refused(case.gather(), "gather", f"--from: {link} is a symbolic link; links are not followed")
    case.assert_nothing_changed()


@pytest.mark.parametrize("name", ["worker-a.bin", "worker-a.names.jsonl"])
def test_a_link_planted_in_the_runs_records_is_never_written_through(case, name):
    planted = case.run / "records" / name
    planted.symlink_to(case.sentinel.absent)
    refused(
        case.gather(),
        "gather",
        f"{planted}: a symbolic link; gather never writes through or replaces it",
    )
    case.assert_nothing_changed()
    assert not case.sentinel.absent.exists()


def test_a_runs_records_folder_that_is_a_link_is_not_followed(case):
    (case.run / "records").rename(case.tmp / "moved-records")
    (case.run / "records").symlink_to(case.sentinel.path / "folder")
    refused(
        case.gather(),
        "gather",
        f"run directory: {case.run / 'records'} is a symbolic link; links are not followed",
    )
    case.assert_nothing_changed()


def test_a_sparse_shard_is_refused_by_its_apparent_size_before_a_byte_is_copied(case):
    shard = case.shard / "records" / "worker-a.bin"
    with open(shard, "r+b") as f:
        f.truncate(4 << 30)  # 4 GiB apparent, a few kilobytes on disk
    done = case.gather()
    refused(
        done,
        "gather",
        f"--from {shard}: 4,294,967,296 bytes, more than the 67,110,064 allowed (run.json says "
        "worker-a wrote 30 records; a shard may hold 64 MiB more; --max-bytes SIZE allows more)",
    )
    case.assert_nothing_changed()
    # Allowed by size, a hole is still no worker's shard (a worker appends end to end).
    done = case.gather("--max-bytes", "8GiB")
    refused(
        done,
        "gather",
        f"--from {shard}: a sparse file (holes of nothing but zeros); a worker writes its shard "
        "end to end, so this is not one",
    )
    case.assert_nothing_changed()


def test_a_shard_of_a_run_whose_master_died_is_bounded_too(tmp_path):
    case = Case(tmp_path, status="running")  # run.json names no worker and no count
    shard = case.shard / "records" / "worker-a.bin"
    with open(shard, "r+b") as f:
        f.truncate(80 << 30)
    refused(
        case.gather(),
        "gather",
        f"--from {shard}: 85,899,345,920 bytes, more than the 68,719,476,736 allowed (run.json "
        "has no count for it; --max-bytes SIZE allows more)",
    )
    case.assert_nothing_changed()


def test_a_shard_named_local_cannot_replace_the_conductors_own_records(case):
    shard = case.add("local", _records(99))
    refused(
        case.gather(),
        "gather",
        f"--from {shard}: 'local' is the conductor's own record source; a worker's shard "
        "cannot replace it",
    )
    case.assert_nothing_changed()
    assert (case.run / "records" / "local.bin").read_bytes() == _records(3)


def test_a_shard_of_a_source_the_run_never_saw_is_refused(case):
    shard = case.add("worker-forged", _records(5))
    refused(
        case.gather(),
        "gather",
        f"--from {shard}: 'worker-forged' is not a worker of this run "
        f"({case.run / 'run.json'} names worker-a)",
    )
    case.assert_nothing_changed()


@pytest.mark.parametrize("name", [".hidden.bin", "a b.bin", "-x.bin"])
def test_a_shard_whose_name_is_not_plain_is_refused(case, name):
    (case.shard / "records" / name).write_bytes(_records(1))
    source = name[: -len(".bin")]
    refused(
        case.gather(),
        "gather",
        f"--from {case.shard / 'records' / name}: {source!r} is not a plain name (letters, "
        "digits, '.', '_', '-'; not starting with '.'; at most 128 characters)",
    )
    case.assert_nothing_changed()


def test_a_special_file_as_a_shard_is_refused_without_opening_it(case):
    fifo = case.shard / "records" / "worker-a.bin"
    fifo.unlink()
    os.mkfifo(fifo)  # a plain open would wait for a writer for ever
    refused(case.gather(), "gather", f"--from {fifo}: not a regular file; only files are gathered")
    case.assert_nothing_changed()


def test_a_deeply_nested_shard_json_is_refused_not_a_crash(case):
    meta = case.shard / "worker-a.shard.json"
    meta.write_text("[" * 30_000 + "]" * 30_000)  # within the size bound
    refused(
        case.gather(),
        "gather",
        f"--from {meta}: not valid JSON (a shard.json is one flat object)",
    )
    case.assert_nothing_changed()


def test_an_oversized_shard_json_is_refused_by_its_apparent_size(case):
    meta = case.shard / "worker-a.shard.json"
    with open(meta, "r+b") as f:
        f.truncate(1 << 30)
    refused(
        case.gather(),
        "gather",
        f"--from: {meta}: 1,073,741,824 bytes, more than the 65,536 allowed",
    )
    case.assert_nothing_changed()


def test_an_oversized_names_file_is_refused(case):
    names = case.shard / "records" / "worker-a.names.jsonl"
    with open(names, "r+b") as f:
        f.truncate(65 << 20)
    refused(
        case.gather(),
        "gather",
        f"--from {names}: 68,157,440 bytes, more than the 67,108,864 allowed",
    )
    case.assert_nothing_changed()


def test_a_size_flag_that_is_not_a_size_is_refused_on_one_line(case):
    done = case.gather("--max-bytes", "1e400")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--max-bytes" in done.stderr
    assert "expected a size such as 512MiB or 4GiB, got '1e400'" in done.stderr
    case.assert_nothing_changed()
