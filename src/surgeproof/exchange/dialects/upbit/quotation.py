"""Quotation endpoints (public market data), Upbit API v1 shapes (Bithumb serves the same)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from aiohttp import web

from surgeproof.exchange import operations as ops
from surgeproof.exchange.decimal_text import whole_text
from surgeproof.exchange.errors import ApiError, validation
from surgeproof.exchange.marketdata import CANDLE_UNITS
from surgeproof.exchange.routes import STATE

JSON = "application/json; charset=utf-8"


def _not_found() -> ApiError:
    # Upbit answers an unknown market code on quotation endpoints this way.
    return ApiError(404, 404, "Code not found")  # type: ignore[arg-type]


def _body(data: bytes) -> web.Response:
    return web.Response(body=data, headers={"Content-Type": JSON})


def _count(request: web.Request, default: int, cap: int) -> int:
    return ops.count(request.query.get("count"), "count", default, 1, cap)


def _market(request: web.Request) -> str:
    market = request.query.get("market")
    if not market:
        raise validation("market is required")
    if market not in request.app[STATE].marketdata.tickers:
        raise _not_found()
    return market


async def market_all(request: web.Request) -> web.Response:
    md = request.app[STATE].marketdata
    details = request.query.get("isDetails", request.query.get("is_details", "false"))
    return _body(md.market_all_details if details.lower() == "true" else md.market_all)


async def ticker(request: web.Request) -> web.Response:
    markets = request.query.get("markets")
    if not markets:
        raise validation("markets is required")
    body = request.app[STATE].marketdata.ticker_body(markets)
    if body is None:
        raise _not_found()
    return _body(body)


async def orderbook(request: web.Request) -> web.Response:
    markets = request.query.get("markets")
    if not markets:
        raise validation("markets is required")
    body = request.app[STATE].marketdata.orderbook_body(markets)
    if body is None:
        raise _not_found()
    return _body(body)


async def candles_minutes(request: web.Request) -> web.Response:
    unit = whole_text(request.match_info["unit"])
    if unit not in CANDLE_UNITS:
        raise validation(f"unit must be one of {', '.join(map(str, CANDLE_UNITS))}")
    market = _market(request)
    count = _count(request, 1, 200)
    to = None
    raw_to = request.query.get("to")
    if raw_to:
        if len(raw_to) > 40 or not raw_to.isascii():
            raise validation("to must be an ISO 8601 time")
        try:
            parsed = datetime.fromisoformat(raw_to.replace(" ", "T").replace("Z", "+00:00"))
        except ValueError:
            raise validation("to must be an ISO 8601 time") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        to = parsed.timestamp()
    md = request.app[STATE].marketdata
    return _body(md.candles_body(market, unit, count, to))


async def trades_ticks(request: web.Request) -> web.Response:
    market = _market(request)
    count = _count(request, 1, 500)
    md = request.app[STATE].marketdata
    return _body(json.dumps(md.trades(market, count)).encode())
