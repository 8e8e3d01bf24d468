"""A real master (``surgeproof run``, one local and one remote worker, the embedded exchange)
under attack on its worker channel: unauthenticated ZeroMQ peers, a peer holding the wrong
key, a real worker holding the wrong key, an impostor claiming a real worker's node id, bytes
that are no message, and a man in the middle replaying and altering a real worker's sealed
batch. Each attempt is refused with its own ``fleet_refused`` event; none of it reaches the run
directory, the analysis or the pack; nothing outside the run directory changes; and the run
ends complete from the real workers."""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
from hostile_peer import Peer, StreamTap
from load_cli import events, run_meta, start_run, surgeproof, wait_for_t0

from surgeproof.analysis import analyze_run
from surgeproof.load import fleet_auth, messages
from surgeproof.load.refusals import shown
from surgeproof.rundir.reader import read_records
from surgeproof.rundir.schema import RECORD_DTYPE
from surgeproof.secret import Secret

HOLD = """\
name: hold
description: Hold 12 users over two workers while the channel is attacked.
model: open
slos:
  - {group: "*", error_ratio: 50%}
timeline:
  - phase: hold
    duration: 14s
    users: 12
    ramp: 2s
    mix: {market_watcher: 0.5, app_user: 0.5}
"""
#: The user id of every forged record: no real worker numbers a user this high in this run.
FORGED_USER = 4_000_000_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _key_file(path: Path, key: str) -> Path:
    path.write_text(key + "\n")
    path.chmod(0o600)
    return path


def _snapshot(root: Path, skip: set[Path]) -> dict[str, tuple]:
    """Every file and folder under ``root`` but ``skip``: a file's mode, size, mtime and content
    hash; a folder's mode (a new entry in it shows up as an entry of its own)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if any(p == s or s in p.parents for s in skip):
            continue
        st = p.lstat()
        if p.is_dir() and not p.is_symlink():
            out[p.relative_to(root).as_posix()] = (st.st_mode,)
            continue
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
        out[p.relative_to(root).as_posix()] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return out


def _forged_records(n: int) -> bytes:
    rec = np.zeros(n, dtype=RECORD_DTYPE)
    now = time.time_ns()
    rec["intended_ns"] = now
    rec["sent_ns"] = now + 1_000
    rec["end_ns"] = now + 2_000_000
    rec["status"] = 200
    rec["user"] = FORGED_USER
    rec["flags"] = 2  # order submissions: the records a compensation claim would rest on
    return rec.tobytes()


def _forged_batch(source: str) -> dict:
    return {
        "source": source,
        "raw": _forged_records(50),
        "names": [[0, "POST /v1/orders", "orders"]],
        "sample": None,
    }


def _wrong_key_handshake(peer: Peer, wrong: Secret) -> fleet_auth.Channel:
    """A peer that ignores the master's proof and answers with its own key: its channel."""
    nonce_w, hello = fleet_auth.hello()
    peer.send(messages.HELLO, hello)
    got = dict(peer.receive(10, until=messages.CHALLENGE))
    challenge = got[messages.CHALLENGE]
    nonce_m = challenge["nonce"]
    t = fleet_auth.transcript(peer.identity, nonce_w, nonce_m)
    peer.send(
        messages.PROOF, {"v": 1, "nonce": nonce_m, "proof": fleet_auth.worker_proof(wrong, t)}
    )
    key = fleet_auth.session_key(wrong, peer.identity, nonce_w, nonce_m)
    return fleet_auth.Channel(
        key, sends=fleet_auth.WORKER_TO_MASTER, receives=fleet_auth.MASTER_TO_WORKER
    )


def _refusals(run_dir: Path) -> dict[tuple, dict]:
    """``fleet_refused`` events summed per (peer, reason, message, claimed source)."""
    out: dict[tuple, dict] = {}
    for e in events(run_dir):
        if e["type"] == "fleet_refused":
            key = (e["peer"], e["reason"], e["message"], e["claimed_source"])
            out.setdefault(key, {**e, "count": 0})["count"] += e["count"]
    return out


