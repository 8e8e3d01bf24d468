"""Fan-out of market data to WebSocket subscribers: one encode per format, one write per reader.

A realtime message is rendered once per format and framed once; each subscriber then costs one
``transport.write`` of the same bytes. No task or queue per connection: tens of thousands of
idle subscribers cost memory for their sockets only. A subscriber whose socket buffer is over
``SLOW_READER_BYTES`` (a reader that does not keep up) loses messages instead of growing the
exchange's memory, as the in-process queue did before.

The dialect's ``WsProtocol`` decides the shapes, the frame type and the request format; this
module only moves bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from aiohttp import WSCloseCode, WSMsgType, web

from surgeproof.exchange.wsprotocol import RequestError, WsProtocol

log = logging.getLogger("surgeproof.exchange")

#: Unsent bytes a subscriber may have buffered before new messages are dropped for it.
SLOW_READER_BYTES = 256 * 1024
#: Largest client message accepted (subscription requests are a few hundred bytes).
MAX_REQUEST_BYTES = 64 * 1024


class Subscriber:
    """One connection: its socket, format and realtime subscription."""

    __slots__ = ("dropped", "fmt", "keys", "transport")

    def __init__(self, transport: asyncio.BaseTransport | None) -> None:
        self.transport = transport
        self.fmt = "DEFAULT"
        self.keys: frozenset[tuple[str, str]] = frozenset()
        self.dropped = 0


class Fanout:
    """Subscribers indexed by (kind, code); counts messages written and dropped."""

    def __init__(self, protocol: WsProtocol) -> None:
        self.protocol = protocol
        self.subscribers: set[Subscriber] = set()
        self._by_key: dict[tuple[str, str], set[Subscriber]] = {}
        self.sent = 0
        self.dropped = 0

    @property
    def connections(self) -> int:
        return len(self.subscribers)

    def add(self, sub: Subscriber) -> None:
        self.subscribers.add(sub)

    def remove(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)
        self._unindex(sub)

    def subscribe(self, sub: Subscriber, fmt: str, keys: frozenset[tuple[str, str]]) -> None:
        """Replace ``sub``'s realtime subscription (a new request replaces the old one)."""
        self._unindex(sub)
        sub.fmt = fmt
        sub.keys = keys
        for key in keys:
            self._by_key.setdefault(key, set()).add(sub)

    def _unindex(self, sub: Subscriber) -> None:
        for key in sub.keys:
            subs = self._by_key.get(key)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._by_key[key]
        sub.keys = frozenset()

    def wants(self, kind: str, code: str) -> bool:
        return (kind, code) in self._by_key

    def publish(self, kind: str, code: str, message: dict) -> None:
        """Write one realtime message to every subscriber of (kind, code)."""
        subs = self._by_key.get((kind, code))
        if not subs:
            return
        protocol = self.protocol
        frames: dict[str, bytes] = {}
        for sub in list(subs):
            frame = frames.get(sub.fmt)
            if frame is None:
                frame = frames[sub.fmt] = protocol.frame(protocol.encode(kind, message, sub.fmt))
            self.write(sub, frame)

    def send(self, sub: Subscriber, payload: bytes) -> None:
        """Write one message (a snapshot, a reply or an error) to one subscriber."""
        self.write(sub, self.protocol.frame(payload))

    def write(self, sub: Subscriber, frame: bytes) -> None:
        t = sub.transport
        if t is None or t.is_closing():
            return
        if t.get_write_buffer_size() > SLOW_READER_BYTES:  # type: ignore[attr-defined]
            sub.dropped += 1
            self.dropped += 1
            return
        t.write(frame)  # type: ignore[attr-defined]
        self.sent += 1


#: (kind, code) -> the current message of that stream, or None if there is none.
SnapshotSource = Callable[[str, str], dict | None]


def _apply(fanout: Fanout, sub: Subscriber, command, snapshot: SnapshotSource) -> None:
    protocol = fanout.protocol
    for reply in command.replies:
        fanout.send(sub, reply)
    if command.types is None:
        return
    realtime = {
        (kind, code)
        for kind, want in command.types.items()
        if want["realtime"]
        for code in want["codes"]
    }
    if command.remove:
        fanout.subscribe(sub, sub.fmt, sub.keys - realtime)
        return
    keys = sub.keys | realtime if command.additive else realtime
    fanout.subscribe(sub, command.fmt, frozenset(keys))
    for kind, want in command.types.items():
        if not want["snapshot"]:
            continue
        for code in sorted(want["codes"]):
            message = snapshot(kind, code)
            if message is not None:
                fanout.send(sub, protocol.encode_snapshot(kind, message, command.fmt))


async def run_session(
    ws: web.WebSocketResponse,
    sub: Subscriber,
    fanout: Fanout,
    markets: set[str],
    snapshot: SnapshotSource,
) -> None:
    """Serve one upgraded connection until it closes: requests in, snapshots and errors out.

    Whatever a client sends, the connection ends with a close frame, never with an HTTP
    answer written into the upgraded socket.
    """
    protocol = fanout.protocol
    idle = protocol.idle_timeout_s
    alive_until = time.monotonic() + idle if idle else None
    try:
        while True:
            timeout = None if alive_until is None else max(alive_until - time.monotonic(), 0.0)
            try:
                msg = await ws.receive(timeout=timeout)
            except TimeoutError:
                await ws.close(code=WSCloseCode.OK, message=b"no PING received in time")
                return
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return
            if msg.type == WSMsgType.ERROR:
                return
            if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                continue
            raw = msg.data if msg.type == WSMsgType.TEXT else msg.data.decode("utf-8", "replace")
            try:
                command = protocol.parse(raw, markets)
            except RequestError as exc:
                fanout.send(sub, protocol.error(exc))
                continue
            if command.keepalive and idle:
                alive_until = time.monotonic() + idle
            _apply(fanout, sub, command, snapshot)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("websocket session failed")
        with contextlib.suppress(Exception):
            await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal error")
