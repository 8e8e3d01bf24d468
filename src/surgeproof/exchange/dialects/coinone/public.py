"""Coinone's public API v2: markets, tickers, order book, recent trades, in its shapes
(amounts as decimal strings, currencies as path segments ``/{quote}/{target}``)."""

from __future__ import annotations

import time

from aiohttp import web

from surgeproof.exchange import operations as ops
from surgeproof.exchange.dialects.coinone.answers import respond, success
from surgeproof.exchange.engine import MAX_TOTAL_KRW, MIN_TOTAL_KRW
from surgeproof.exchange.errors import ApiError
from surgeproof.exchange.marketdata import MarketData
from surgeproof.exchange.money import fmt, tick_units
from surgeproof.exchange.routes import STATE

#: Order-book depths Coinone serves (``size``), the default first.
BOOK_SIZES = (15, 5, 10, 16)


def market_code(request: web.Request, quote: str | None = None, target: str | None = None) -> str:
    """``KRW-BTC`` from the path's ``{quote_currency}/{target_currency}`` (any case)."""
    quote = (quote or request.match_info.get("quote_currency", "")).upper()
    target = (target or request.match_info.get("target_currency", "")).upper()
    code = f"{quote}-{target}"
    if code not in request.app[STATE].engine.books:
        raise ApiError(404, "market_does_not_exist", f"{quote}/{target} is not traded here")
    return code


def _quote_markets(request: web.Request) -> list[str]:
    quote = request.match_info.get("quote_currency", "").upper()
    codes = [m for m in request.app[STATE].engine.books if m.split("-", 1)[0] == quote]
    if not codes:
        raise ApiError(404, "market_does_not_exist", f"no market is quoted in {quote}")
    return codes


def tick_id(ts: float) -> str:
    """Coinone's tick ids are the millisecond time and a three-digit sequence."""
    return f"{int(ts * 1000)}001"


def best(md: MarketData, code: str, side: str) -> tuple[int, int] | None:
    levels = md.engine.books[code].depth(side, 1)
    return levels[0] if levels else None


def ticker_row(md: MarketData, code: str) -> dict:
    t = md.tickers[code]
    quote, target = code.split("-", 1)
    ask, bid = best(md, code, "ask"), best(md, code, "bid")
    return {
        "quote_currency": quote.lower(),
        "target_currency": target.lower(),
        "timestamp": int(t.last_ts * 1000),
        "high": fmt(t.high),
        "low": fmt(t.low),
        "first": fmt(t.open),
        "last": fmt(t.last),
        "quote_volume": fmt(t.acc_price),
        "target_volume": fmt(t.acc_volume),
        "best_asks": [{"price": fmt(ask[0]), "qty": fmt(ask[1])}] if ask else [],
        "best_bids": [{"price": fmt(bid[0]), "qty": fmt(bid[1])}] if bid else [],
        "id": tick_id(t.last_ts),
        "yesterday_high": fmt(t.prev_close),
        "yesterday_low": fmt(t.prev_close),
        "yesterday_first": fmt(t.prev_close),
        "yesterday_last": fmt(t.prev_close),
        "yesterday_quote_volume": "0.0",
        "yesterday_target_volume": "0.0",
    }


async def tickers(request: web.Request) -> web.Response:
    md = request.app[STATE].marketdata
    if "target_currency" in request.match_info:
        codes = [market_code(request)]
    else:
        codes = _quote_markets(request)
    return respond(
        success(server_time=int(time.time() * 1000), tickers=[ticker_row(md, c) for c in codes])
    )


def book_side(md: MarketData, code: str, side: str, size: int) -> list[dict]:
    return [{"price": fmt(p), "qty": fmt(q)} for p, q in md.engine.books[code].depth(side, size)]


async def orderbook(request: web.Request) -> web.Response:
    state = request.app[STATE]
    code = market_code(request)
    size = ops.count(request.query.get("size"), "size", 15, 1, 16)
    if size not in BOOK_SIZES:
        raise ApiError(400, "validation_error", "size must be 5, 10, 15 or 16")
    md = state.marketdata
    quote, target = code.split("-", 1)
    now = time.time()
    return respond(
        success(
            timestamp=int(now * 1000),
            id=tick_id(now),
            quote_currency=quote,
            target_currency=target,
            order_book_unit="0.0",
            bids=book_side(md, code, "bid", size),
            asks=book_side(md, code, "ask", size),
        )
    )


def trade_row(trade) -> dict:
    return {
        "id": f"{int(trade.ts * 1000)}{trade.sequential_id % 1000:03d}",
        "timestamp": int(trade.ts * 1000),
        "price": fmt(trade.price),
        "qty": fmt(trade.volume),
        # A buyer took a resting ask: the seller was the maker.
        "is_seller_maker": trade.taker_side == "bid",
    }


async def trades(request: web.Request) -> web.Response:
    state = request.app[STATE]
    code = market_code(request)
    size = ops.count(request.query.get("size"), "size", 200, 1, 200)
    tape = list(state.engine.tape[code])[-size:][::-1]
    quote, target = code.split("-", 1)
    return respond(
        success(
            server_time=int(time.time() * 1000),
            quote_currency=quote,
            target_currency=target,
            transactions=[trade_row(t) for t in tape],
        )
    )


async def markets(request: web.Request) -> web.Response:
    state = request.app[STATE]
    rows = []
    for code in _quote_markets(request):
        quote, target = code.split("-", 1)
        price = state.marketdata.tickers[code].last
        rows.append(
            {
                "quote_currency": quote,
                "target_currency": target,
                "price_unit": fmt(tick_units(price)),
                "qty_unit": "0.00000001",
                "max_order_amount": fmt(MAX_TOTAL_KRW),
                "max_price": fmt(price * 10),
                "max_qty": "1000000000.0",
                "min_order_amount": fmt(MIN_TOTAL_KRW),
                "min_price": fmt(tick_units(price)),
                "min_qty": "0.00000001",
                "order_book_units": ["0.0"],
                "maintenance_status": 0,
                "trade_status": 1,
                "order_types": ["limit", "market"],
            }
        )
    return respond(success(server_time=int(time.time() * 1000), markets=rows))


def _currency_row(state, symbol: str) -> dict:
    names = {m.split("-", 1)[1]: spec for m, spec in state.config.markets.items()}
    spec = names.get(symbol, {})
    return {
        "name": spec.get("english_name", "Korean Won" if symbol == "KRW" else symbol),
        "symbol": symbol,
        "deposit_status": "normal",
        "withdraw_status": "normal",
        "deposit_confirm_count": 1,
        "max_precision": 8,
        "deposit_fee": "0.0",
        "withdrawal_min_amount": "0.0",
        "withdrawal_fee": "0.0",
    }


def _symbols(state) -> list[str]:
    quotes = {m.split("-", 1)[0] for m in state.engine.books}
    targets = [m.split("-", 1)[1] for m in state.engine.books]
    return [*sorted(quotes), *targets]


async def currencies(request: web.Request) -> web.Response:
    state = request.app[STATE]
    wanted = request.match_info.get("currency")
    symbols = _symbols(state)
    if wanted is not None:
        if wanted.upper() not in symbols:
            raise ApiError(404, "market_does_not_exist", f"{wanted} is not traded here")
        symbols = [wanted.upper()]
    rows = [_currency_row(state, s) for s in symbols]
    return respond(success(server_time=int(time.time() * 1000), currencies=rows))
