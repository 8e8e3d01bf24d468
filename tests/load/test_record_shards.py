"""Workers that keep their own record shards (``--record-shards local``): the master gets counts,
the run directory still gets every record — written in place by the workers that can reach it,
gathered over the worker channel from those that cannot, and a dead worker's shard is named in
run.json with its count and brought in later by ``surgeproof gather``."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from load_cli import fleet_env, run_meta, start_run, surgeproof, wait_for_t0

from surgeproof.analysis import analyze_run
from surgeproof.load.record_shard import PROBE_FILE, ShardPlace, choose_place, probe_setup
from surgeproof.rundir.reader import read_records
from surgeproof.rundir.schema import RECORD_DTYPE

HOLD = """\
name: hold
description: Hold 12 users over three workers.
model: open
slos:
  - {group: "*", error_ratio: 50%}
timeline:
  - phase: hold
    duration: 10s
    users: 12
    ramp: 2s
    mix: {market_watcher: 0.5, app_user: 0.5}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _remote_worker(port: int, shard_dir: Path) -> subprocess.Popen:
    """A worker the master did not start, keeping its shard on "its own host" (``shard_dir``)."""
    cmd = [sys.executable, "-m", "surgeproof.cli", "worker", "--master", "127.0.0.1"]
    return subprocess.Popen(
        [*cmd, "--master-port", str(port), "--shard-dir", str(shard_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env=fleet_env(),
    )


@pytest.mark.slow
def test_shards_in_place_gathered_and_recovered_make_one_analysable_run(tmp_path):
    scenario = tmp_path / "hold.yaml"
    scenario.write_text(HOLD)
    port = _free_port()
    proc = start_run(
        str(scenario),
        "--workers", "1", "--expect-workers", "2", "--master-port", str(port),
        "--record-shards", "local", "--reports-dir", str(tmp_path), "--run-id", "sh",
        "--timeout", "2", env=fleet_env(),
    )  # fmt: skip
    kept, killed_dir = tmp_path / "host-a", tmp_path / "host-b"
    survivor, victim = _remote_worker(port, kept), _remote_worker(port, killed_dir)
    run_dir = tmp_path / "sh"
    try:
        wait_for_t0(run_dir, 4)
        victim.send_signal(signal.SIGKILL)
        _, stderr = proc.communicate(timeout=90)
        out = survivor.communicate(timeout=30)[0]
    finally:
        for p in (proc, survivor, victim):
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
    assert proc.returncode == 0, stderr[-2000:]
    meta = run_meta(run_dir)
    nodes = meta["workers"]["nodes"]
    [lost] = meta["workers"]["lost"]
    assert meta["workers"]["record_shards"] == "local"
    m = re.search(r"surgeproof worker (worker-[0-9a-f]+): shipped (\d+) records", out)
    assert m, out[-1000:]
    gathered_source, gathered_n = m.group(1), int(m.group(2))
    [in_place] = [s for s in nodes if s not in (gathered_source, lost["source"])]

    # The local worker wrote in place; the surviving remote one was gathered at the end.
    assert nodes[in_place]["shard"]["shared"] is True
    assert nodes[gathered_source]["shard"] == {
        **nodes[gathered_source]["shard"],
        "shared": False,
        "gathered": True,
    }
    rs = read_records(run_dir)
    assert not rs.damage
    for source in (in_place, gathered_source):
        assert nodes[source]["shipped"] == nodes[source]["received"] == rs.per_source[source] > 0
    assert rs.per_source[gathered_source] == gathered_n
    assert not (run_dir / "records" / PROBE_FILE).exists()

    # The dead worker's shard is on its host: named with its count and how to bring it in.
    [missing] = meta["workers"]["missing_shards"]
    assert missing["source"] == lost["source"] and missing["records"] > 0
    assert missing["path"] == str(killed_dir / "sh")
    assert lost["source"] not in rs.per_source
    gathered = surgeproof("gather", str(run_dir), "--from", str(killed_dir))
    assert gathered.returncode == 0, gathered.stderr
    assert f"{lost['source']}: copied" in gathered.stdout
    after = read_records(run_dir)
    shard_file = killed_dir / "sh" / "records" / f"{lost['source']}.bin"
    on_host = shard_file.stat().st_size // RECORD_DTYPE.itemsize
    # Every record the worker said it wrote (its batches' counts) came in, torn tail or not.
    assert after.per_source[lost["source"]] == on_host >= missing["records"]
    meta = run_meta(run_dir)
    assert meta["workers"]["missing_shards"] == []
    assert meta["counts"]["records"] == after.per_source
    analysis = analyze_run(run_dir)
    assert analysis["input"]["records"]["per_source"] == after.per_source
    assert {"login", "quotation"} <= set(after.groups)


def test_a_worker_writes_in_place_only_where_it_reads_the_masters_token(tmp_path):
    run_dir = tmp_path / "run"
    setup = {"record_shards": "local", "run_id": "run", **probe_setup(run_dir)}
    assert choose_place(setup, None) == ShardPlace(run_dir.resolve(), True)
    # Its own --shard-dir wins; the master's mode "master" means no shard at all.
    assert choose_place(setup, str(tmp_path / "own")) == ShardPlace(tmp_path / "own", False, "run")
    assert choose_place({**setup, "record_shards": "master"}, None) is None
    # Another host: the same path holds no (or another) token.
    elsewhere = {**setup, "probe": "0" * 32}
    assert choose_place(elsewhere, None) == ShardPlace(Path("surgeproof-shards"), False, "run")
    # auto ships records when the run directory is out of reach, and so does a step search.
    assert choose_place({**elsewhere, "record_shards": "auto"}, None) is None
    assert choose_place({**elsewhere, "records_while_running": True}, None) is None
