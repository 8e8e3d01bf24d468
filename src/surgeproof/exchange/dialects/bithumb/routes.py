"""The bithumb dialect's route table: Bithumb Open API 2.x, plus the app login (ours).

Quotation and account paths are Upbit's ``/v1`` ones; orders are placed with ``POST /v2/orders``
and cancelled with ``DELETE /v2/order``; the older Upbit-shaped ``POST /v1/orders`` and
``DELETE /v1/order`` stay, because the ``python-bithumb`` client calls them.
"""

from __future__ import annotations

from dataclasses import replace

from surgeproof.exchange.dialects.bithumb import orders
from surgeproof.exchange.dialects.upbit.routes import (
    LOGIN_ROUTES,
    QUOTATION_ROUTES,
    private_v1_routes,
)
from surgeproof.exchange.routes import Param, Route, RouteSpec

V2_ORDER = (
    Param("market", where="body", required=True),
    Param("side", where="body", required=True, enum=("bid", "ask")),
    Param("order_type", where="body", required=True, enum=("limit", "price", "market")),
    Param("volume", where="body", description="decimal string"),
    Param("price", where="body", description="decimal string"),
    Param("client_order_id", where="body"),
)
ORDER_ID = (Param("order_id"), Param("client_order_id"))

V2_ROUTES = (
    Route(
        "POST",
        "/v2/orders",
        orders.create_v2,
        RouteSpec("orders", "order", private=True),
        "place an order",
        V2_ORDER,
        ok_status=201,
    ),
    Route(
        "DELETE",
        "/v2/order",
        orders.cancel_v2,
        RouteSpec("orders", "private", private=True),
        "cancel an order",
        ORDER_ID,
    ),
    Route(
        "GET",
        "/v2/orders/pending",
        orders.pending_v2,
        RouteSpec("orders", "private", private=True),
        "open orders, newest first, paged by next_key",
        (Param("market"), Param("limit", type="integer"), Param("next_key")),
    ),
    Route(
        "POST",
        "/v2/orders/batch",
        orders.batch_create_v2,
        RouteSpec("orders", "order-batch", private=True),
        f"place up to {orders.MAX_BATCH} orders",
        (Param("batch_orders", where="body", type="array", required=True),),
        ok_status=201,
    ),
    Route(
        "POST",
        "/v2/orders/cancel",
        orders.batch_cancel_v2,
        RouteSpec("orders", "order-batch", private=True),
        f"cancel up to {orders.MAX_BATCH} orders",
        (
            Param("order_ids", where="body", type="array"),
            Param("client_order_ids", where="body", type="array"),
        ),
    ),
)

ROUTES = (
    *(replace(r, spec=replace(r.spec, limit_group="public")) for r in QUOTATION_ROUTES),
    *private_v1_routes(orders.V1_ORDERS, "order", "private"),
    *V2_ROUTES,
    *LOGIN_ROUTES,
)
