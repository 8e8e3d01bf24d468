"""A real ``surgeproof worker`` facing a fake master: it takes nothing — no SETUP (target URL,
run id, source name), no Locust ``spawn`` (a host to load) — from a master that has not proved
the fleet key, refuses the master's wrong proof, says so in one line and exits 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import msgpack
import zmq

from surgeproof.load import fleet_auth, messages
from surgeproof.secret import Secret

KEY = "c0ffee" * 11


def _trap() -> tuple[str, list[int]]:
    """A loopback listener that counts the connections made to it (nobody should come)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    hits: list[int] = []

    def serve() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            hits.append(1)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{server.getsockname()[1]}", hits


def _recv(
    sock: zmq.Socket, want: str | None, seen: dict[str, object], within_s: float = 30
) -> object:
    """The worker's ``want`` message, now or already received (every message it sent is kept
    in ``seen`` by type, its connection's identity under "_ident"); ``want`` None: whatever
    comes within ``within_s``."""
    deadline = time.monotonic() + within_s
    while want not in seen and (left := deadline - time.monotonic()) > 0:
        if sock.poll(int(left * 1000) + 1):
            ident, payload = sock.recv_multipart()
            msg_type, data, _node = msgpack.unpackb(payload, raw=False)
            seen.setdefault(msg_type, data)
            seen["_ident"] = ident
    if want is not None and want not in seen:
        raise AssertionError(f"the worker sent no {want}")
    return seen.get(want) if want is not None else None


def _send(sock: zmq.Socket, ident: bytes, msg_type: str, data: object) -> None:
    sock.send_multipart([ident, msgpack.packb([msg_type, data, ident.decode()])])


def test_a_worker_takes_nothing_from_a_master_that_cannot_prove_the_key(tmp_path):
    url, hits = _trap()
    ctx = zmq.Context.instance()
    master = ctx.socket(zmq.ROUTER)
    master.setsockopt(zmq.LINGER, 0)
    port = master.bind_to_random_port("tcp://127.0.0.1")
    env = {**os.environ, "SURGEPROOF_FLEET_KEY": KEY}
    worker = subprocess.Popen(
        [sys.executable, "-m", "surgeproof.cli", "worker", "--master", "127.0.0.1",
         "--master-port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen: dict[str, object] = {}
    try:
        _recv(master, "client_ready", seen)
        ident = seen["_ident"]
        assert isinstance(ident, bytes)
        _send(master, ident, "ack", {"index": 0})
        # Orders before any proof: a setup naming a target and paths, and Locust's spawn.
        _send(
            master,
            ident,
            messages.SETUP,
            {"url": url, "source": "local", "run_id": "../../evil", "timeout_s": 1},
        )
        _send(
            master,
            ident,
            "spawn",
            {
                "host": url,
                "user_classes_count": {"SurgeUser": 3},
                "timestamp": time.time(),
                "parsed_options": {},
                "stop_timeout": None,
            },
        )
        _recv(master, None, seen, within_s=2)  # what the worker makes of those orders
        hello = _recv(master, messages.HELLO, seen)
        assert isinstance(hello, dict)
        # A challenge whose proof is made with another key.
        nonce_m = fleet_auth.new_nonce()
        t = fleet_auth.transcript(ident.decode(), hello["nonce"], nonce_m)
        proof = fleet_auth.master_proof(Secret("b" * 64), t)
        _send(master, ident, messages.CHALLENGE, {"v": 1, "nonce": nonce_m, "proof": proof})
        declined = _recv(master, messages.DECLINE, seen)
        out, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
        master.close(0)
    assert declined == {"why": "bad_proof"}
    # Locust answers a spawn it obeys with "spawning": the worker never did.
    assert not {"spawning", "spawning_complete"} & set(seen), seen
    assert worker.returncode == 2
    lines = [ln for ln in err.splitlines() if ln.startswith("surgeproof worker: the master")]
    assert len(lines) == 1 and "did not prove the fleet key" in lines[0]
    assert "nothing was taken from it" in lines[0]
    time.sleep(0.5)
    assert hits == []  # no request, no websocket, not even a connection to the named target
    assert list(tmp_path.iterdir()) == []  # no shard folder, nothing under any run id
    assert KEY not in out + err
