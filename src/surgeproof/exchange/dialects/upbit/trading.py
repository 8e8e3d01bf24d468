"""Upbit's exchange endpoints (private, JWT): accounts, order chance, order entry, query, cancel.

Bithumb's Upbit-shaped ``/v1`` private endpoints are these handlers too; ``order_id`` renders
the id its clients see (Upbit: the engine's uuid; Bithumb: its own order-number format).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from aiohttp import web

from surgeproof.exchange import operations as ops
from surgeproof.exchange.engine import MAX_TOTAL_KRW, MIN_TOTAL_KRW
from surgeproof.exchange.money import fmt
from surgeproof.exchange.orders import Order
from surgeproof.exchange.params import params_of
from surgeproof.exchange.routes import ACCOUNT, STATE

JSON = "application/json; charset=utf-8"


def json_response(data: object, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(data, ensure_ascii=False).encode(),
        status=status,
        headers={"Content-Type": JSON},
    )


def account_key(request: web.Request) -> str:
    return request[ACCOUNT].access_key


def account_row(asset: str, available: int, locked: int, avg_buy: int) -> dict:
    return {
        "currency": asset,
        "balance": fmt(available),
        "locked": fmt(locked),
        "avg_buy_price": fmt(avg_buy) if asset != "KRW" else "0",
        "avg_buy_price_modified": False,
        "unit_currency": "KRW",
    }


def _row_of(state, key: str, asset: str) -> dict:
    bal = state.ledger.balance(key, asset)
    return account_row(asset, bal.available, bal.locked, state.ledger.avg_buy.get((key, asset), 0))


async def accounts(request: web.Request) -> web.Response:
    state = request.app[STATE]
    rows = [
        account_row(asset, bal.available, bal.locked, avg)
        for asset, bal, avg in ops.balances(state, account_key(request))
    ]
    return json_response(rows)


async def order_chance(request: web.Request) -> web.Response:
    state = request.app[STATE]
    market = ops.market_of(state, params_of(request).get("market"))
    key = account_key(request)
    quote, base = market.split("-", 1)
    fee = f"{state.config.fee_bp / 10_000:.4f}"
    return json_response(
        {
            "bid_fee": fee,
            "ask_fee": fee,
            "maker_bid_fee": fee,
            "maker_ask_fee": fee,
            "market": {
                "id": market,
                "name": f"{base}/{quote}",
                "order_types": ["limit"],
                "order_sides": ["ask", "bid"],
                "bid_types": ["limit", "price"],
                "ask_types": ["limit", "market"],
                "bid": {"currency": quote, "min_total": fmt(MIN_TOTAL_KRW)},
                "ask": {"currency": quote, "min_total": fmt(MIN_TOTAL_KRW)},
                "max_total": fmt(MAX_TOTAL_KRW),
                "state": "active",
            },
            "bid_account": _row_of(state, key, quote),
            "ask_account": _row_of(state, key, base),
        }
    )


class OrderEndpoints:
    """The ``/v1/order(s)`` handlers, rendering orders with a dialect's order id."""

    def __init__(self, order_id: Callable[[Order], str], lookup_id: Callable[[str], str | None]):
        self.order_id = order_id  # Order -> the id clients see
        self.lookup_id = lookup_id  # the id clients send -> the engine's uuid (None: unknown)

    def render(self, order: Order, with_trades: bool = False) -> dict:
        out = order.to_json(with_trades=with_trades)
        out["uuid"] = self.order_id(order)
        return out

    def _lookup(self, request: web.Request) -> Order:
        state = request.app[STATE]
        params = params_of(request)
        uuid, identifier = params.get("uuid"), params.get("identifier")
        if isinstance(uuid, str) and uuid:
            engine_uuid = self.lookup_id(uuid)
            return ops.find(state, account_key(request), uuid=engine_uuid or "-")
        if isinstance(identifier, str) and identifier:
            return ops.find(state, account_key(request), identifier=identifier)
        return ops.find(state, account_key(request))

    async def create(self, request: web.Request) -> web.Response:
        state = request.app[STATE]
        params = params_of(request)
        req = ops.order_request(
            state,
            params.get("market"),
            params.get("side"),
            params.get("ord_type"),
            params.get("price"),
            params.get("volume"),
            params.get("identifier"),
        )
        order = ops.place(state, account_key(request), req)
        return json_response(self.render(order), status=201)

    async def get(self, request: web.Request) -> web.Response:
        return json_response(self.render(self._lookup(request), with_trades=True))

    async def cancel(self, request: web.Request) -> web.Response:
        order = self._lookup(request)
        return json_response(self.render(ops.cancel(request.app[STATE], order)))

    async def list(self, request: web.Request) -> web.Response:
        state = request.app[STATE]
        params = params_of(request)
        market = params.get("market")
        if market is not None:
            market = ops.market_of(state, market)
        wanted = params.get("state", "wait")
        limit = ops.count(params.get("limit"), "limit", 100, 1, 100)
        found = ops.orders(state, account_key(request), wanted, market)
        return json_response([self.render(o) for o in found[:limit]])


#: Upbit shows the engine's uuid.
UPBIT_ORDERS = OrderEndpoints(order_id=lambda o: o.uuid, lookup_id=lambda u: u)
