"""Quotation data: ticker stats, 1-minute candles, and cached JSON bodies for the hot paths.

Ticker and orderbook bodies are rendered once per change and served as bytes, so a surge of
market-data polling costs the exchange a dictionary lookup, not a JSON encode per request.
"""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from surgeproof.exchange.book import Book
from surgeproof.exchange.engine import Engine, Trade
from surgeproof.exchange.money import num
from surgeproof.exchange.orders import KST, utc_parts

ORDERBOOK_UNITS = 15
CANDLE_UNITS = (1, 3, 5, 10, 15, 30, 60, 240)


@dataclass
class Candle:
    minute: int  # unix minute (ts // 60)
    open: int
    high: int
    low: int
    close: int
    acc_price: int = 0
    acc_volume: int = 0
    last_ts: float = 0.0


@dataclass
class TickerState:
    market: str
    prev_close: int
    open: int
    high: int
    low: int
    last: int
    last_volume: int = 0
    last_side: str = "bid"
    last_ts: float = field(default_factory=time.time)
    acc_price: int = 0
    acc_volume: int = 0
    acc_ask_volume: int = 0
    acc_bid_volume: int = 0
    candles: deque[Candle] = field(default_factory=lambda: deque(maxlen=24 * 60))
    candle_version: int = 0


def _change(last: int, prev: int) -> tuple[str, int, float]:
    diff = last - prev
    rate = diff / prev if prev else 0.0
    return ("RISE" if diff > 0 else "FALL" if diff < 0 else "EVEN"), diff, rate


