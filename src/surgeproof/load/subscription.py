"""A websocket ticker subscription, timed and recorded like HTTP calls, cheap enough for 50k.

What to send (the subscribe message, a keepalive) and what counts as market data (a marker near
a message's start, e.g. Coinone's ``"response_type":"DATA"``) come from the target's dialect;
the connection, timing and reconnecting are the same for every exchange.

Recorded: the upgrade handshake (``ws_connect``), subscribe → first data message
(``ws_first_message``) and, every ``GAP_INTERVAL_S``, the longest silence between data
messages (``ws_gap``: sent_ns = last message before the silence, end_ns = when it ended or the
interval closed).

A subscription that fails or is lost is opened again, as an exchange's app does: after a
backoff that doubles per failed attempt (``reconnect_delay``), jittered so that a crowd dropped
at once does not return in one clump. Each attempt is a ``ws_connect`` record with its attempt
number and the retry flag, so a reconnect storm is visible as the load it is. A refusal that a
retry cannot cure (a 4xx other than 429) is not retried.

Why it looks like this: a held subscription must cost little in the generator. The upgrade is
one write and whole-buffer reads in a short-lived greenlet (``wss://`` uses websocket-client);
once subscribed, the session keeps no greenlet and no client object: its socket is read by a
libev I/O watcher on the gevent hub (a blocked greenlet costs ~8 KB, a watcher a few hundred
bytes), frames are only split, never decoded, and one per-process clock closes every session's
gap interval (no timer per session).
Measured in ``benchmarks/load/RESULTS.md``.
"""

from __future__ import annotations

import _socket
import base64
import contextlib
import hashlib
import json
import os
import socket as _stdsocket
import struct
import time
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import gevent
import websocket

from surgeproof.load.outcome import outcome_of_error, outcome_of_status
from surgeproof.load.recorder import now_ns
from surgeproof.load.source_address import bind_source
from surgeproof.load.users.act import MARKET
from surgeproof.load.users.http1 import ProtocolError, read_head
from surgeproof.rundir.schema import FLAG_RETRY, Kind, Outcome

if TYPE_CHECKING:
    from surgeproof.dialect.model import WebSocketSpec
    from surgeproof.load.users.surge_user import SurgeUser

GAP_INTERVAL_S = 5.0
CONNECT_TIMEOUT_S = 10.0
#: Reconnect backoff: the first retry comes after about ``RECONNECT_BASE_S``, doubling per
#: failed attempt up to ``RECONNECT_CAP_S``.
RECONNECT_BASE_S = 1.0
RECONNECT_CAP_S = 30.0
#: Failures worth another attempt (a 4xx other than 429 would fail the same way again).
_RETRYABLE = frozenset(
    {
        Outcome.CONNECTION_ERROR,
        Outcome.TIMEOUT,
        Outcome.SERVER_ERROR,
        Outcome.RATE_LIMITED,
        Outcome.BLOCKED,
    }
)
RECV_BYTES = 16384
#: How far into a data message its dialect's data marker is looked for.
MARKER_WINDOW = 512
#: RFC 6455 opcodes this reader acts on.
_CONT, _TEXT, _BINARY, _CLOSE, _PING = 0x0, 0x1, 0x2, 0x8, 0x9

_NAMES = {
    Kind.WS_CONNECT: "WS connect",
    Kind.WS_FIRST_MESSAGE: "WS subscribe",
    Kind.WS_GAP: "WS gap",
}


#: RFC 6455 4.2.2: the server proves it read the key by hashing it with this GUID.
_ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class UpgradeRefused(OSError):
    """The server answered the upgrade with something other than 101 (the status says what)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"websocket upgrade answered {status}")
        self.status = status


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` a server must answer to ``Sec-WebSocket-Key: key``."""
    return base64.b64encode(hashlib.sha1(key.encode() + _ACCEPT_GUID).digest()).decode()


def reconnect_delay(attempt: int, u: float) -> float:
    """Seconds before reconnect ``attempt`` (1, 2, …), for a uniform ``u`` in [0, 1).

    "Equal jitter": half the doubled backoff is fixed, half is random, so no retry comes at
    once and a crowd that lost its sockets together spreads over the second half of the step.
    """
    step = min(RECONNECT_CAP_S, RECONNECT_BASE_S * 2.0 ** max(0, attempt - 1))
    return step * (0.5 + 0.5 * u)


