"""Upbit's ``/websocket/v1`` protocol: the subscription list, the DEFAULT and SIMPLE formats,
SNAPSHOT then REALTIME streams, error frames; binary frames. Bithumb speaks the same.
"""

from __future__ import annotations

import json
import time

from surgeproof.exchange.engine import Trade
from surgeproof.exchange.marketdata import MarketData
from surgeproof.exchange.money import num
from surgeproof.exchange.orders import utc_parts
from surgeproof.exchange.safe_json import loads_bounded
from surgeproof.exchange.wsprotocol import KINDS, RequestError, WsCommand, WsProtocol

SIMPLE_TICKER = {
    "type": "ty",
    "code": "cd",
    "opening_price": "op",
    "high_price": "hp",
    "low_price": "lp",
    "trade_price": "tp",
    "prev_closing_price": "pcp",
    "change": "c",
    "change_price": "cp",
    "signed_change_price": "scp",
    "change_rate": "cr",
    "signed_change_rate": "scr",
    "trade_volume": "tv",
    "acc_trade_volume": "atv",
    "acc_trade_volume_24h": "atv24h",
    "acc_trade_price": "atp",
    "acc_trade_price_24h": "atp24h",
    "trade_date": "tdt",
    "trade_time": "ttm",
    "trade_timestamp": "ttms",
    "ask_bid": "ab",
    "acc_ask_volume": "aav",
    "acc_bid_volume": "abv",
    "highest_52_week_price": "h52wp",
    "highest_52_week_date": "h52wdt",
    "lowest_52_week_price": "l52wp",
    "lowest_52_week_date": "l52wdt",
    "market_state": "ms",
    "is_trading_suspended": "its",
    "delisting_date": "dd",
    "market_warning": "mw",
    "timestamp": "tms",
    "stream_type": "st",
}
SIMPLE_TRADE = {
    "type": "ty",
    "code": "cd",
    "trade_price": "tp",
    "trade_volume": "tv",
    "ask_bid": "ab",
    "prev_closing_price": "pcp",
    "change": "c",
    "change_price": "cp",
    "trade_date": "td",
    "trade_time": "ttm",
    "trade_timestamp": "ttms",
    "timestamp": "tms",
    "sequential_id": "sid",
    "best_ask_price": "bap",
    "best_ask_size": "bas",
    "best_bid_price": "bbp",
    "best_bid_size": "bbs",
    "stream_type": "st",
}
SIMPLE_ORDERBOOK = {
    "type": "ty",
    "code": "cd",
    "total_ask_size": "tas",
    "total_bid_size": "tbs",
    "orderbook_units": "obu",
    "timestamp": "tms",
    "level": "lv",
    "stream_type": "st",
}
SIMPLE_UNIT = {"ask_price": "ap", "bid_price": "bp", "ask_size": "as", "bid_size": "bs"}
_SIMPLE = {"ticker": SIMPLE_TICKER, "trade": SIMPLE_TRADE, "orderbook": SIMPLE_ORDERBOOK}


def simplify(kind: str, message: dict) -> dict:
    """A DEFAULT-format message in Upbit's SIMPLE (abbreviated) field names."""
    names = _SIMPLE[kind]
    out = {names.get(k, k): v for k, v in message.items()}
    if kind == "orderbook":
        out["obu"] = [{SIMPLE_UNIT[k]: v for k, v in u.items()} for u in out["obu"]]
    return out


def _wrong_format() -> RequestError:
    return RequestError("WRONG_FORMAT", "Requested using wrong format")


