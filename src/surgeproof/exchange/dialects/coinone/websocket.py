"""Coinone's public websocket: JSON text messages at ``/``.

``{"request_type": "SUBSCRIBE", "channel": "TICKER|ORDERBOOK|TRADE", "topic":
{"quote_currency": "KRW", "target_currency": "BTC"}}`` (upper-case values) adds a subscription
(``UNSUBSCRIBE`` removes it) and is acknowledged with ``response_type: SUBSCRIBED``; data arrive
as ``{"response_type": "DATA", "channel", "data": {...}}`` in Coinone's shapes, the current state
of a stream first. ``{"request_type": "PING"}`` is answered ``{"response_type": "PONG"}``; the
server closes a connection that sent no PING for ``ws_ping_timeout_s`` (Coinone: 30 minutes).
Errors: ``{"response_type": "ERROR", "error_code", "message"}``; 160012 "Invalid Topic" is
Coinone's, the other codes (1600xx) are ours.
"""

from __future__ import annotations

import json

from surgeproof.exchange.dialects.coinone.public import best, book_side, tick_id, trade_row
from surgeproof.exchange.engine import Trade
from surgeproof.exchange.marketdata import MarketData
from surgeproof.exchange.money import fmt
from surgeproof.exchange.safe_json import loads_bounded
from surgeproof.exchange.wsprotocol import TEXT, RequestError, WsCommand, WsProtocol

CHANNELS = {"TICKER": "ticker", "ORDERBOOK": "orderbook", "TRADE": "trade"}
KIND_CHANNEL = {kind: channel for channel, kind in CHANNELS.items()}
#: Levels per side in an ORDERBOOK message.
BOOK_LEVELS = 15


def _error(code: int, message: str) -> RequestError:
    return RequestError("ERROR", message, code)


class CoinoneWebSocket(WsProtocol):
    name = "coinone"
    path = "/"
    opcode = TEXT

    def __init__(self, idle_timeout_s: float | None) -> None:
        self.idle_timeout_s = idle_timeout_s or None

    # -- data ------------------------------------------------------------------------------

    def render_ticker(self, md: MarketData, code: str) -> dict:
        t = md.tickers[code]
        quote, target = code.split("-", 1)
        ask, bid = best(md, code, "ask"), best(md, code, "bid")
        power = t.acc_bid_volume * 100 // t.acc_ask_volume if t.acc_ask_volume else 100
        return {
            "quote_currency": quote,
            "target_currency": target,
            "timestamp": int(t.last_ts * 1000),
            "quote_volume": fmt(t.acc_price),
            "target_volume": fmt(t.acc_volume),
            "high": fmt(t.high),
            "low": fmt(t.low),
            "first": fmt(t.open),
            "last": fmt(t.last),
            "volume_power": str(power),
            "ask_best_price": fmt(ask[0]) if ask else "0.0",
            "ask_best_qty": fmt(ask[1]) if ask else "0.0",
            "bid_best_price": fmt(bid[0]) if bid else "0.0",
            "bid_best_qty": fmt(bid[1]) if bid else "0.0",
            "id": tick_id(t.last_ts),
            "yesterday_high": fmt(t.prev_close),
            "yesterday_low": fmt(t.prev_close),
            "yesterday_first": fmt(t.prev_close),
            "yesterday_last": fmt(t.prev_close),
            "yesterday_quote_volume": "0.0",
            "yesterday_target_volume": "0.0",
        }

    def render_trade(self, md: MarketData, trade: Trade) -> dict:
        quote, target = trade.market.split("-", 1)
        return {"quote_currency": quote, "target_currency": target, **trade_row(trade)}

    def render_orderbook(self, md: MarketData, code: str) -> dict:
        quote, target = code.split("-", 1)
        ts = md.orderbook(code)["timestamp"] / 1000.0
        return {
            "quote_currency": quote,
            "target_currency": target,
            "timestamp": int(ts * 1000),
            "id": tick_id(ts),
            "asks": book_side(md, code, "ask", BOOK_LEVELS),
            "bids": book_side(md, code, "bid", BOOK_LEVELS),
        }

    def encode(self, kind: str, message: dict, fmt: str) -> bytes:
        frame = {"response_type": "DATA", "channel": KIND_CHANNEL[kind], "data": message}
        return json.dumps(frame, separators=(",", ":")).encode()

    # -- requests --------------------------------------------------------------------------

    def parse(self, text: str, markets: set[str]) -> WsCommand:
        try:
            request = loads_bounded(text)
        except ValueError:
            raise _error(160001, "Invalid Request: not a JSON object") from None
        if not isinstance(request, dict):
            raise _error(160001, "Invalid Request: not a JSON object")
        kind = request.get("request_type")
        if kind == "PING":
            return WsCommand(replies=[b'{"response_type":"PONG"}'], keepalive=True)
        if kind not in ("SUBSCRIBE", "UNSUBSCRIBE"):
            raise _error(160002, "Invalid Request Type")
        channel = request.get("channel")
        if not isinstance(channel, str) or channel not in CHANNELS:
            raise _error(160003, "Invalid Channel")
        fmt = request.get("format", "DEFAULT")
        if fmt != "DEFAULT":
            raise _error(160004, "Invalid Format: only DEFAULT is served")
        topic = request.get("topic")
        if not isinstance(topic, dict):
            raise _error(160012, "Invalid Topic")
        quote, target = topic.get("quote_currency"), topic.get("target_currency")
        if not isinstance(quote, str) or not isinstance(target, str):
            raise _error(160012, "Invalid Topic")
        code = f"{quote}-{target}"
        if quote != quote.upper() or target != target.upper() or code not in markets:
            raise _error(160012, "Invalid Topic")
        ack = {
            "response_type": "SUBSCRIBED" if kind == "SUBSCRIBE" else "UNSUBSCRIBED",
            "channel": channel,
            "data": {"quote_currency": quote, "target_currency": target},
        }
        return WsCommand(
            types={CHANNELS[channel]: {"codes": {code}, "snapshot": True, "realtime": True}},
            additive=True,
            remove=kind == "UNSUBSCRIBE",
            replies=[json.dumps(ack, separators=(",", ":")).encode()],
        )

    def error(self, exc: RequestError) -> bytes:
        frame = {"response_type": "ERROR", "error_code": exc.code, "message": exc.message}
        return json.dumps(frame, separators=(",", ":")).encode()


def coinone_websocket(ping_timeout_s: float = 1800.0) -> CoinoneWebSocket:
    return CoinoneWebSocket(ping_timeout_s)