def subscribe_message(spec: WebSocketSpec, channel: str, market_vars: dict) -> str:
    """The dialect's subscription to ``channel`` for one market, with a fresh ticket."""
    values = {**market_vars, "uuid": str(uuid.uuid4()), "timestamp_ms": time.time_ns() // 10**6}
    message = spec.subscribe[channel](values)
    return message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked, final client frame (RFC 6455 §5.2); control payloads stay under 126 bytes."""
    mask = os.urandom(4)
    n = len(payload)
    masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + mask + masked


class TickerSubscription:
    """One user's websocket: connect, subscribe to KRW-BTC tickers, watch the gaps."""

    __slots__ = (
        "_attempt",
        "_buf",
        "_closed",
        "_connector",
        "_first",
        "_gap_len",
        "_gap_start",
        "_keepalive_at",
        "_last",
        "_reading",
        "_retry_timer",
        "_skip",
        "_skip_counts",
        "_sock",
        "_subscribed",
        "_tls",
        "_watcher",
        "source",
        "spec",
        "url",
        "user",
    )

    def __init__(
        self,
        user: SurgeUser,
        url: str,
        source: str | None = None,
        spec: WebSocketSpec | None = None,
    ) -> None:
        self.user = user
        self.url = url
        self.source = source
        #: The dialect's websocket: what to subscribe with, what data looks like, keepalives.
        self.spec = spec
        self._attempt = 0  # failed attempts since the last good connect
        self._retry_timer = None
        self._connector: gevent.Greenlet | None = None
        self._sock: _socket.socket | None = None
        self._watcher = None
        self._buf = bytearray()
        self._skip = 0  # payload bytes of the current data frame still to arrive
        self._skip_counts = False  # ...and whether it completes a market-data message
        self._keepalive_at = 0
        self._tls: websocket.WebSocket | None = None  # the client, for wss:// sessions only
        self._reading = False
        self._closed = False
        self._subscribed = 0
        self._first = True
        self._last = 0
        self._gap_start = 0
        self._gap_len = 0

    @property
    def live(self) -> bool:
        """Subscribed and being read."""
        return self._reading

    def start(self) -> None:
        self._connector = gevent.spawn(self._connect)

    def close(self) -> None:
        """Leave: stop reading, say goodbye (best effort), free the socket."""
        if self._closed:
            return
        self._closed = True
        if self._connector is not None and not self._connector.dead:
            self._connector.kill(block=False)
        self._cancel_retry()
        sock = self._sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.send(client_frame(_CLOSE, struct.pack("!H", 1000)))
        self._stop_reading()

    # -- recording ------------------------------------------------------------------------

    def _record(self, kind: Kind, sent: int, end: int, status: int, outcome: int) -> None:
        u = self.user
        rec = u.ctx.recorder
        attempt = self._attempt
        rec.record(
            sent,
            sent,
            end,
            rec.name_id(_NAMES[kind], "websocket"),
            status,
            outcome,
            kind,
            min(attempt, 255),
            FLAG_RETRY if attempt else 0,
            u.uid,
            round(u.state.target_users),
        )

    # -- connect and subscribe (a short-lived greenlet) -----------------------------------

    def _connect(self) -> None:
        if self.url.startswith("wss:"):
            self._connect_tls()
            return
        start = now_ns()
        try:
            sock, rest = self._upgrade()
        except UpgradeRefused as exc:
            outcome = outcome_of_status(exc.status)
            self._record(Kind.WS_CONNECT, start, now_ns(), exc.status, outcome)
            self._retry_later(outcome)
            return
        except OSError as exc:
            outcome = outcome_of_error(exc)
            self._record(Kind.WS_CONNECT, start, now_ns(), 0, outcome)
            self._retry_later(outcome)
            return
        self._record(Kind.WS_CONNECT, start, now_ns(), 101, Outcome.OK)
        self._attempt = 0
        if self._closed:
            self._close_quietly(sock)
            return
        subscribed = now_ns()
        try:
            sock.sendall(client_frame(_TEXT, self._subscription().encode()))
        except OSError as exc:
            outcome = outcome_of_error(exc)
            self._record(Kind.WS_GAP, subscribed, now_ns(), 0, outcome)
            self._close_quietly(sock)
            self._retry_later(outcome)
            return
        # Hand the descriptor to a plain non-blocking socket read from the hub.
        fd = sock.detach()
        # The C socket type: no gevent wrapper and its two watchers per session.
        raw = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM, 0, fd)
        raw.setblocking(False)
        self._sock = raw
        self._subscribed = self._last = self._gap_start = subscribed
        self._keepalive_at = subscribed
        self._connector = None
        self._watcher = gevent.get_hub().loop.io(fd, 1)
        self._watcher.start(self._readable)
        self._reading = True
        GAP_CLOCK.add(self)
        if rest:  # bytes the server sent right behind its 101 are framed like any others
            self._take(rest)

    def _upgrade(self) -> tuple[_stdsocket.socket, bytes]:
        """Connect and upgrade (RFC 6455 4.1): the socket and any bytes after the 101's head.

        One write of the request and whole-buffer reads of the answer (websocket-client reads
        the answer's head one byte per ``recv``: ~130 system calls a handshake).
        """
        parts = urlsplit(self.url)
        host = parts.hostname or "127.0.0.1"
        port = parts.port or 80
        sock = _stdsocket.socket(_stdsocket.AF_INET, _stdsocket.SOCK_STREAM)
        try:
            bind_source(sock, self.source)
            sock.settimeout(CONNECT_TIMEOUT_S)
            sock.connect((host, port))
            key = base64.b64encode(os.urandom(16)).decode()
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            authority = host if port == 80 else f"{host}:{port}"
            request = (
                f"GET {target} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nX-Client-Id: {self.user.client_id}\r\n\r\n"
            )
            sock.sendall(request.encode("latin-1"))
            status, _version, headers, rest = read_head(sock, b"")
            if status != 101:
                raise UpgradeRefused(status)
            if headers.get("sec-websocket-accept") != accept_key(key):
                raise ProtocolError("the 101 answer does not accept this handshake's key")
        except BaseException:
            self._close_quietly(sock)
            raise
        return sock, rest

    def _subscription(self) -> str:
        assert self.spec is not None  # users subscribe only where their dialect describes how
        return subscribe_message(self.spec, "ticker", self.user.ctx.dialect.market_vars(MARKET))

    def _connect_tls(self) -> None:
        """wss:// keeps websocket-client (TLS), read by a greenlet per session."""
        start = now_ns()
        try:
            ws = websocket.create_connection(
                self.url, timeout=CONNECT_TIMEOUT_S, header=self._headers()
            )
        except websocket.WebSocketBadStatusException as exc:
            outcome = outcome_of_status(exc.status_code)
            self._record(Kind.WS_CONNECT, start, now_ns(), exc.status_code, outcome)
            self._retry_later(outcome)
            return
        except (OSError, websocket.WebSocketException) as exc:
            outcome = outcome_of_error(exc)
            self._record(Kind.WS_CONNECT, start, now_ns(), 0, outcome)
            self._retry_later(outcome)
            return
        self._record(Kind.WS_CONNECT, start, now_ns(), 101, Outcome.OK)
        self._attempt = 0
        if self._closed:
            with contextlib.suppress(Exception):
                ws.close(timeout=0.1)
            return
        subscribed = now_ns()
        try:
            ws.send(self._subscription())
        except (OSError, websocket.WebSocketException) as exc:
            outcome = outcome_of_error(exc)
            self._record(Kind.WS_GAP, subscribed, now_ns(), 0, outcome)
            with contextlib.suppress(Exception):
                ws.close(timeout=0.1)
            self._retry_later(outcome)
            return
        self._watch_greenlet(ws, subscribed)

    def _headers(self) -> list[str]:
        return [f"X-Client-Id: {self.user.client_id}"]

    @staticmethod
    def _close_quietly(sock: _stdsocket.socket | None) -> None:
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    # -- reading (hub callback; must never block) -----------------------------------------

    def _readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        try:
            data = sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lost(outcome_of_error(exc))
            return
        if not data:
            self._lost(Outcome.CONNECTION_ERROR)
            return
        self._take(data)

    def _take(self, data: bytes) -> None:
        messages = self._frames(data)
        if messages < 0:
            self._lost(Outcome.CONNECTION_ERROR)  # the server closed the websocket
        elif messages:
            self._arrived(now_ns())

    def _frames(self, data: bytes) -> int:
        """Split ``data`` into frames; data messages completed, or -1 on a close frame."""
        if self._skip >= len(data):
            self._skip -= len(data)
            return 1 if self._skip == 0 and self._skip_counts else 0
        buf = self._buf
        done = 0
        if self._skip:
            data = data[self._skip :]
            self._skip = 0
            done = 1 if self._skip_counts else 0
        buf += data
        marker = self.spec.data_marker if self.spec is not None else None
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            n, head = b1 & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, head = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, head = int.from_bytes(buf[2:10], "big"), 10
            if b1 & 0x80:
                head += 4  # servers must not mask, but a masked frame is still framed right
            opcode, fin = b0 & 0x0F, b0 & 0x80
            if opcode in (_TEXT, _BINARY, _CONT):
                counts = bool(fin) and (marker is None or self._is_data(buf, head, n, marker))
                if len(buf) < head + n:
                    # Payloads are never read: skip what is still to come instead of buffering.
                    self._skip = head + n - len(buf)
                    self._skip_counts = counts
                    del buf[:]
                    return done
                del buf[: head + n]
                if counts:
                    done += 1
                continue
            if len(buf) < head + n:
                break
            payload = bytes(buf[head : head + n])
            del buf[: head + n]
            if opcode == _CLOSE:
                return -1
            if opcode == _PING and self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.send(client_frame(0xA, payload))
        return done

    @staticmethod
    def _is_data(buf: bytearray, head: int, n: int, marker: bytes) -> bool:
        """Whether a frame's payload start carries the data marker (an answer, error or pong
        does not); a start cut short by the read counts as data rather than be lost."""
        want = min(n, MARKER_WINDOW)
        window = bytes(buf[head : head + want])
        return marker in window or len(window) < min(want, len(marker) + 64)

    def _arrived(self, t: int) -> None:
        if self._first:
            self._first = False
            self._record(Kind.WS_FIRST_MESSAGE, self._subscribed, t, 101, Outcome.OK)
        elif t - self._last > self._gap_len:
            self._gap_start, self._gap_len = self._last, t - self._last
        self._last = t

    def close_interval(self, now: int) -> None:
        """Record this interval's longest silence (the per-process clock calls it)."""
        if self._closed or not self._reading:
            return
        keepalive = self.spec.keepalive if self.spec is not None else None
        if keepalive is not None and now - self._keepalive_at >= keepalive[1] * 1e9:
            self._keepalive_at = now
            if self._sock is not None:
                with contextlib.suppress(OSError):
                    self._sock.send(client_frame(_TEXT, keepalive[0]))
            elif self._tls is not None:
                with contextlib.suppress(OSError, websocket.WebSocketException):
                    self._tls.send(keepalive[0].decode())
        if self._first:
            if now - self._subscribed > CONNECT_TIMEOUT_S * 1e9:
                self._record(Kind.WS_FIRST_MESSAGE, self._subscribed, now, 0, Outcome.TIMEOUT)
                self._first = False
                self._last = now
            return
        if now - self._last > self._gap_len:  # still silent when the interval closes
            self._gap_start, self._gap_len = self._last, now - self._last
        self._record(Kind.WS_GAP, self._gap_start, self._gap_start + self._gap_len, 101, Outcome.OK)
        self._gap_len = 0

    def _lost(self, outcome: int) -> None:
        self._stop_reading()
        if self._closed:
            return
        self._record(Kind.WS_GAP, self._last, now_ns(), 0, outcome)
        self._retry_later(outcome)

    # -- reconnecting (a hub timer while waiting: no greenlet per waiting session) ---------

    def _retry_later(self, outcome: int) -> None:
        """Open the subscription again after the backoff, if the failure is worth a retry."""
        if self._closed or outcome not in _RETRYABLE:
            return
        self._attempt += 1
        delay = reconnect_delay(self._attempt, self.user.rng.random())
        self._retry_timer = gevent.get_hub().loop.timer(delay)
        self._retry_timer.start(self._retry)

    def _retry(self) -> None:
        self._cancel_retry()
        if self._closed or self.user.ctx.finishing:
            return
        self._first = True
        self._gap_len = 0
        self._buf = bytearray()
        self._skip = 0
        self._skip_counts = False
        self._connector = gevent.spawn(self._connect)

    def _cancel_retry(self) -> None:
        timer = self._retry_timer
        if timer is not None:
            self._retry_timer = None
            timer.stop()
            timer.close()

    def _stop_reading(self) -> None:
        GAP_CLOCK.discard(self)
        self._reading = False
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher.close()
            self._watcher = None
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None

    # -- TLS targets: a greenlet per session (not the scale path) --------------------------

    def _watch_greenlet(self, ws: websocket.WebSocket, subscribed: int) -> None:
        self._subscribed = self._last = self._gap_start = self._keepalive_at = subscribed
        self._reading = True
        self._tls = ws
        GAP_CLOCK.add(self)
        marker = self.spec.data_marker if self.spec is not None else None
        try:
            while not self._closed:
                opcode, data = ws.recv_data(control_frame=False)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    break
                if marker is None or marker in data[:MARKER_WINDOW]:
                    self._arrived(now_ns())
            if not self._closed:
                self._lost(Outcome.CONNECTION_ERROR)
        except (OSError, websocket.WebSocketException) as exc:
            if not self._closed:
                self._lost(outcome_of_error(exc))
        finally:
            self._reading = False
            self._tls = None
            GAP_CLOCK.discard(self)
            with contextlib.suppress(Exception):
                ws.close(timeout=0.1)


class GapClock:
    """One greenlet per process closes every live session's gap interval together."""

    def __init__(self, interval_s: float = GAP_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._subs: set[TickerSubscription] = set()
        self._greenlet: gevent.Greenlet | None = None

    def __len__(self) -> int:
        return len(self._subs)

    def add(self, sub: TickerSubscription) -> None:
        self._subs.add(sub)
        if self._greenlet is None or self._greenlet.dead:
            self._greenlet = gevent.spawn(self._run)

    def discard(self, sub: TickerSubscription) -> None:
        self._subs.discard(sub)

    def _run(self) -> None:
        while self._subs:
            gevent.sleep(self.interval_s)
            now = now_ns()
            for sub in list(self._subs):
                sub.close_interval(now)


GAP_CLOCK = GapClock()