def parse_request(text: str, markets: set[str]) -> tuple[str, dict[str, dict], str]:
    """(ticket, {type: {codes, snapshot, realtime}}, format) or RequestError."""
    try:
        items = loads_bounded(text)
    except ValueError:
        raise _wrong_format() from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise _wrong_format()
    ticket = next((i["ticket"] for i in items if "ticket" in i), None)
    if not isinstance(ticket, str) or not ticket:
        raise RequestError("NO_TICKET", "Ticket field must be contained.")
    fmt = "DEFAULT"
    types: dict[str, dict] = {}
    for item in items:
        if "ticket" in item:
            continue
        if "format" in item and "type" not in item:
            fmt = str(item["format"]).upper()
            if fmt not in ("DEFAULT", "SIMPLE"):
                raise RequestError("INVALID_PARAM", f"format {item['format']} is not supported.")
            continue
        if "type" not in item:
            raise RequestError("NO_TYPE", "type field not exists.")
        kind = item["type"]
        if not isinstance(kind, str) or kind not in KINDS:
            raise RequestError("INVALID_PARAM", f"type {kind} is not supported.")
        if "codes" not in item:
            raise RequestError("NO_CODES", "codes field not exists.")
        codes = item["codes"]
        if not isinstance(codes, list) or not codes:
            raise RequestError("INVALID_PARAM", "codes field is empty.")
        if not all(isinstance(c, str) for c in codes):
            raise RequestError("INVALID_PARAM", "codes must be strings.")
        # Orderbook codes may carry a depth suffix: KRW-BTC.5
        clean = {c.split(".", 1)[0].upper() for c in codes}
        unknown = clean - markets
        if unknown:
            raise RequestError("INVALID_PARAM", f"codes {sorted(unknown)} are not supported.")
        snapshot_only = bool(item.get("isOnlySnapshot", item.get("is_only_snapshot", False)))
        realtime_only = bool(item.get("isOnlyRealtime", item.get("is_only_realtime", False)))
        types[kind] = {"codes": clean, "snapshot": not realtime_only, "realtime": not snapshot_only}
    if not types:
        raise RequestError("NO_TYPE", "type field not exists.")
    return ticket, types, fmt


class UpbitWebSocket(WsProtocol):
    """``[{"ticket"}, {"type", "codes", "isOnlySnapshot", "isOnlyRealtime"}, {"format"}]``."""

    name = "upbit"
    path = "/websocket/v1"

    def render_ticker(self, md: MarketData, code: str) -> dict:
        t = md.ticker(code)
        state = md.tickers[code]
        t.pop("market")
        t.pop("trade_date_kst", None)
        t.pop("trade_time_kst", None)
        msg = {"type": "ticker", "code": code, **t}
        msg.update(
            ask_bid="ASK" if state.last_side == "ask" else "BID",
            acc_ask_volume=num(state.acc_ask_volume),
            acc_bid_volume=num(state.acc_bid_volume),
            market_state="ACTIVE",
            is_trading_suspended=False,
            delisting_date=None,
            market_warning="NONE",
            stream_type="REALTIME",
        )
        return msg

    def render_trade(self, md: MarketData, trade: Trade) -> dict:
        date, clock = utc_parts(trade.ts)
        prev = md.tickers[trade.market].prev_close
        book = md.engine.books[trade.market]
        ask = book.depth("ask", 1)
        bid = book.depth("bid", 1)
        diff = trade.price - prev
        return {
            "type": "trade",
            "code": trade.market,
            "trade_price": num(trade.price),
            "trade_volume": num(trade.volume),
            "ask_bid": "ASK" if trade.taker_side == "ask" else "BID",
            "prev_closing_price": num(prev),
            "change": "RISE" if diff > 0 else "FALL" if diff < 0 else "EVEN",
            "change_price": num(abs(diff)),
            "trade_date": date,
            "trade_time": clock,
            "trade_timestamp": int(trade.ts * 1000),
            "timestamp": int(trade.ts * 1000),
            "sequential_id": trade.sequential_id,
            "best_ask_price": num(ask[0][0]) if ask else 0,
            "best_ask_size": num(ask[0][1]) if ask else 0,
            "best_bid_price": num(bid[0][0]) if bid else 0,
            "best_bid_size": num(bid[0][1]) if bid else 0,
            "stream_type": "REALTIME",
        }

    def render_orderbook(self, md: MarketData, code: str) -> dict:
        ob = dict(md.orderbook(code))
        ob.pop("market")
        return {"type": "orderbook", "code": code, **ob, "stream_type": "REALTIME"}

    def encode(self, kind: str, message: dict, fmt: str) -> bytes:
        body = simplify(kind, message) if fmt == "SIMPLE" else message
        return json.dumps(body, ensure_ascii=False).encode()

    def encode_snapshot(self, kind: str, message: dict, fmt: str) -> bytes:
        snap = {**message, "stream_type": "SNAPSHOT"}
        if kind == "ticker":
            snap["timestamp"] = int(time.time() * 1000)
        return self.encode(kind, snap, fmt)

    def parse(self, text: str, markets: set[str]) -> WsCommand:
        _, types, fmt = parse_request(text, markets)
        return WsCommand(types=types, fmt=fmt)

    def error(self, exc: RequestError) -> bytes:
        return json.dumps({"error": {"name": exc.name, "message": exc.message}}).encode()


def upbit_websocket(ping_timeout_s: float = 0.0) -> UpbitWebSocket:
    """Upbit's protocol (no keep-alive timeout is modelled for it)."""
    return UpbitWebSocket()
