"""The generator's HTTP/1.1 client frames every answer an exchange may send, and reuses its
connections only when that is safe.

A scripted server on an ephemeral loopback port answers with exact bytes (chunked, to the
close, interim 100, closing idle connections); the embedded exchange answers for real.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import pytest

from surgeproof.exchange import build_config, exchange_in_thread
from surgeproof.load.outcome import outcome_of_error
from surgeproof.load.users.connections import TargetHttp
from surgeproof.load.users.http1 import Http1Pool, ProtocolError
from surgeproof.rundir.schema import Outcome

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Seen: 1\r\n\r\nok"


class Scripted:
    """A loopback server: for each request, ``answer(n, request)`` gives the bytes to send, None
    (close without an answer) or ``(bytes, "close")`` (send, then close)."""

    def __init__(self, answer: Callable[[int, bytes], bytes | None]) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    more = conn.recv(65536)
                    if not more:
                        return
                    buf += more
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                while len(buf) < length:
                    buf += conn.recv(65536)
                request, buf = head + b"\r\n\r\n" + buf[:length], buf[length:]
                self.requests.append(request)
                reply = self.answer(len(self.requests), request)
                if reply is None:
                    return
                if isinstance(reply, tuple):
                    conn.sendall(reply[0])
                    return
                conn.sendall(reply)

    def pool(self, **kw) -> Http1Pool:
        return Http1Pool("127.0.0.1", self.port, **kw)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def scripted():
    servers: list[Scripted] = []

    def make(answer):
        servers.append(Scripted(answer))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def test_keep_alive_answers_reuse_one_connection(scripted):
    server = scripted(lambda n, req: OK)
    pool = server.pool()
    for _ in range(5):
        assert pool.request("GET", "/v1/ticker", b"", {"X-Client-Id": "u1"}) == (
            200,
            {"content-length": "2", "x-seen": "1"},
            b"ok",
        )
    assert server.connections == 1
    assert server.requests[0].startswith(b"GET /v1/ticker HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\nX-Client-Id: u1\r\n" in server.requests[0]


def test_a_post_carries_its_body_and_length(scripted):
    server = scripted(lambda n, req: OK)
    server.pool().request("POST", "/v1/orders", b'{"side":"bid"}', {})
    assert server.requests[0].endswith(b"Content-Length: 14\r\n\r\n" + b'{"side":"bid"}')
    server.pool().request("DELETE", "/v1/order?uuid=1", b"", {})
    assert b"Content-Length" not in server.requests[1]


def test_a_chunked_answer_is_decoded_and_the_connection_kept(scripted):
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4;ext=1\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )
    server = scripted(lambda n, req: chunked)
    pool = server.pool()
    assert pool.request("GET", "/", b"", {})[2] == b"Wikipedia in \r\n\r\nchunks."
    assert pool.request("GET", "/", b"", {})[2] == b"Wikipedia in \r\n\r\nchunks."
    assert server.connections == 1


def test_a_body_without_length_runs_to_the_close_and_the_connection_is_not_reused(scripted):
    server = scripted(lambda n, req: (b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 200_000, "close"))
    pool = server.pool()
    assert pool.request("GET", "/", b"", {})[2] == b"x" * 200_000
    assert pool.request("GET", "/", b"", {})[2] == b"x" * 200_000
    assert server.connections == 2


def test_connection_close_opens_a_fresh_connection_next_time(scripted):
    server = scripted(
        lambda n, req: b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n1"
    )
    pool = server.pool()
    pool.request("GET", "/", b"", {})
    pool.request("GET", "/", b"", {})
    assert server.connections == 2


def test_an_interim_100_answer_is_skipped(scripted):
    server = scripted(lambda n, req: b"HTTP/1.1 100 Continue\r\n\r\n" + OK)
    assert server.pool().request("POST", "/", b"{}", {})[:1] == (200,)


def test_a_connection_the_server_closed_while_idle_is_retried_once_on_a_fresh_one(scripted):
    # The server answers each connection's first request, then closes it when the next arrives
    # (as a keep-alive timeout does): the caller never sees it.
    seen: dict[int, int] = {}

    def once_per_connection(n, req):
        if server.connections in seen:
            return None
        seen[server.connections] = n
        return OK

    server = scripted(once_per_connection)
    pool = server.pool()
    for _ in range(3):
        assert pool.request("GET", "/", b"", {})[0] == 200
    assert server.connections == 3


def test_a_fresh_connection_closed_without_an_answer_is_an_error_not_a_retry(scripted):
    server = scripted(lambda n, req: None)
    with pytest.raises(ProtocolError):
        server.pool().request("GET", "/", b"", {})
    assert server.connections == 1


def test_a_header_line_break_never_reaches_the_wire(scripted):
    server = scripted(lambda n, req: OK)
    with pytest.raises(ValueError):
        server.pool().request("GET", "/", b"", {"X-Client-Id": "u1\r\nX-Admin: yes"})
    assert server.requests == []


def test_garbage_and_oversized_heads_are_protocol_errors(scripted):
    server = scripted(lambda n, req: b"SSH-2.0-OpenSSH\r\n\r\n")
    with pytest.raises(ProtocolError):
        server.pool().request("GET", "/", b"", {})
    big = scripted(lambda n, req: b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 70_000)
    with pytest.raises(ProtocolError):
        big.pool().request("GET", "/", b"", {})


def test_a_silent_server_is_a_timeout_outcome(scripted):
    server = scripted(lambda n, req: b"")  # reads the request, never answers
    http = TargetHttp(f"http://127.0.0.1:{server.port}", 1, 0.3, 1.0)
    status, _, _, error = http.call("GET", "/", None, {})
    assert status == 0 and outcome_of_error(error) == Outcome.TIMEOUT


def test_a_refused_connection_is_a_connection_error_outcome():
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    status, _, _, error = TargetHttp(f"http://127.0.0.1:{port}", 1, 1.0, 1.0).call(
        "GET", "/", None, {}
    )
    assert status == 0 and outcome_of_error(error) == Outcome.CONNECTION_ERROR


def test_the_embedded_exchange_answers_through_it_with_headers_read_case_blind():
    with exchange_in_thread(build_config({})) as ex:
        http = TargetHttp(ex.url, 2, 5.0, 5.0)
        status, header, content, error = http.call(
            "GET", "/v1/ticker?markets=KRW-BTC", None, {"X-Client-Id": "u1"}
        )
        assert (status, error) == (200, None)
        assert content.startswith(b'[{"market": "KRW-BTC"')
        assert header("remaining-req") == header("Remaining-Req") is not None
        status, _, content, _ = http.call("POST", "/v1/orders", b"{}", {"X-Client-Id": "u1"})
        assert status == 401 and b"no_authorization_token" in content
        http.close()
