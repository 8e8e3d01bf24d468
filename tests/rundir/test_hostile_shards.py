"""The writers a worker's or a master's bytes reach — ``rundir/writer.py`` (record files, the
shard inbox, run.json, sealing) and ``load/record_shard.py`` (a worker's own shard, the master's
token) — refuse every name that is not a plain one and every link on the way, never overwrite a
file that is already there, and bound what a shard may hold: each refusal is the exception's
message, and a sentinel folder outside the run directory is untouched."""

from __future__ import annotations

import numpy as np
import pytest

from sentinel import SECRET, snapshot
from surgeproof.confine import TooLarge, UnsafePath
from surgeproof.load.record_shard import (
    PROBE_FILE,
    RecordShard,
    ShardPlace,
    choose_place,
    probe_setup,
    reachable_run_dir,
    remove_probe,
)
from surgeproof.rundir.schema import RECORD_DTYPE
from surgeproof.rundir.writer import (
    JsonlLog,
    RecordFile,
    ShardInbox,
    seal_records,
    shard_records,
    shard_sent,
    write_meta,
)

PLAIN = (
    "is not a plain name (letters, digits, '.', '_', '-'; not starting with '.'; at most 128 "
    "characters)"
)
HOSTILE_NAMES = ["../x", "/etc/passwd", "a/b", "", ".hidden", "x" * 129, "a\x00b", "..", None, 7]


def _shown(name) -> str:
    return repr(name)[:60] if isinstance(name, str) else type(name).__name__


@pytest.fixture
def run_dir(tmp_path):
    run = tmp_path / "run"
    (run / "records").mkdir(parents=True)
    (run / "records" / "local.bin").write_bytes(bytes(80))
    write_meta(run, {"run_id": "run", "status": "running"})
    return run


# -- the shard inbox (chunks from the worker channel) ----------------------------------------


@pytest.mark.parametrize("source", HOSTILE_NAMES)
def test_the_inbox_refuses_a_source_that_is_not_a_plain_name(run_dir, sentinel, source):
    before = snapshot(run_dir)
    with pytest.raises(UnsafePath) as refused:
        ShardInbox(run_dir, source)
    assert str(refused.value) == f"worker shard source: {_shown(source)} {PLAIN}"
    assert snapshot(run_dir) == before


def test_the_inbox_never_writes_the_conductors_own_records(run_dir, sentinel):
    with pytest.raises(UnsafePath) as refused:
        ShardInbox(run_dir, "local")
    assert str(refused.value) == (
        "worker shard source: 'local' is the conductor's own record source; a worker's shard "
        "cannot write it"
    )
    assert (run_dir / "records" / "local.bin").read_bytes() == bytes(80)


def test_the_inbox_never_overwrites_a_file_already_there(run_dir, sentinel):
    (run_dir / "records" / "worker-a.bin").write_bytes(b"earlier")
    inbox = ShardInbox(run_dir, "worker-a")
    with pytest.raises(UnsafePath) as refused:
        inbox.write("records", 0, bytes(40))
    path = run_dir / "records" / "worker-a.bin"
    assert str(refused.value) == f"worker shard: {path} already exists; it is not overwritten"
    assert path.read_bytes() == b"earlier"


@pytest.mark.parametrize("part", ["records", "names"])
def test_the_inbox_never_writes_through_a_planted_link(run_dir, sentinel, part):
    name = "worker-a.bin" if part == "records" else "worker-a.names.jsonl"
    (run_dir / "records" / name).symlink_to(sentinel.absent)
    inbox = ShardInbox(run_dir, "worker-a")
    with pytest.raises(UnsafePath, match="already exists; it is not overwritten"):
        inbox.write(part, 0, b"forged")
    assert not sentinel.absent.exists()


def test_the_inbox_does_not_follow_a_records_folder_that_is_a_link(tmp_path, sentinel):
    run = tmp_path / "run"
    run.mkdir()
    (run / "records").symlink_to(sentinel.path / "folder")
    inbox = ShardInbox(run, "worker-a")
    with pytest.raises(UnsafePath) as refused:
        inbox.write("records", 0, bytes(40))
    assert str(refused.value) == (
        f"worker shard: {run / 'records'} is a symbolic link; links are not followed"
    )


