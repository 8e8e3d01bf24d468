"""Fan-out of market data to WebSocket subscribers: one encode per format, one write per reader.

A realtime message is rendered once per format and framed once; each subscriber then costs one
``transport.write`` of the same bytes. No task or queue per connection: tens of thousands of
idle subscribers cost memory for their sockets only. A subscriber whose socket buffer is over
``SLOW_READER_BYTES`` (a reader that does not keep up) loses messages instead of growing the
exchange's memory, as the in-process queue did before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp import WSMsgType, web

from surgeproof.exchange.wsprotocol import RequestError, encode, parse_request

#: Unsent bytes a subscriber may have buffered before new messages are dropped for it.
SLOW_READER_BYTES = 256 * 1024
#: Largest subscription request accepted (Upbit's requests are a few hundred bytes).
MAX_REQUEST_BYTES = 64 * 1024


def binary_frame(payload: bytes) -> bytes:
    """One unmasked, final, binary WebSocket frame (RFC 6455 §5.2) carrying ``payload``."""
    n = len(payload)
    if n < 126:
        header = bytes((0x82, n))
    elif n < 1 << 16:
        header = bytes((0x82, 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((0x82, 127)) + n.to_bytes(8, "big")
    return header + payload


class Subscriber:
    """One connection: its socket, format and realtime subscription."""

    __slots__ = ("dropped", "fmt", "keys", "transport")

    def __init__(self, transport: asyncio.BaseTransport | None) -> None:
        self.transport = transport
        self.fmt = "DEFAULT"
        self.keys: frozenset[tuple[str, str]] = frozenset()
        self.dropped = 0


class Fanout:
    """Subscribers indexed by (type, code); counts messages written and dropped."""

    def __init__(self) -> None:
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
        frames: dict[str, bytes] = {}
        for sub in list(subs):
            frame = frames.get(sub.fmt)
            if frame is None:
                frame = frames[sub.fmt] = binary_frame(encode(kind, message, sub.fmt))
            self.write(sub, frame)

    def send(self, sub: Subscriber, payload: bytes) -> None:
        """Write one message (a snapshot or an error frame) to one subscriber."""
        self.write(sub, binary_frame(payload))

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


#: (type, code) -> the current message of that stream (DEFAULT names), or None if there is none.
SnapshotSource = Callable[[str, str], dict | None]


async def run_session(
    ws: web.WebSocketResponse,
    sub: Subscriber,
    fanout: Fanout,
    markets: set[str],
    snapshot: SnapshotSource,
) -> None:
    """Serve one upgraded connection until it closes: requests in, snapshots and errors out."""
    async for msg in ws:
        if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            continue
        raw = msg.data if msg.type == WSMsgType.TEXT else msg.data.decode("utf-8", "replace")
        try:
            _, types, fmt = parse_request(raw, markets)
        except RequestError as exc:
            fanout.send(sub, exc.frame())
            continue
        realtime = [(kind, want["codes"]) for kind, want in types.items() if want["realtime"]]
        keys = frozenset((kind, code) for kind, codes in realtime for code in codes)
        fanout.subscribe(sub, fmt, keys)
        for kind, want in types.items():
            if not want["snapshot"]:
                continue
            for code in sorted(want["codes"]):
                message = snapshot(kind, code)
                if message is not None:
                    fanout.send(sub, encode(kind, {**message, "stream_type": "SNAPSHOT"}, fmt))
