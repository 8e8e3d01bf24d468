"""The core's market-data feed: renders ticker, trade and orderbook messages (in the dialect's
shape) at the configured cadence and hands each one to the local subscribers and to every
gateway process (sinks).

Trades are pushed as they print; tickers and orderbooks at most once per market per interval
(the latest state), so the cost of a busy tape does not multiply by the number of subscribers.
"""

from __future__ import annotations

from collections.abc import Callable

from surgeproof.exchange.engine import Trade
from surgeproof.exchange.marketdata import MarketData
from surgeproof.exchange.wsfanout import Fanout
from surgeproof.exchange.wsprotocol import WsProtocol

__all__ = ["MarketDataSink", "WsHub"]

#: Receives every realtime message the core renders: (type, code, message in DEFAULT names).
MarketDataSink = Callable[[str, str, dict], None]


class WsHub:
    """All subscribers; renders market-data messages and fans them out."""

    def __init__(
        self,
        marketdata: MarketData,
        protocol: WsProtocol,
        ticker_interval_s: float = 0.0,
        orderbook_interval_s: float = 0.0,
    ) -> None:
        self.md = marketdata
        self.protocol = protocol
        self.fanout = Fanout(protocol)
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

    # -- message bodies (in the dialect's shape) -------------------------------------------

    def ticker_message(self, code: str) -> dict:
        return self.protocol.render_ticker(self.md, code)

    def trade_message(self, trade: Trade) -> dict:
        return self.protocol.render_trade(self.md, trade)

    def orderbook_message(self, code: str) -> dict:
        return self.protocol.render_orderbook(self.md, code)

    def snapshot(self, kind: str, code: str) -> dict | None:
        """The current message of a stream (what a new subscriber gets first)."""
        if kind == "ticker":
            return self.ticker_message(code)
        if kind == "orderbook":
            return self.orderbook_message(code)
        tape = self.md.engine.tape[code]
        return self.trade_message(tape[-1]) if tape else None

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
        self._publish("trade", trade.market, lambda: self.trade_message(trade))
        if self.ticker_interval_s > 0:
            self._dirty_tickers.add(trade.market)
        else:
            code = trade.market
            self._publish("ticker", code, lambda: self.ticker_message(code))

    def tick(self, now: float) -> None:
        """Called by the clock: push due tickers and changed orderbooks."""
        if self._dirty_tickers and now - self._last_tickers >= self.ticker_interval_s:
            self._last_tickers = now
            dirty, self._dirty_tickers = self._dirty_tickers, set()
            for code in sorted(dirty):
                self._publish("ticker", code, lambda c=code: self.ticker_message(c))
        if now - self._last_books >= self.orderbook_interval_s:
            self._last_books = now
            self.publish_orderbooks()

    def publish_orderbooks(self) -> None:
        """Push every orderbook that changed since the last push."""
        for code, book in self.md.engine.books.items():
            if self._book_versions.get(code) == book.version:
                continue
            self._book_versions[code] = book.version
            self._publish("orderbook", code, lambda c=code: self.orderbook_message(c))
