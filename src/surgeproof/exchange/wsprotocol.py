"""What a websocket protocol of a dialect provides, shared by the core and the gateways.

Market data leaves the engine as one message dict per update, rendered in the dialect's own
shape by ``render_*`` (in the core), then encoded per format and framed once for every
subscriber (in the core and in each gateway). Requests from clients are parsed into a
``WsCommand``: a subscription to apply, a reply to send, or both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from surgeproof.exchange.engine import Trade
    from surgeproof.exchange.marketdata import MarketData

#: The stream kinds every protocol maps its channels onto.
KINDS = ("ticker", "trade", "orderbook")
TEXT = 0x1
BINARY = 0x2


def ws_frame(payload: bytes, opcode: int = BINARY) -> bytes:
    """One unmasked, final WebSocket frame (RFC 6455 §5.2) carrying ``payload``."""
    n = len(payload)
    first = 0x80 | opcode
    if n < 126:
        header = bytes((first, n))
    elif n < 1 << 16:
        header = bytes((first, 126)) + n.to_bytes(2, "big")
    else:
        header = bytes((first, 127)) + n.to_bytes(8, "big")
    return header + payload


class RequestError(Exception):
    """A request the protocol answers with an error message (the connection stays open)."""

    def __init__(self, name: str, message: str, code: int | None = None):
        super().__init__(message)
        self.name = name
        self.message = message
        self.code = code


@dataclass
class WsCommand:
    """What one client message asks for."""

    #: kind -> {"codes": set, "snapshot": bool, "realtime": bool}; None: no subscription change.
    types: dict[str, dict] | None = None
    fmt: str = "DEFAULT"
    #: True: add to the connection's subscriptions; False: replace them (Upbit).
    additive: bool = False
    #: True with ``types``: remove those subscriptions instead.
    remove: bool = False
    #: Payloads to send back at once (acknowledgements, PONG).
    replies: list[bytes] = field(default_factory=list)
    #: The client showed it is alive (resets the idle timer of protocols that have one).
    keepalive: bool = False


class WsProtocol:
    """Base of a dialect's websocket protocol; subclasses fill in the shapes."""

    name = "base"
    path = "/websocket/v1"
    opcode = BINARY
    #: Close a connection that sent no keep-alive for this long (None: never).
    idle_timeout_s: float | None = None

    # -- in the core: render market data in the dialect's shape ---------------------------

    def render_ticker(self, md: MarketData, code: str) -> dict:
        raise NotImplementedError

    def render_trade(self, md: MarketData, trade: Trade) -> dict:
        raise NotImplementedError

    def render_orderbook(self, md: MarketData, code: str) -> dict:
        raise NotImplementedError

    # -- everywhere: encode, parse, answer --------------------------------------------------

    def encode(self, kind: str, message: dict, fmt: str) -> bytes:
        """A realtime message as the payload of one frame."""
        raise NotImplementedError

    def encode_snapshot(self, kind: str, message: dict, fmt: str) -> bytes:
        """The current message of a stream, sent when a client subscribes."""
        return self.encode(kind, message, fmt)

    def parse(self, text: str, markets: set[str]) -> WsCommand:
        """A client message as a command, or RequestError."""
        raise NotImplementedError

    def error(self, exc: RequestError) -> bytes:
        """The payload of an error message."""
        raise NotImplementedError

    def frame(self, payload: bytes) -> bytes:
        return ws_frame(payload, self.opcode)