@pytest.mark.slow
def test_a_master_under_attack_takes_nothing_unauthenticated_and_still_completes(tmp_path):
    key = "0123456789abcdef" * 4
    key_file = _key_file(tmp_path / "fleet.key", key)
    wrong_file = _key_file(tmp_path / "wrong.key", "f" * 64)
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    (sentinel / "keep.txt").write_text("must not change\n")
    scenario = tmp_path / "hold.yaml"
    scenario.write_text(HOLD)
    reports = tmp_path / "reports"
    reports.mkdir()
    run_dir = reports / "fa"
    pack = tmp_path / "packs" / "fa.evidence.tar.gz"
    before = _snapshot(tmp_path, {run_dir, pack.parent})

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "SURGEPROOF_FLEET_KEY"}
    proc = start_run(
        str(scenario), "--workers", "1", "--expect-workers", "1", "--master-port", str(port),
        "--fleet-key-file", str(key_file), "--record-shards", "master",
        "--reports-dir", str(reports), "--run-id", "fa", "--timeout", "2", env=env,
    )  # fmt: skip
    # The remote worker reaches the master through a tap that will replay and alter its batch.
    tap = StreamTap(port, messages.BATCH, capture_after=3)
    worker_cmd = [sys.executable, "-m", "surgeproof.cli", "worker", "--master", "127.0.0.1"]
    remote = subprocess.Popen(
        [*worker_cmd, "--master-port", str(tap.port), "--fleet-key-file", str(key_file)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    peers: list[Peer] = []
    wrong_worker = None
    try:
        wait_for_t0(run_dir, 2)
        joined = [e for e in events(run_dir) if e["type"] == "worker_joined"]
        assert len(joined) == 2
        real = {e["source"]: e["node"] for e in joined}
        # The local worker (the tap carries the other one): its source and node id are
        # what the forgers and the impostor aim at.
        a_source, a_node = next((s, n) for s, n in real.items() if n != tap.node_id)

        # A real worker holding another key: it refuses the master, the master records it.
        wrong_worker = subprocess.Popen(
            [*worker_cmd, "--master-port", str(port), "--fleet-key-file", str(wrong_file)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip

        def peer(identity: str) -> Peer:
            p = Peer(port, identity)
            peers.append(p)
            return p

        # Unauthenticated: announce itself to Locust, then forge batches into `local`.
        forger = peer("forger-local")
        forger.send("client_ready", "2.47.0")
        forger.send(messages.BATCH, _forged_batch("local"))
        # ...into a real worker's source,
        peer("forger-worker").send(messages.BATCH, _forged_batch(a_source))
        # ...out of the run directory, relative and absolute, and as a gathered shard.
        rel, absolute = "../../../sentinel/evil", str(sentinel / "abs-evil")
        for identity, target in (("forger-rel", rel), ("forger-abs", absolute)):
            p = peer(identity)
            p.send(messages.BATCH, _forged_batch(target))
            p.send(messages.READY, {"source": target, "shard": {"shared": False}})
            p.send(
                messages.SHARD,
                {"source": target, "part": "records", "offset": 0, "data": _forged_records(5)},
            )
        # A peer holding the wrong key: its proof fails, so its sealed batch has no session.
        wrongly = peer("wrong-key")
        channel = _wrong_key_handshake(wrongly, Secret("e" * 64))
        wrongly.send(messages.BATCH, channel.seal(messages.BATCH, {**_forged_batch(a_source)}))
        # An impostor: its own connection, a real worker's node id in the message.
        impostor = peer("impostor")
        impostor.send(messages.BATCH, _forged_batch(a_source), node_id=a_node)
        impostor.send("quit", None, node_id=a_node)
        # The real worker's very node id as its connection (ZeroMQ turns a second connection
        # with an identity in use away: nothing of it may arrive, or be taken if it did).
        twin = peer(a_node)
        twin.send(messages.BATCH, {"s": 10**9, "b": b"x", "m": b"\0" * 32})
        # Bytes that are no Locust message at all.
        peer("garbage").send_raw(b"\xc1\xff not msgpack")
        forger.receive(3)
        assert tap.injected.wait(20), "the tap saw no sealed batch to replay"
        out, err = proc.communicate(timeout=120)
        remote_out = remote.communicate(timeout=30)[0]
        wrong_out, wrong_err = wrong_worker.communicate(timeout=30)
        forger.receive(1)
    finally:
        for p in peers:
            p.close()
        tap.close()
        for p in (proc, remote, wrong_worker):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait(timeout=10)

    # The run ended complete from the real workers, neither of them lost.
    assert proc.returncode == 0, err[-3000:]
    meta = run_meta(run_dir)
    assert meta["status"] == "complete" and meta["workers"]["lost"] == []
    assert sorted(meta["workers"]["seen"]) == sorted(real)
    assert not [e for e in events(run_dir) if e["type"] == "worker_lost"]

    # Each attempt has its own refusal: who, what, which source it claimed, why.
    refused = _refusals(run_dir)
    expected = {
        ("forger-local", "unauthenticated", messages.BATCH, "local"),
        ("forger-local", "late", "client_ready", None),  # never counted as a worker
        ("forger-worker", "unauthenticated", messages.BATCH, a_source),
        ("forger-rel", "unauthenticated", messages.BATCH, rel),
        ("forger-rel", "unauthenticated", messages.READY, rel),
        ("forger-rel", "unauthenticated", messages.SHARD, rel),
        ("forger-abs", "unauthenticated", messages.BATCH, shown(absolute)),
        ("wrong-key", "bad_proof", messages.PROOF, None),
        ("wrong-key", "unauthenticated", messages.BATCH, None),
        ("impostor", "node_mismatch", messages.BATCH, a_source),
        ("impostor", "node_mismatch", "quit", None),
        ("garbage", "malformed", None, None),
    }
    assert expected <= set(refused), sorted(set(expected) - set(refused))
    assert refused[("impostor", "node_mismatch", "quit", None)]["why"].endswith(
        f"(claims node {a_node!r})"
    )
    # The man in the middle: the replayed batch and the altered one, both on the real
    # worker's own connection and session.
    remote_source = next(s for s, n in real.items() if n == tap.node_id)
    assert (tap.node_id, "replay", messages.BATCH, remote_source) in refused
    assert (tap.node_id, "bad_mac", messages.BATCH, remote_source) in refused
    # The worker holding another key refused the master (exit 2, one line); the master says so.
    assert wrong_worker.returncode == 2, wrong_err
    [line] = wrong_err.strip().splitlines()
    assert "did not prove the fleet key" in line and "nothing was taken from it" in line
    assert any(k[1] == "declined" and k[2] == messages.DECLINE for k in refused)
    # The twin never got in: ZeroMQ turns away a second connection with an identity in use.
    assert not [k for k in refused if k[0] == a_node]

    # The unauthenticated peer that said client_ready was given no users.
    assert "spawn" not in [t for t, _ in forger.received]
    t0 = meta["t0_ns"]
    per_second: dict[int, dict[str, int]] = {}
    for line_ in (run_dir / "timeline.jsonl").read_text().splitlines():
        sample = json.loads(line_)
        second = round((sample["t_ns"] - t0) / 1e9)
        per_second.setdefault(second, {})[sample["source"]] = sample["active_users"]
    held = [sum(v.values()) for t, v in per_second.items() if 5 <= t <= 12 and len(v) == 2]
    assert held and set(held) == {12}  # every offered user ran on the real workers

    # Nothing forged reached the run directory or the analysis; nothing was lost either.
    rs = read_records(run_dir)
    assert not rs.damage
    assert set(rs.per_source) == set(real)
    assert not (run_dir / "records" / "local.bin").exists()
    assert sorted(p.name for p in (run_dir / "records").iterdir()) == sorted(
        f"{s}{suffix}" for s in real for suffix in (".bin", ".names.jsonl")
    )
    for source, node in meta["workers"]["nodes"].items():
        assert node["shipped"] == node["received"] == rs.per_source[source] > 0
    m = re.search(r"surgeproof worker (worker-[0-9a-f]+): shipped (\d+) records", remote_out)
    assert m and rs.per_source[m.group(1)] == int(m.group(2))
    for source in real:
        recs = np.fromfile(run_dir / "records" / f"{source}.bin", dtype=RECORD_DTYPE)
        assert not (recs["user"] == FORGED_USER).any()
    analysis = analyze_run(run_dir)
    assert analysis["input"]["records"]["per_source"] == rs.per_source
    summary = analysis["data_quality"]["refused_messages"]
    assert summary["messages"] == sum(e["count"] for e in refused.values())
    assert any("worker-channel message(s)" in c for c in analysis["data_quality"]["caveats"])
    assert meta["workers"]["refused"]["messages"] == summary["messages"]
    assert meta["workers"]["auth"]["fleet_key"] == "--fleet-key-file"

    # The report and the evidence pack show the refusals.
    done = surgeproof("evidence", str(run_dir), "--out", str(pack))
    assert done.returncode == 0, done.stderr
    md = (run_dir / "report.md").read_text()
    assert "Refused worker-channel messages" in md and "forger-local" in md
    with tarfile.open(pack) as tar:
        names = tar.getnames()
        packed_md = tar.extractfile(next(n for n in names if n.endswith("run/report.md")))
        assert b"forger-local" in packed_md.read()
        assert any(n.endswith("run/events.jsonl") for n in names)

    # The fleet key is in no output and no file.
    for text in (out, err, remote_out, wrong_out, wrong_err):
        assert key not in text
    for p in [*run_dir.rglob("*"), pack]:
        if p.is_file():
            assert key.encode() not in p.read_bytes(), p
    # And nothing outside the run directory changed (the sentinel folder included).
    assert _snapshot(tmp_path, {run_dir, pack.parent}) == before
