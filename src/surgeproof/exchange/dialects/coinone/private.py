"""Coinone's private API: v2.1 (balances, order entry, cancel, order info, open orders) and the
older v2 calls ccxt's ``coinone`` class still makes (balance, query_order, cancel).

Coinone's vocabulary is translated to the engine's: ``BUY``/``SELL`` -> bid/ask; ``LIMIT`` with
``price`` and ``qty``; ``MARKET`` buys spend ``amount`` KRW and sells sell ``qty``.
"""

from __future__ import annotations

from aiohttp import web

from surgeproof.exchange import operations as ops
from surgeproof.exchange.dialects.coinone.answers import respond, success
from surgeproof.exchange.errors import ApiError, validation
from surgeproof.exchange.money import fmt
from surgeproof.exchange.orders import Order
from surgeproof.exchange.params import params_of
from surgeproof.exchange.routes import ACCOUNT, STATE

SIDES = {"BUY": "bid", "SELL": "ask", "BID": "bid", "ASK": "ask"}


def _key(request: web.Request) -> str:
    return request[ACCOUNT].access_key


def _upper(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise validation(f"{name} is required")
    return value.upper()


def _market(state, params: dict) -> str:
    quote = _upper(params.get("quote_currency"), "quote_currency")
    target = _upper(params.get("target_currency"), "target_currency")
    return ops.market_of(state, f"{quote}-{target}")


def status(order: Order) -> str:
    """Coinone's order status words."""
    filled = order.executed_volume > 0
    if order.state == "wait":
        return "partially_filled" if filled else "live"
    if order.state == "done":
        return "filled"
    return "partially_canceled" if filled else "canceled"


def _qty(order: Order) -> tuple[int, int, int]:
    """(original, executed, remaining) quantities; a market buy's original is what it got."""
    executed = order.executed_volume
    if order.ord_type == "price":
        return executed, executed, 0
    original = order.volume or 0
    remaining = order.remaining if order.state == "wait" else 0
    return original, executed, remaining


def order_row(order: Order) -> dict:
    """An order as v2.1's order info and open orders list it."""
    quote, target = order.market.split("-", 1)
    original, executed, remaining = _qty(order)
    avg = order.executed_funds * 10**8 // executed if executed else 0
    return {
        "order_id": order.uuid,
        "type": "LIMIT" if order.ord_type == "limit" else "MARKET",
        "quote_currency": quote,
        "target_currency": target,
        "status": status(order),
        "side": "BUY" if order.side == "bid" else "SELL",
        "fee": fmt(order.paid_fee),
        "fee_rate": "0.0005",
        "average_executed_price": fmt(avg),
        "ordered_at": int(order.created * 1000),
        "price": fmt(order.price) if order.price is not None else None,
        "original_qty": fmt(original),
        "executed_qty": fmt(executed),
        "canceled_qty": fmt(original - executed) if order.state == "cancel" else "0.0",
        "remain_qty": fmt(remaining),
        "user_order_id": order.identifier,
    }


def _find(request: web.Request, params: dict) -> Order:
    state = request.app[STATE]
    order_id, user_id = params.get("order_id"), params.get("user_order_id")
    if order_id and user_id:
        raise validation("order_id and user_order_id cannot be requested together")
    if isinstance(order_id, str) and order_id:
        return ops.find(state, _key(request), uuid=order_id)
    if isinstance(user_id, str) and user_id:
        return ops.find(state, _key(request), identifier=user_id)
    raise validation("order_id or user_order_id is required")


def _not_open(order: Order) -> None:
    if order.state == "done":
        raise ApiError(400, "already_traded", "Already Traded", code="116")
    if order.state == "cancel":
        raise ApiError(400, "already_canceled", "Already Canceled", code="117")


# -- balances ----------------------------------------------------------------------------


def _balance_rows(state, key: str, wanted: set[str] | None = None) -> list[dict]:
    return [
        {
            "available": fmt(bal.available),
            "limit": fmt(bal.locked),
            "average_price": fmt(avg),
            "currency": asset,
        }
        for asset, bal, avg in ops.balances(state, key)
        if wanted is None or asset in wanted
    ]


async def balance_all(request: web.Request) -> web.Response:
    return respond(success(balances=_balance_rows(request.app[STATE], _key(request))))


async def balance(request: web.Request) -> web.Response:
    currencies = params_of(request).get("currencies")
    if not isinstance(currencies, list) or not all(isinstance(c, str) for c in currencies):
        raise validation("currencies must be a list of currency symbols")
    wanted = {c.upper() for c in currencies}
    return respond(success(balances=_balance_rows(request.app[STATE], _key(request), wanted)))


async def balance_v2(request: web.Request) -> web.Response:
    """The older balance: one object per lower-case currency with ``avail`` and ``balance``."""
    state = request.app[STATE]
    out: dict = {"result": "success", "errorCode": "0", "normalWallets": []}
    for asset, bal, _ in ops.balances(state, _key(request)):
        out[asset.lower()] = {
            "avail": fmt(bal.available),
            "balance": fmt(bal.available + bal.locked),
        }
    return respond(out)


# -- orders --------------------------------------------------------------------------------


def _post_only_would_take(state, req: ops.OrderRequest) -> bool:
    book = state.engine.books[req.market]
    opposite = book.best("ask" if req.side == "bid" else "bid")
    if opposite is None or req.price is None:
        return False
    return req.price >= opposite if req.side == "bid" else req.price <= opposite


def _place(request: web.Request, params: dict, default_type: str | None = None) -> Order:
    state = request.app[STATE]
    market = _market(state, params)
    side = SIDES.get(str(params.get("side", "")).upper())
    if side is None:
        raise validation("side must be BUY or SELL")
    kind = str(params.get("type", default_type or "")).upper()
    if kind == "LIMIT":
        req = ops.order_request(
            state,
            market,
            side,
            "limit",
            params.get("price"),
            params.get("qty"),
            params.get("user_order_id"),
        )
        post_only = params.get("post_only", False)
        if not isinstance(post_only, bool):
            raise validation("post_only must be true or false")
        if post_only and _post_only_would_take(state, req):
            raise ApiError(
                400, "validation_error", "a post_only order would match at once", code="107"
            )
    elif kind == "MARKET":
        if side == "bid":
            req = ops.order_request(
                state,
                market,
                side,
                "price",
                params.get("amount"),
                None,
                params.get("user_order_id"),
            )
        else:
            req = ops.order_request(
                state,
                market,
                side,
                "market",
                None,
                params.get("qty"),
                params.get("user_order_id"),
            )
    else:
        raise ApiError(400, "validation_error", "Not Supported Order Type", code="107")
    return ops.place(state, _key(request), req)


async def order(request: web.Request) -> web.Response:
    placed = _place(request, params_of(request))
    return respond(success(order_id=placed.uuid))


async def order_limit(request: web.Request) -> web.Response:
    placed = _place(request, params_of(request), default_type="LIMIT")
    return respond(success(order_id=placed.uuid))


async def cancel(request: web.Request) -> web.Response:
    state = request.app[STATE]
    params = params_of(request)
    found = _find(request, params)
    _not_open(found)
    ops.cancel(state, found)
    return respond(success(**order_row(found)))


async def order_info(request: web.Request) -> web.Response:
    return respond(success(order=order_row(_find(request, params_of(request)))))


async def open_orders(request: web.Request) -> web.Response:
    state = request.app[STATE]
    params = params_of(request)
    market = _market(state, params)
    rows = [order_row(o) for o in ops.orders(state, _key(request), "wait", market)]
    return respond(success(open_orders=rows))


async def open_orders_all(request: web.Request) -> web.Response:
    state = request.app[STATE]
    rows = [order_row(o) for o in ops.orders(state, _key(request), "wait")]
    return respond(success(open_orders=rows))


# -- the older v2 calls --------------------------------------------------------------------


async def query_order_v2(request: web.Request) -> web.Response:
    """``/v2/order/query_order/``: ``currency`` (ccxt sends a ticker id there) is not checked."""
    found = _find(request, params_of(request))
    quote, target = found.market.split("-", 1)
    original, executed, remaining = _qty(found)
    avg = found.executed_funds * 10**8 // executed if executed else 0
    return respond(
        {
            "result": "success",
            "errorCode": "0",
            "orderId": found.uuid,
            "baseCurrency": quote,
            "targetCurrency": target,
            "price": fmt(found.price) if found.price is not None else "0.0",
            "originalQty": fmt(original),
            "executedQty": fmt(executed),
            "canceledQty": fmt(original - executed) if found.state == "cancel" else "0.0",
            "remainQty": fmt(remaining),
            "status": status(found),
            "side": found.side,
            "orderedAt": int(found.created),
            "updatedAt": int(found.fills[-1].ts if found.fills else found.created),
            "feeRate": "0.0005",
            "fee": fmt(found.paid_fee),
            "averageExecutedPrice": fmt(avg),
        }
    )


async def cancel_v2(request: web.Request) -> web.Response:
    """``/v2/order/cancel/``: by ``order_id`` (``price``, ``qty``, ``is_ask`` are not needed)."""
    state = request.app[STATE]
    found = _find(request, params_of(request))
    _not_open(found)
    ops.cancel(state, found)
    return respond({"result": "success", "errorCode": "0"})
