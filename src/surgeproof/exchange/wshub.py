"""The core's market-data feed: renders ticker, trade and orderbook messages at the configured
cadence and hands each one to the local subscribers and to every gateway process (sinks).

Trades are pushed as they print; tickers and orderbooks at most once per market per interval
(the latest state), so the cost of a busy tape does not multiply by the number of subscribers.
"""

from __future__ import annotations

from collections.abc import Callable

from surgeproof.exchange.engine import Trade
from surgeproof.exchange.marketdata import MarketData
from surgeproof.exchange.money import num
from surgeproof.exchange.orders import utc_parts
from surgeproof.exchange.wsfanout import Fanout
from surgeproof.exchange.wsprotocol import TYPES, encode, simplify

__all__ = ["TYPES", "MarketDataSink", "WsHub", "simplify"]

#: Receives every realtime message the core renders: (type, code, message in DEFAULT names).
MarketDataSink = Callable[[str, str, dict], None]


class WsHub:
    """All subscribers; renders market-data messages and fans them out."""

    def __init__(
        self,
        marketdata: MarketData,
        ticker_interval_s: float = 0.0,
        orderbook_interval_s: float = 0.0,
    ) -> None:
        self.md = marketdata
        self.fanout = Fanout()
        self.sinks: list[MarketDataSink] = []
        self.ticker_interval_s = ticker_interval_s
        self.orderbook_interval_s = orderbook_interval_s
        self._book_versions: dict[str, int] = {}
        self._dirty_tickers: set[str] = set()
        self._last_tickers = 0.0
        self._last_books = 0.0

    @property
    def connections(self) -> int:
        """WebSocket connections served by this process (not the gateways)."""
        return self.fanout.connections

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

    def snapshot(self, kind: str, code: str) -> dict | None:
        """The current message of a stream (what a new subscriber gets first)."""
        if kind == "ticker":
            return self.ticker_message(code, "SNAPSHOT")
        if kind == "orderbook":
            return self.orderbook_message(code, "SNAPSHOT")
        tape = self.md.engine.tape[code]
        return self.trade_message(tape[-1], "SNAPSHOT") if tape else None

    @staticmethod
    def encode(kind: str, message: dict, fmt: str) -> bytes:
        return encode(kind, message, fmt)

    # -- publication -----------------------------------------------------------------------

    def _publish(self, kind: str, code: str, message_of: Callable[[], dict]) -> None:
        local = self.fanout.wants(kind, code)
        if not local and not self.sinks:
            return
        message = message_of()
        if local:
            self.fanout.publish(kind, code, message)
        for sink in self.sinks:
            sink(kind, code, message)

    def on_trade(self, trade: Trade) -> None:
        """Engine listener: push the trade now; the ticker now or at the next interval."""
        self._publish("trade", trade.market, lambda: self.trade_message(trade, "REALTIME"))
        if self.ticker_interval_s > 0:
            self._dirty_tickers.add(trade.market)
        else:
            code = trade.market
            self._publish("ticker", code, lambda: self.ticker_message(code, "REALTIME"))

    def tick(self, now: float) -> None:
        """Called by the clock: push due tickers and changed orderbooks."""
        if self._dirty_tickers and now - self._last_tickers >= self.ticker_interval_s:
            self._last_tickers = now
            dirty, self._dirty_tickers = self._dirty_tickers, set()
            for code in sorted(dirty):
                self._publish("ticker", code, lambda c=code: self.ticker_message(c, "REALTIME"))
        if now - self._last_books >= self.orderbook_interval_s:
            self._last_books = now
            self.publish_orderbooks()

    def publish_orderbooks(self) -> None:
        """Push every orderbook that changed since the last push."""
        for code, book in self.md.engine.books.items():
            if self._book_versions.get(code) == book.version:
                continue
            self._book_versions[code] = book.version
            self._publish("orderbook", code, lambda c=code: self.orderbook_message(c, "REALTIME"))
