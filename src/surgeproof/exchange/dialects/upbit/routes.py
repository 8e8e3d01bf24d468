"""The upbit dialect's route table: Upbit REST API v1, plus the app login (ours)."""

from __future__ import annotations

from surgeproof.exchange.dialects.upbit import login, quotation
from surgeproof.exchange.dialects.upbit.trading import UPBIT_ORDERS, accounts, order_chance
from surgeproof.exchange.routes import Param, Route, RouteSpec

MARKET = Param("market", required=True, description="market code, e.g. KRW-BTC")
MARKETS = Param("markets", required=True, description="comma-separated market codes")
COUNT = Param("count", type="integer")
UUID = Param("uuid", description="the order's id")
IDENTIFIER = Param("identifier", description="the client's own order id")
CANDLE_UNITS = ("1", "3", "5", "10", "15", "30", "60", "240")

QUOTATION_ROUTES = (
    Route(
        "GET",
        "/v1/market/all",
        quotation.market_all,
        RouteSpec("quotation", "market"),
        "markets",
        (Param("isDetails", type="boolean"),),
    ),
    Route(
        "GET",
        "/v1/ticker",
        quotation.ticker,
        RouteSpec("quotation", "ticker"),
        "tickers",
        (MARKETS,),
    ),
    Route(
        "GET",
        "/v1/orderbook",
        quotation.orderbook,
        RouteSpec("quotation", "orderbook"),
        "order books (15 levels)",
        (MARKETS,),
    ),
    Route(
        "GET",
        "/v1/candles/minutes/{unit}",
        quotation.candles_minutes,
        RouteSpec("quotation", "candle"),
        "minute candles",
        (
            Param("unit", where="path", type="integer", required=True, enum=CANDLE_UNITS),
            MARKET,
            COUNT,
            Param("to", description="ISO 8601 time; candles before it"),
        ),
    ),
    Route(
        "GET",
        "/v1/trades/ticks",
        quotation.trades_ticks,
        RouteSpec("quotation", "trade"),
        "recent trades",
        (MARKET, COUNT),
    ),
)

LOGIN_ROUTES = (
    Route(
        "POST",
        "/v1/session",
        login.login,
        RouteSpec("login", "session"),
        "app login (ours): member id and password, checked in the member database",
        (
            Param("member_id", where="body", required=True),
            Param("password", where="body", required=True),
        ),
        ok_status=201,
    ),
    Route(
        "DELETE",
        "/v1/session",
        login.logout,
        RouteSpec("login", "session"),
        "app logout (ours)",
        (Param("X-Session-Token", where="header", required=True),),
    ),
)

ORDER_FIELDS = (
    Param("market", where="body", required=True),
    Param("side", where="body", required=True, enum=("bid", "ask")),
    Param("ord_type", where="body", required=True, enum=("limit", "price", "market")),
    Param("volume", where="body", description="decimal string"),
    Param("price", where="body", description="decimal string"),
    Param("identifier", where="body"),
)


def private_v1_routes(orders, order_group: str, default_group: str) -> tuple[Route, ...]:
    """Upbit's ``/v1`` private endpoints with the given order renderer and limit groups."""
    return (
        Route(
            "GET",
            "/v1/accounts",
            accounts,
            RouteSpec("account", default_group, private=True),
            "balances",
        ),
        Route(
            "GET",
            "/v1/orders/chance",
            order_chance,
            RouteSpec("account", default_group, private=True),
            "order chance",
            (MARKET,),
        ),
        Route(
            "POST",
            "/v1/orders",
            orders.create,
            RouteSpec("orders", order_group, private=True),
            "place an order",
            ORDER_FIELDS,
            ok_status=201,
        ),
        Route(
            "GET",
            "/v1/order",
            orders.get,
            RouteSpec("orders", default_group, private=True),
            "one order, with its trades",
            (UUID, IDENTIFIER),
        ),
        Route(
            "DELETE",
            "/v1/order",
            orders.cancel,
            RouteSpec("orders", default_group, private=True),
            "cancel an order",
            (UUID, IDENTIFIER),
        ),
        Route(
            "GET",
            "/v1/orders",
            orders.list,
            RouteSpec("orders", default_group, private=True),
            "orders in one state",
            (
                Param("market"),
                Param("state", enum=("wait", "watch", "done", "cancel")),
                Param("limit", type="integer"),
                Param("page", type="integer"),
                Param("order_by", enum=("asc", "desc")),
            ),
        ),
    )


ROUTES = (*QUOTATION_ROUTES, *private_v1_routes(UPBIT_ORDERS, "order", "default"), *LOGIN_ROUTES)
