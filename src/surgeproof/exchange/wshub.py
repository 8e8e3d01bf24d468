"""WebSocket subscriptions and fan-out of ticker, trade and orderbook messages.

Each message is rendered once per format and queued to every subscriber; a subscriber whose
queue is full (a slow reader) loses messages rather than slowing the exchange down.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from surgeproof.exchange.engine import Trade
from surgeproof.exchange.marketdata import MarketData
from surgeproof.exchange.money import num
from surgeproof.exchange.orders import utc_parts

TYPES = ("ticker", "trade", "orderbook")

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


@dataclass(eq=False)  # identity: one per connection, kept in a set
class Subscriber:
    """One WebSocket connection's subscription and outgoing queue."""

    queue: asyncio.Queue[bytes]
    fmt: str = "DEFAULT"
    codes: dict[str, set[str]] = field(default_factory=dict)  # type -> codes (realtime)
    dropped: int = 0

    def send(self, data: bytes) -> None:
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.dropped += 1


class WsHub:
    """All subscribers; renders market-data messages and fans them out."""

    def __init__(self, marketdata: MarketData) -> None:
        self.md = marketdata
        self.subscribers: set[Subscriber] = set()
        self._book_versions: dict[str, int] = {}

    @property
    def connections(self) -> int:
        return len(self.subscribers)

    # -- message bodies --------------------------------------------------------------------

    def ticker_message(self, code: str, stream: str) -> dict:
        t = self.md.ticker(code)
        state = self.md.tickers[code]
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
            stream_type=stream,
        )
        return msg

    def trade_message(self, trade: Trade, stream: str) -> dict:
        date, clock = utc_parts(trade.ts)
        prev = self.md.tickers[trade.market].prev_close
        book = self.md.engine.books[trade.market]
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
            "stream_type": stream,
        }

    def orderbook_message(self, code: str, stream: str) -> dict:
        ob = dict(self.md.orderbook(code))
        ob.pop("market")
        return {"type": "orderbook", "code": code, **ob, "stream_type": stream}

    @staticmethod
    def encode(kind: str, message: dict, fmt: str) -> bytes:
        body = simplify(kind, message) if fmt == "SIMPLE" else message
        return json.dumps(body, ensure_ascii=False).encode()

    # -- fan-out ---------------------------------------------------------------------------

    def _fan_out(self, kind: str, code: str, message_of) -> None:
        rendered: dict[str, bytes] = {}
        for sub in self.subscribers:
            codes = sub.codes.get(kind)
            if codes is None or code not in codes:
                continue
            data = rendered.get(sub.fmt)
            if data is None:
                data = rendered[sub.fmt] = self.encode(kind, message_of(), sub.fmt)
            sub.send(data)

    def on_trade(self, trade: Trade) -> None:
        """Engine listener: push the trade and the new ticker."""
        if not self.subscribers:
            return
        self._fan_out("trade", trade.market, lambda: self.trade_message(trade, "REALTIME"))
        self._fan_out("ticker", trade.market, lambda: self.ticker_message(trade.market, "REALTIME"))

    def publish_orderbooks(self) -> None:
        """Push every orderbook that changed since the last push."""
        for code, book in self.md.engine.books.items():
            if self._book_versions.get(code) == book.version:
                continue
            self._book_versions[code] = book.version
            if self.subscribers:
                self._fan_out(
                    "orderbook", code, lambda c=code: self.orderbook_message(c, "REALTIME")
                )
