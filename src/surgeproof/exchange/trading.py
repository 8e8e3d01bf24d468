"""Exchange endpoints (private, JWT): accounts, order chance, order entry, query, cancel."""

from __future__ import annotations

import json
import time

from aiohttp import web

from surgeproof.exchange.accounts import Account
from surgeproof.exchange.engine import MAX_TOTAL_KRW, MIN_TOTAL_KRW
from surgeproof.exchange.errors import ApiError, validation
from surgeproof.exchange.money import MAX_AMOUNT, fmt, parse_amount
from surgeproof.exchange.routes import ACCOUNT, BODY, STATE, spec

JSON = "application/json; charset=utf-8"
ORDER_TYPES = ("limit", "price", "market")


def _json(data: object, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(data, ensure_ascii=False).encode(),
        status=status,
        headers={"Content-Type": JSON},
    )


def _account(request: web.Request) -> Account:
    return request[ACCOUNT]


def _account_row(state, key: str, asset: str) -> dict:
    bal = state.ledger.balance(key, asset)
    return {
        "currency": asset,
        "balance": fmt(bal.available),
        "locked": fmt(bal.locked),
        "avg_buy_price": fmt(state.ledger.avg_buy.get((key, asset), 0)) if asset != "KRW" else "0",
        "avg_buy_price_modified": False,
        "unit_currency": "KRW",
    }


@spec("account", "default", private=True)
async def accounts(request: web.Request) -> web.Response:
    state = request.app[STATE]
    key = _account(request).access_key
    assets = state.ledger.balances.get(key, {})
    rows = [_account_row(state, key, a) for a in sorted(assets, key=lambda a: (a != "KRW", a))]
    return _json(rows)


@spec("account", "default", private=True)
async def order_chance(request: web.Request) -> web.Response:
    state = request.app[STATE]
    market = request.query.get("market")
    if not market:
        raise validation("market is required")
    if market not in state.engine.books:
        raise ApiError(404, "market_does_not_exist", f"market {market} does not exist")
    key = _account(request).access_key
    quote, base = market.split("-", 1)
    fee = f"{state.config.fee_bp / 10_000:.4f}"
    return _json(
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
            "bid_account": _account_row(state, key, quote),
            "ask_account": _account_row(state, key, base),
        }
    )


def _amount(body: dict, name: str) -> int | None:
    raw = body.get(name)
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise validation(f"{name} must be a decimal number")
    units = parse_amount(raw)
    if units is None:
        raise validation(f"{name} must be a decimal number with at most 8 decimal places")
    if units <= 0:
        raise validation(f"{name} must be positive")
    if units > MAX_AMOUNT:
        raise validation(f"{name} is too large")
    return units


@spec("orders", "order", private=True)
async def create_order(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = request[BODY]
    if not isinstance(body, dict):
        raise validation("the request body must be a JSON object")
    market = body.get("market")
    side = body.get("side")
    ord_type = body.get("ord_type")
    if not isinstance(market, str) or not market:
        raise validation("market is required")
    if market not in state.engine.books:
        raise ApiError(404, "market_does_not_exist", f"market {market} does not exist")
    if side not in ("bid", "ask"):
        raise validation("side must be bid or ask")
    if ord_type not in ORDER_TYPES:
        raise validation("ord_type must be limit, price or market")
    price = _amount(body, "price")
    volume = _amount(body, "volume")
    identifier = body.get("identifier")
    if identifier is not None and not isinstance(identifier, str):
        raise validation("identifier must be a string")
    ref = state.prices.refs[market].units()
    order = state.engine.place(
        _account(request).access_key, market, side, ord_type, price, volume, identifier, ref
    )
    # Acknowledged from here on: the order is in the store before the 201 leaves.
    state.acked.append(order.uuid)
    state.metrics.at(int(time.time())).orders_acked += 1
    return _json(order.to_json(), status=201)


def _lookup(request: web.Request):
    state = request.app[STATE]
    key = _account(request).access_key
    uuid = request.query.get("uuid")
    identifier = request.query.get("identifier")
    if uuid:
        return state.engine.get(key, uuid)
    if identifier:
        for order in state.engine.orders.values():
            if order.account == key and order.identifier == identifier:
                return order
        raise ApiError(404, "order_not_found", "order not found")
    raise validation("uuid or identifier is required")


@spec("orders", "default", private=True)
async def get_order(request: web.Request) -> web.Response:
    return _json(_lookup(request).to_json(with_trades=True))


@spec("orders", "default", private=True)
async def cancel_order(request: web.Request) -> web.Response:
    order = _lookup(request)
    state = request.app[STATE]
    return _json(state.engine.cancel(order.account, order.uuid).to_json())


@spec("orders", "default", private=True)
async def list_orders(request: web.Request) -> web.Response:
    state = request.app[STATE]
    key = _account(request).access_key
    market = request.query.get("market")
    if market is not None and market not in state.engine.books:
        raise ApiError(404, "market_does_not_exist", f"market {market} does not exist")
    wanted = request.query.get("state", "wait")
    if wanted not in ("wait", "watch", "done", "cancel"):
        raise validation("state must be wait, watch, done or cancel")
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        raise validation("limit must be a whole number") from None
    if not 1 <= limit <= 100:
        raise validation("limit must be between 1 and 100")
    if wanted == "wait":
        orders = state.engine.open_orders(key, market)
    elif wanted == "watch":
        orders = []  # no stop orders in the reference exchange
    else:
        orders = sorted(
            (
                o
                for o in state.engine.orders.values()
                if o.account == key and o.state == wanted and (market is None or o.market == market)
            ),
            key=lambda o: o.seq,
            reverse=True,
        )
    return _json([o.to_json() for o in orders[:limit]])


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/accounts", accounts)
    app.router.add_get("/v1/orders/chance", order_chance)
    app.router.add_post("/v1/orders", create_order)
    app.router.add_get("/v1/order", get_order)
    app.router.add_delete("/v1/order", cancel_order)
    app.router.add_get("/v1/orders", list_orders)