def test_the_inbox_refuses_an_unknown_part(run_dir, sentinel):
    inbox = ShardInbox(run_dir, "worker-a")
    with pytest.raises(UnsafePath) as refused:
        inbox.write("../../x", 0, b"x")
    assert str(refused.value) == "worker shard worker-a: unknown part '../../x'"


def test_a_shard_past_its_bound_is_refused_chunk_first(run_dir, sentinel):
    inbox = ShardInbox(run_dir, "worker-a", limits={"records": 100})
    assert inbox.write("records", 0, bytes(80)) == 80
    with pytest.raises(TooLarge) as refused:
        inbox.write("records", 80, bytes(40))
    path = run_dir / "records" / "worker-a.bin"
    assert str(refused.value) == (
        f"worker shard worker-a: {path}: 120 bytes, more than the 100 allowed"
    )
    inbox.close()
    assert path.stat().st_size == 80  # nothing of the refused chunk


def test_the_default_bounds_are_stated(run_dir):
    """64 GiB of records (FORMAT.md says so) and what every reader reads of a names file."""
    assert ShardInbox(run_dir, "worker-a").limits == {"records": 64 << 30, "names": 64 << 20}


# -- record files, run.json, sealing ---------------------------------------------------------


@pytest.mark.parametrize("source", ["../x", "/etc/passwd", "a/b"])
def test_a_record_file_of_a_source_that_is_not_a_plain_name_is_refused(run_dir, sentinel, source):
    with pytest.raises(UnsafePath) as refused:
        RecordFile(run_dir, source)
    assert str(refused.value) == f"record source: {_shown(source)} {PLAIN}"
    for fn in (seal_records, shard_records, shard_sent):
        with pytest.raises(UnsafePath, match="is not a plain name"):
            fn(run_dir, source)


def test_a_record_file_that_is_a_link_is_not_appended_through(run_dir, sentinel):
    link = run_dir / "records" / "worker-a.bin"
    link.symlink_to(sentinel.passwd)
    with pytest.raises(UnsafePath) as refused:
        RecordFile(run_dir, "worker-a")
    assert str(refused.value) == f"record source: {link} is a symbolic link; links are not followed"
    with pytest.raises(UnsafePath, match="is a symbolic link"):
        seal_records(run_dir, "worker-a")  # would cut the password file to whole "records"
    assert shard_records(run_dir, "worker-a") == 0  # a link is no shard, and is not followed
    with pytest.raises(UnsafePath, match="is a symbolic link"):
        shard_sent(run_dir, "worker-a")  # would read the password file as records


def test_run_json_that_is_a_link_is_not_replaced(tmp_path, sentinel):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").symlink_to(sentinel.passwd)
    with pytest.raises(UnsafePath) as refused:
        write_meta(run, {"run_id": "run"})
    assert str(refused.value) == (
        f"run directory: {run / 'run.json'} is a symbolic link; it is not replaced"
    )
    assert sentinel.passwd.read_bytes() == SECRET


def test_a_log_that_is_a_link_is_not_appended_through(tmp_path, sentinel):
    run = tmp_path / "run"
    run.mkdir()
    (run / "events.jsonl").symlink_to(sentinel.absent)
    with pytest.raises(UnsafePath, match=r"events\.jsonl is a symbolic link"):
        JsonlLog(run / "events.jsonl")


def test_sealing_cuts_only_a_real_shard_to_whole_records(run_dir):
    path = run_dir / "records" / "worker-a.bin"
    path.write_bytes(bytes(RECORD_DTYPE.itemsize * 2 + 7))
    assert seal_records(run_dir, "worker-a") == 7
    assert path.stat().st_size == 80 and shard_records(run_dir, "worker-a") == 2


