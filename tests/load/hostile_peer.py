"""Hostile peers on a master's worker channel, for the tests: a raw ZeroMQ DEALER speaking
Locust's msgpack framing (what a 40-line fake worker is), and a man in the middle that taps a
real worker's TCP stream to the master and injects frames into it (replayed or altered)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

import msgpack
import zmq

GREETING = 64  # ZMTP 3 greeting: signature, version, mechanism, as-server, filler
COMMAND, LONG = 0x04, 0x02


class Peer:
    """A ZeroMQ DEALER with an identity of its choosing, on the master's port."""

    def __init__(self, port: int, identity: str) -> None:
        self.identity = identity
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.IDENTITY, identity.encode())
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(f"tcp://127.0.0.1:{port}")
        self.received: list[tuple[str, Any]] = []

    def send(self, msg_type: str, data: Any, node_id: str | None = None) -> None:
        """A Locust message (``(type, data, node_id)`` in msgpack), node id as claimed."""
        self.sock.send(msgpack.packb([msg_type, data, node_id or self.identity]))

    def send_raw(self, payload: bytes) -> None:
        self.sock.send(payload)

    def receive(self, within_s: float, until: str | None = None) -> list[tuple[str, Any]]:
        """What the master sent this peer within ``within_s`` (or until a ``until`` message)."""
        deadline = time.monotonic() + within_s
        while (left := deadline - time.monotonic()) > 0:
            if not self.sock.poll(int(left * 1000) + 1):
                break
            t, data, _node = msgpack.unpackb(self.sock.recv(), raw=False)
            self.received.append((t, data))
            if t == until:
                break
        return self.received

    def close(self) -> None:
        self.sock.close(0)


class StreamTap:
    """A TCP relay between one worker and the master that parses the worker's ZMTP frames and,
    after the worker's ``capture_after``-th message of ``msg_type``, injects into the stream a
    verbatim copy of it (a replay) and a copy with one byte of its sealed body flipped."""

    def __init__(self, master_port: int, msg_type: str, capture_after: int = 2) -> None:
        self.master_port = master_port
        self.msg_type = msg_type
        self.capture_after = capture_after
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.seen = 0
        self.captured: bytes | None = None
        self.node_id: str | None = None
        self.injected = threading.Event()
        self._threads: list[threading.Thread] = []
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)

    def _accept(self) -> None:
        """Relay the worker's connection once the master listens (ZeroMQ reconnects by
        itself when a connection is closed before that)."""
        self.listener.settimeout(120)
        while True:
            try:
                worker, _ = self.listener.accept()
            except OSError:
                return
            try:
                master = socket.create_connection(("127.0.0.1", self.master_port))
            except OSError:
                worker.close()
                continue
            for src, dst, parse in ((worker, master, True), (master, worker, False)):
                t = threading.Thread(target=self._pump, args=(src, dst, parse), daemon=True)
                t.start()
                self._threads.append(t)
            return

    def _pump(self, src: socket.socket, dst: socket.socket, parse: bool) -> None:
        buf = b""
        greeting_left = GREETING
        try:
            while data := src.recv(65536):
                if not parse:
                    dst.sendall(data)
                    continue
                buf += data
                if greeting_left:
                    n = min(greeting_left, len(buf))
                    dst.sendall(buf[:n])
                    buf, greeting_left = buf[n:], greeting_left - n
                buf = self._frames(buf, dst)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def _frames(self, buf: bytes, dst: socket.socket) -> bytes:
        """Forward every whole frame in ``buf``; the rest waits for more bytes."""
        while buf:
            flags = buf[0]
            head = 9 if flags & LONG else 2
            if len(buf) < head:
                return buf
            size = int.from_bytes(buf[1:9], "big") if flags & LONG else buf[1]
            if len(buf) < head + size:
                return buf
            frame, buf = buf[: head + size], buf[head + size :]
            dst.sendall(frame)
            if flags & COMMAND:
                continue
            self._look(frame[head:], dst)
        return buf

    def _look(self, body: bytes, dst: socket.socket) -> None:
        try:
            msg_type, data, node_id = msgpack.unpackb(body, raw=False)
        except Exception:
            return
        self.node_id = self.node_id or node_id
        if self.captured is not None and not self.injected.is_set():
            # A later message went first: the master has accepted a higher sequence number.
            dst.sendall(_frame(self.captured))
            dst.sendall(_frame(_flip_sealed_byte(self.captured)))
            self.injected.set()
            return
        if msg_type == self.msg_type:
            self.seen += 1
            if self.seen == self.capture_after and isinstance(data, dict) and "b" in data:
                self.captured = body

    def close(self) -> None:
        self.listener.close()


def _frame(body: bytes) -> bytes:
    if len(body) <= 255:
        return bytes([0, len(body)]) + body
    return bytes([LONG]) + len(body).to_bytes(8, "big") + body


def _flip_sealed_byte(body: bytes) -> bytes:
    """The same Locust message with the last byte of its sealed body changed."""
    msg_type, data, node_id = msgpack.unpackb(body, raw=False)
    b = bytearray(data["b"])
    b[-1] ^= 0x01
    data["b"] = bytes(b)
    return msgpack.packb([msg_type, data, node_id])
