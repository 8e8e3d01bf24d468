"""Bithumb's order endpoints: order numbers, ``/v2/orders`` entry (single and batch), ``/v2/order``
cancel, batch cancel, pending orders; and its Upbit-shaped ``/v1`` ones over the same numbers.

Bithumb shows an order number (``C0101000003152350309``) where Upbit shows a uuid; the ``/v1``
endpoints call it ``uuid``, the ``/v2`` ones ``order_id``. Here it is ``C0101`` and the engine's
order sequence number in 15 digits.
"""

from __future__ import annotations

from aiohttp import web

from surgeproof.exchange import operations as ops
from surgeproof.exchange.decimal_text import whole_text
from surgeproof.exchange.dialects.upbit.trading import OrderEndpoints, account_key, json_response
from surgeproof.exchange.errors import ApiError, validation
from surgeproof.exchange.money import fmt
from surgeproof.exchange.orders import Order, kst_iso
from surgeproof.exchange.params import params_of
from surgeproof.exchange.routes import STATE

PREFIX = "C0101"
#: Most orders one batch call may place or cancel.
MAX_BATCH = 20


def order_number(order: Order) -> str:
    return f"{PREFIX}{order.seq:015d}"


def engine_uuid(state, number: str) -> str | None:
    """The engine's uuid of a Bithumb order number (None when it is not one)."""
    if len(number) != len(PREFIX) + 15 or not number.startswith(PREFIX):
        return None
    seq = whole_text(number[len(PREFIX) :])
    if seq is None or seq < 0:
        return None
    order = state.engine.by_seq.get(seq)
    return order.uuid if order is not None else None


class BithumbV1Orders(OrderEndpoints):
    """Upbit's ``/v1`` order handlers, with Bithumb order numbers as ``uuid``."""

    def __init__(self) -> None:
        super().__init__(order_id=order_number, lookup_id=lambda _: None)

    def _lookup(self, request: web.Request) -> Order:
        state = request.app[STATE]
        params = params_of(request)
        number, identifier = params.get("uuid"), params.get("identifier")
        identifier = identifier or params.get("client_order_id")
        key = account_key(request)
        if isinstance(number, str) and number:
            return ops.find(state, key, uuid=engine_uuid(state, number) or "-")
        if isinstance(identifier, str) and identifier:
            return ops.find(state, key, identifier=identifier)
        return ops.find(state, key)


V1_ORDERS = BithumbV1Orders()


def _v2_row(order: Order) -> dict:
    row = {
        "order_id": order_number(order),
        "market": order.market,
        "side": order.side,
        "order_type": order.ord_type,
        "created_at": kst_iso(order.created),
    }
    if order.identifier is not None:
        row["client_order_id"] = order.identifier
    return row


def _order_request(state, fields: object) -> ops.OrderRequest:
    if not isinstance(fields, dict):
        raise validation("an order must be a JSON object")
    tif = fields.get("time_in_force")
    if tif not in (None, ""):
        raise validation("time_in_force is not supported by the embedded exchange")
    return ops.order_request(
        state,
        fields.get("market"),
        fields.get("side"),
        fields.get("order_type"),
        fields.get("price"),
        fields.get("volume"),
        fields.get("client_order_id"),
    )


async def create_v2(request: web.Request) -> web.Response:
    state = request.app[STATE]
    req = _order_request(state, params_of(request))
    order = ops.place(state, account_key(request), req)
    return json_response(_v2_row(order), status=201)


def _find_v2(request: web.Request, order_id: object, client_order_id: object) -> Order:
    state = request.app[STATE]
    key = account_key(request)
    if isinstance(order_id, str) and order_id:
        return ops.find(state, key, uuid=engine_uuid(state, order_id) or "-")
    if isinstance(client_order_id, str) and client_order_id:
        return ops.find(state, key, identifier=client_order_id)
    raise validation("order_id or client_order_id is required")


async def cancel_v2(request: web.Request) -> web.Response:
    params = params_of(request)
    order = _find_v2(request, params.get("order_id"), params.get("client_order_id"))
    ops.cancel(request.app[STATE], order)
    row = {"order_id": order_number(order), "created_at": kst_iso(order.created)}
    if order.identifier is not None:
        row["client_order_id"] = order.identifier
    return json_response(row)


def _pending_row(order: Order) -> dict:
    return {
        **_v2_row(order),
        "state": order.state,
        "price": fmt(order.price) if order.price is not None else None,
        "volume": fmt(order.volume) if order.volume is not None else None,
        "remaining_volume": fmt(order.remaining) if order.ord_type != "price" else None,
        "executed_volume": fmt(order.executed_volume),
        "executed_funds": fmt(order.executed_funds),
    }


async def pending_v2(request: web.Request) -> web.Response:
    state = request.app[STATE]
    params = params_of(request)
    market = params.get("market")
    if market is not None:
        market = ops.market_of(state, market)
    limit = ops.count(params.get("limit"), "limit", 100, 1, 100)
    after = ops.count(params.get("next_key"), "next_key", 0, 0, 10**15)
    orders = [
        o
        for o in state.engine.open_orders(account_key(request), market)
        if not after or o.seq < after
    ]
    page = orders[:limit]
    has_next = len(orders) > limit
    return json_response(
        {
            "data": [_pending_row(o) for o in page],
            "has_next": has_next,
            "next_key": str(page[-1].seq) if has_next else None,
        }
    )


def _batch(raw: object, name: str) -> list:
    if not isinstance(raw, list) or not raw:
        raise validation(f"{name} must be a non-empty list")
    if len(raw) > MAX_BATCH:
        raise validation(f"{name} holds at most {MAX_BATCH} entries")
    return raw


def _failure(exc: ApiError) -> dict:
    return {"name": exc.name, "message": exc.message}


async def batch_create_v2(request: web.Request) -> web.Response:
    state = request.app[STATE]
    key = account_key(request)
    answers = []
    for fields in _batch(params_of(request).get("batch_orders"), "batch_orders"):
        try:
            answers.append(_v2_row(ops.place(state, key, _order_request(state, fields))))
        except ApiError as exc:
            answers.append({"error": _failure(exc)})
    return json_response({"batch_orders_response": answers}, status=201)


async def batch_cancel_v2(request: web.Request) -> web.Response:
    state = request.app[STATE]
    params = params_of(request)
    by_client = params.get("client_order_ids") is not None
    ids = _batch(
        params.get("client_order_ids") if by_client else params.get("order_ids"),
        "client_order_ids" if by_client else "order_ids",
    )
    success, failed = [], []
    for given in ids:
        try:
            order = _find_v2(request, None if by_client else given, given if by_client else None)
            ops.cancel(state, order)
            success.append({"order_id": order_number(order), "created_at": kst_iso(order.created)})
        except ApiError as exc:
            failed.append(
                {"order_id" if not by_client else "client_order_id": given, "error": _failure(exc)}
            )
    return json_response({"success": success, "failed": failed})