def test_a_shard_counts_the_calls_that_were_sent_across_its_chunks(run_dir):
    records = np.zeros(5, RECORD_DTYPE)
    records["sent_ns"] = [1, 0, 3, 0, 5]  # two never went: missed, or not buildable
    path = run_dir / "records" / "worker-a.bin"
    path.write_bytes(records.tobytes() + b"\1" * 7)  # a torn last record is not one
    assert shard_sent(run_dir, "worker-a", chunk_records=2) == 3
    assert shard_sent(run_dir, "worker-b") == 0


# -- a worker's own shard and the master's token -------------------------------------------------


@pytest.mark.parametrize("run_id", ["../x", "/etc", "a/b", ".hidden", 7])
def test_the_masters_run_id_never_becomes_a_path(tmp_path, sentinel, run_id):
    setup = {"record_shards": "local", "run_id": run_id}
    for shard_dir in (str(tmp_path / "shards"), None):
        with pytest.raises(UnsafePath) as refused:
            choose_place(setup, shard_dir)
        assert str(refused.value) == f"the master's run_id: {_shown(run_id)} {PLAIN}"
    with pytest.raises(UnsafePath):
        ShardPlace(tmp_path / "shards", False, "../x")
    assert not (tmp_path / "shards").exists()


def test_a_shard_folder_that_is_a_link_is_not_followed(tmp_path, sentinel):
    shards = tmp_path / "shards"
    shards.mkdir()
    (shards / "r1").symlink_to(sentinel.path / "folder")
    place = choose_place({"record_shards": "local", "run_id": "r1"}, str(shards))
    with pytest.raises(UnsafePath) as refused:
        RecordShard(place, "worker-a", "r1", None)
    assert str(refused.value) == (
        f"--shard-dir: {shards / 'r1'} is a symbolic link; links are not followed"
    )


def test_a_worker_source_that_is_not_a_plain_name_is_refused(tmp_path, sentinel):
    place = ShardPlace(tmp_path / "shards", False, "r1")
    with pytest.raises(UnsafePath) as refused:
        RecordShard(place, "../../x", "r1", None)
    assert str(refused.value) == f"worker source: '../../x' {PLAIN}"


def test_a_shard_swapped_for_a_link_is_not_shipped(tmp_path, sentinel):
    shard = RecordShard(ShardPlace(tmp_path / "shards", False, "r1"), "worker-a", "r1", None)
    rec = np.zeros(2, RECORD_DTYPE)
    shard.write(rec.tobytes(), {0: ("GET /v1/ticker", "quotation")})
    shard.close()
    assert [part for part, _, _ in shard.chunks()] == ["names", "records"]
    shard.records_path.unlink()
    shard.records_path.symlink_to(sentinel.passwd)
    with pytest.raises(UnsafePath, match=r"worker-a\.bin is a symbolic link"):
        list(shard.chunks())
    assert shard.summary()["bytes"]["records"] == 0  # a link's size is not the shard's


def test_the_masters_token_is_never_written_or_read_through_a_link(tmp_path, sentinel):
    run = tmp_path / "run"
    (run / "records").mkdir(parents=True)
    probe = run / "records" / PROBE_FILE
    probe.symlink_to(sentinel.absent)
    with pytest.raises(UnsafePath) as refused:
        probe_setup(run)
    assert str(refused.value) == f"run directory: {probe} is a symbolic link; it is not replaced"
    remove_probe(run)  # the link goes, what it points to stays
    assert not probe.is_symlink() and not sentinel.absent.exists()
    setup = {"record_shards": "local", "run_id": "run", **probe_setup(run)}
    assert reachable_run_dir(setup) == run.resolve()
    # A token that is a link (here to a file holding the same token) is not read through.
    token = sentinel.path / "folder" / "kept.txt"
    probe.unlink()
    probe.symlink_to(token)
    assert reachable_run_dir({**setup, "probe": "kept\n"}) is None
    # Nor is a records folder given as a relative path, or not called records.
    assert reachable_run_dir({**setup, "records_dir": "records"}) is None
    assert reachable_run_dir({**setup, "records_dir": str(sentinel.path / "folder")}) is None