class MarketData:
    """Per-market ticker state fed by the trade tape, and the cached quotation bodies."""

    def __init__(self, engine: Engine, start_prices: dict[str, int], names: dict[str, dict]):
        self.engine = engine
        self.names = names
        self.tickers = {
            m: TickerState(m, prev_close=p, open=p, high=p, low=p, last=p)
            for m, p in start_prices.items()
        }
        self._ticker_cache: dict[str, bytes] = {}
        self._orderbook_cache: dict[str, tuple[int, dict]] = {}
        self._orderbook_body_cache: dict[str, tuple[tuple[int, ...], bytes]] = {}
        self._candle_cache: dict[tuple[str, int, int], tuple[int, bytes]] = {}
        engine.on_trade.append(self.record)
        self.market_all = json.dumps(
            [
                {
                    "market": m,
                    "korean_name": n.get("korean_name", m),
                    "english_name": n.get("english_name", m),
                }
                for m, n in names.items()
            ]
        ).encode()
        self.market_all_details = json.dumps(
            [
                {
                    "market": m,
                    "korean_name": n.get("korean_name", m),
                    "english_name": n.get("english_name", m),
                    "market_warning": "NONE",
                    "market_event": {
                        "warning": False,
                        "caution": {
                            "PRICE_FLUCTUATIONS": False,
                            "TRADING_VOLUME_SOARING": False,
                            "DEPOSIT_AMOUNT_SOARING": False,
                            "GLOBAL_PRICE_DIFFERENCES": False,
                            "CONCENTRATION_OF_SMALL_ACCOUNTS": False,
                        },
                    },
                }
                for m, n in names.items()
            ]
        ).encode()

    def record(self, trade: Trade) -> None:
        """Fold one trade into the ticker and the current minute's candle."""
        t = self.tickers[trade.market]
        t.last, t.last_volume, t.last_ts = trade.price, trade.volume, trade.ts
        t.last_side = trade.taker_side
        t.high, t.low = max(t.high, trade.price), min(t.low, trade.price)
        funds = trade.price * trade.volume // 10**8
        t.acc_price += funds
        t.acc_volume += trade.volume
        if trade.taker_side == "ask":
            t.acc_ask_volume += trade.volume
        else:
            t.acc_bid_volume += trade.volume
        minute = int(trade.ts // 60)
        c = t.candles[-1] if t.candles else None
        if c is None or c.minute != minute:
            c = Candle(minute, trade.price, trade.price, trade.price, trade.price)
            t.candles.append(c)
        c.high, c.low, c.close = max(c.high, trade.price), min(c.low, trade.price), trade.price
        c.acc_price += funds
        c.acc_volume += trade.volume
        c.last_ts = trade.ts
        t.candle_version += 1
        self._ticker_cache.clear()

    def seed_candles(self, market: str, candles: list[Candle]) -> None:
        """Put history before the first live candle (at start, before any trade)."""
        t = self.tickers[market]
        t.candles.extendleft(reversed(candles))
        t.candle_version += 1

    # -- ticker ----------------------------------------------------------------------------

    def ticker(self, market: str) -> dict:
        """One market's ticker with Upbit's REST field names."""
        t = self.tickers[market]
        change, diff, rate = _change(t.last, t.prev_close)
        date, clock = utc_parts(t.last_ts)
        kst = datetime.fromtimestamp(t.last_ts, KST)
        return {
            "market": market,
            "trade_date": date.replace("-", ""),
            "trade_time": clock.replace(":", ""),
            "trade_date_kst": kst.strftime("%Y%m%d"),
            "trade_time_kst": kst.strftime("%H%M%S"),
            "trade_timestamp": int(t.last_ts * 1000),
            "opening_price": num(t.open),
            "high_price": num(t.high),
            "low_price": num(t.low),
            "trade_price": num(t.last),
            "prev_closing_price": num(t.prev_close),
            "change": change,
            "change_price": num(abs(diff)),
            "change_rate": abs(rate),
            "signed_change_price": num(diff),
            "signed_change_rate": rate,
            "trade_volume": num(t.last_volume),
            "acc_trade_price": num(t.acc_price),
            "acc_trade_price_24h": num(t.acc_price),
            "acc_trade_volume": num(t.acc_volume),
            "acc_trade_volume_24h": num(t.acc_volume),
            "highest_52_week_price": num(max(t.high, t.prev_close)),
            "highest_52_week_date": kst.strftime("%Y-%m-%d"),
            "lowest_52_week_price": num(min(t.low, t.prev_close)),
            "lowest_52_week_date": kst.strftime("%Y-%m-%d"),
            "timestamp": int(time.time() * 1000),
        }

    def ticker_body(self, markets: str) -> bytes | None:
        """Cached JSON body of ``/v1/ticker?markets=...``; None if a market is unknown."""
        body = self._ticker_cache.get(markets)
        if body is None:
            names = [m.strip() for m in markets.split(",") if m.strip()]
            if not names or any(m not in self.tickers for m in names):
                return None
            body = json.dumps([self.ticker(m) for m in names]).encode()
            if len(self._ticker_cache) > 256:
                self._ticker_cache.clear()
            self._ticker_cache[markets] = body
        return body

    def invalidate(self) -> None:
        """Forget cached bodies (the price or the book changed)."""
        self._ticker_cache.clear()

    # -- orderbook -------------------------------------------------------------------------

    def orderbook(self, market: str, count: int = ORDERBOOK_UNITS) -> dict:
        """One market's orderbook with Upbit's field names (cached per book version)."""
        book: Book = self.engine.books[market]
        cached = self._orderbook_cache.get(market)
        if cached is not None and cached[0] == book.version and count == ORDERBOOK_UNITS:
            return cached[1]
        asks = book.depth("ask", count)
        bids = book.depth("bid", count)
        units = []
        for i in range(max(len(asks), len(bids))):
            ap, asz = asks[i] if i < len(asks) else (0, 0)
            bp, bsz = bids[i] if i < len(bids) else (0, 0)
            units.append(
                {
                    "ask_price": num(ap),
                    "bid_price": num(bp),
                    "ask_size": num(asz),
                    "bid_size": num(bsz),
                }
            )
        out = {
            "market": market,
            "timestamp": int(time.time() * 1000),
            "total_ask_size": num(sum(s for _, s in asks)),
            "total_bid_size": num(sum(s for _, s in bids)),
            "orderbook_units": units,
            "level": 0,
        }
        if count == ORDERBOOK_UNITS:
            self._orderbook_cache[market] = (book.version, out)
        return out

    def orderbook_body(self, markets: str) -> bytes | None:
        """Cached JSON body of ``/v1/orderbook?markets=...``; None if a market is unknown."""
        names = [m.strip() for m in markets.split(",") if m.strip()]
        if not names or any(m not in self.tickers for m in names):
            return None
        versions = tuple(self.engine.books[m].version for m in names)
        cached = self._orderbook_body_cache.get(markets)
        if cached is not None and cached[0] == versions:
            return cached[1]
        body = json.dumps([self.orderbook(m) for m in names]).encode()
        if len(self._orderbook_body_cache) > 256:
            self._orderbook_body_cache.clear()
        self._orderbook_body_cache[markets] = (versions, body)
        return body

    # -- trades and candles ----------------------------------------------------------------

    def trades(self, market: str, count: int) -> list[dict]:
        """The newest ``count`` trades, newest first, as ``/v1/trades/ticks`` answers."""
        tape = self.engine.tape[market]
        prev = self.tickers[market].prev_close
        out = []
        for tr in list(tape)[-count:][::-1]:
            date, clock = utc_parts(tr.ts)
            out.append(
                {
                    "market": market,
                    "trade_date_utc": date,
                    "trade_time_utc": clock,
                    "timestamp": int(tr.ts * 1000),
                    "trade_price": num(tr.price),
                    "trade_volume": num(tr.volume),
                    "prev_closing_price": num(prev),
                    "change_price": num(tr.price - prev),
                    "ask_bid": "ASK" if tr.taker_side == "ask" else "BID",
                    "sequential_id": tr.sequential_id,
                }
            )
        return out

    def candles_body(self, market: str, unit: int, count: int, to: float | None) -> bytes:
        """JSON body of the candles endpoint; the latest candles are cached until a trade."""
        if to is not None:
            return json.dumps(self.candles(market, unit, count, to)).encode()
        key = (market, unit, count)
        version = self.tickers[market].candle_version
        cached = self._candle_cache.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        body = json.dumps(self.candles(market, unit, count, None)).encode()
        if len(self._candle_cache) > 256:
            self._candle_cache.clear()
        self._candle_cache[key] = (version, body)
        return body

    def candles(self, market: str, unit: int, count: int, to: float | None) -> list[dict]:
        """Minute candles of ``unit`` minutes, newest first, ending before ``to`` (unix s)."""
        buckets: dict[int, Candle] = {}
        for c in self.tickers[market].candles:
            if to is not None and c.minute * 60 >= to:
                continue
            start = (c.minute // unit) * unit
            b = buckets.get(start)
            if b is None:
                buckets[start] = Candle(
                    start, c.open, c.high, c.low, c.close, c.acc_price, c.acc_volume, c.last_ts
                )
            else:
                b.high, b.low, b.close = max(b.high, c.high), min(b.low, c.low), c.close
                b.acc_price += c.acc_price
                b.acc_volume += c.acc_volume
                b.last_ts = c.last_ts
        out = []
        for start in sorted(buckets, reverse=True)[:count]:
            b = buckets[start]
            utc = datetime.fromtimestamp(start * 60, UTC)
            kst = utc.astimezone(KST)
            out.append(
                {
                    "market": market,
                    "candle_date_time_utc": utc.strftime("%Y-%m-%dT%H:%M:%S"),
                    "candle_date_time_kst": kst.strftime("%Y-%m-%dT%H:%M:%S"),
                    "opening_price": num(b.open),
                    "high_price": num(b.high),
                    "low_price": num(b.low),
                    "trade_price": num(b.close),
                    "timestamp": int(b.last_ts * 1000),
                    "candle_acc_trade_price": num(b.acc_price),
                    "candle_acc_trade_volume": num(b.acc_volume),
                    "unit": unit,
                }
            )
        return out
