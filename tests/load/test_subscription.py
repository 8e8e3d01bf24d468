"""The held-session reader: frames split without decoding, pings answered, a close noticed; the
upgrade: one request, the server's proof of the key checked, a refusal's status kept."""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from surgeproof.load.subscription import (
    RECONNECT_BASE_S,
    RECONNECT_CAP_S,
    TickerSubscription,
    UpgradeRefused,
    accept_key,
    client_frame,
    reconnect_delay,
)
from surgeproof.load.users.http1 import ProtocolError


def server_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


def reader() -> TickerSubscription:
    return TickerSubscription(user=None, url="ws://127.0.0.1:1/websocket/v1")


def test_messages_are_counted_however_the_bytes_are_cut():
    stream = b"".join(server_frame(2, b"x" * n) for n in (10, 300, 70_000, 5))
    for cut in (1, 7, 4096, len(stream)):
        sub = reader()
        got = sum(sub._frames(stream[i : i + cut]) for i in range(0, len(stream), cut))
        assert got == 4, cut
        assert not sub._buf and sub._skip == 0


def test_a_fragmented_message_counts_once():
    sub = reader()
    data = server_frame(1, b"ab", fin=False) + server_frame(0, b"cd", fin=True)
    assert sub._frames(data) == 1


def test_a_ping_is_answered_with_a_masked_pong_carrying_its_payload():
    a, b = socket.socketpair()
    try:
        sub = reader()
        sub._sock = a
        assert sub._frames(server_frame(9, b"hi")) == 0
        pong = b.recv(64)
        assert pong[0] == 0x8A and pong[1] == 0x80 | 2
        mask = pong[2:6]
        assert bytes(x ^ mask[i % 4] for i, x in enumerate(pong[6:])) == b"hi"
    finally:
        a.close()
        b.close()


def test_a_close_frame_ends_the_session():
    sub = reader()
    assert sub._frames(server_frame(2, b"tick") + server_frame(8, struct.pack("!H", 1001))) == -1


def test_client_frames_are_masked_as_rfc_6455_requires():
    frame = client_frame(8, struct.pack("!H", 1000))
    assert frame[0] == 0x88 and frame[1] & 0x80 and len(frame) == 2 + 4 + 2


def test_reconnect_backoff_doubles_per_attempt_up_to_the_cap_and_never_retries_at_once():
    for attempt in range(1, 12):
        step = min(RECONNECT_CAP_S, RECONNECT_BASE_S * 2 ** (attempt - 1))
        assert reconnect_delay(attempt, 0.0) == step / 2  # the fixed half
        assert step / 2 < reconnect_delay(attempt, 0.999) < step  # the jittered half
    assert reconnect_delay(40, 0.5) <= RECONNECT_CAP_S


def test_reconnect_backoff_spreads_a_crowd_over_the_second_half_of_the_step():
    delays = sorted(reconnect_delay(3, i / 1000) for i in range(1000))
    assert delays[0] == 2.0 and delays[-1] > 3.99
    assert 2.9 < delays[500] < 3.1  # uniform over [2, 4)


# -- the upgrade handshake -------------------------------------------------------------------


class Person:
    client_id = "local-u7"


def one_answer_server(answer) -> tuple[str, list[bytes]]:
    """A loopback server that reads one request head and writes ``answer(request)``."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    seen: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            seen.append(data)
            conn.sendall(answer(data))
            conn.recv(4096)  # hold the connection until the client closes it
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"ws://127.0.0.1:{listener.getsockname()[1]}/websocket/v1", seen


def key_of(request: bytes) -> str:
    line = next(x for x in request.split(b"\r\n") if x.lower().startswith(b"sec-websocket-key:"))
    return line.split(b":", 1)[1].strip().decode()


def test_the_accept_key_is_rfc_6455s_own_example():
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_an_upgrade_sends_one_request_and_keeps_the_bytes_behind_the_101():
    def answer(request: bytes) -> bytes:
        head = (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_key(key_of(request))}\r\n\r\n"
        )
        return head.encode() + server_frame(1, b"early")

    url, seen = one_answer_server(answer)
    sub = TickerSubscription(user=Person(), url=url)
    sock, rest = sub._upgrade()
    sock.close()
    request = seen[0].decode()
    assert request.startswith("GET /websocket/v1 HTTP/1.1\r\n")
    for line in ("Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13"):
        assert f"\r\n{line}\r\n" in request
    assert "\r\nX-Client-Id: local-u7\r\n" in request
    assert rest == server_frame(1, b"early")


def test_an_upgrade_refused_says_the_status_and_a_wrong_accept_is_a_protocol_error():
    url, _ = one_answer_server(lambda r: b"HTTP/1.1 429 Too Many\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(UpgradeRefused) as refused:
        TickerSubscription(user=Person(), url=url)._upgrade()
    assert refused.value.status == 429

    wrong = "HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: c29tZXRoaW5nIGVsc2U=\r\n\r\n"
    url, _ = one_answer_server(lambda r: wrong.encode())
    with pytest.raises(ProtocolError):
        TickerSubscription(user=Person(), url=url)._upgrade()
