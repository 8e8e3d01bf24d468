"""The coinone dialect's route table: public API v2, private API v2.1, the older private v2
calls ccxt makes, and the app login (ours)."""

from __future__ import annotations

from surgeproof.exchange.dialects.coinone import login, private, public
from surgeproof.exchange.routes import Param, Route, RouteSpec

PUBLIC = RouteSpec("quotation", "public")
QUOTE = Param("quote_currency", where="path", required=True, description="e.g. KRW")
TARGET = Param("target_currency", where="path", required=True, description="e.g. BTC")
SIGNED = (
    Param("X-COINONE-PAYLOAD", where="header", required=True, description="base64 JSON"),
    Param("X-COINONE-SIGNATURE", where="header", required=True, description="hex HMAC-SHA512"),
)
MARKET = (
    Param("quote_currency", where="body", required=True),
    Param("target_currency", where="body", required=True),
)
ORDER_REF = (Param("order_id", where="body"), Param("user_order_id", where="body"))


def _private(path: str, handler, family: str, group: str, summary: str, params=()) -> Route:
    return Route(
        "POST", path, handler, RouteSpec(family, group, private=True), summary, (*SIGNED, *params)
    )


def _both(path: str, handler, family: str, group: str, summary: str, params=()):
    """The older v2 calls answer with and without the trailing slash their docs show."""
    return (
        _private(path, handler, family, group, summary, params),
        _private(path + "/", handler, family, group, summary, params),
    )


ORDER_FIELDS = (
    *MARKET,
    Param("side", where="body", required=True, enum=("BUY", "SELL")),
    Param("type", where="body", required=True, enum=("LIMIT", "MARKET")),
    Param("price", where="body", description="LIMIT: decimal string"),
    Param("qty", where="body", description="LIMIT and MARKET sell: decimal string"),
    Param("amount", where="body", description="MARKET buy: KRW to spend"),
    Param("post_only", where="body", type="boolean"),
    Param("user_order_id", where="body"),
)

ROUTES = (
    Route("GET", "/public/v2/currencies", public.currencies, PUBLIC, "currencies"),
    Route(
        "GET",
        "/public/v2/currencies/{currency}",
        public.currencies,
        PUBLIC,
        "one currency",
        (Param("currency", where="path", required=True),),
    ),
    Route(
        "GET",
        "/public/v2/markets/{quote_currency}",
        public.markets,
        PUBLIC,
        "markets quoted in a currency",
        (QUOTE,),
    ),
    Route(
        "GET",
        "/public/v2/ticker_new/{quote_currency}",
        public.tickers,
        PUBLIC,
        "tickers of every market quoted in a currency",
        (QUOTE,),
    ),
    Route(
        "GET",
        "/public/v2/ticker_new/{quote_currency}/{target_currency}",
        public.tickers,
        PUBLIC,
        "one market's ticker",
        (QUOTE, TARGET),
    ),
    Route(
        "GET",
        "/public/v2/orderbook/{quote_currency}/{target_currency}",
        public.orderbook,
        PUBLIC,
        "order book",
        (QUOTE, TARGET, Param("size", type="integer", enum=("5", "10", "15", "16"))),
    ),
    Route(
        "GET",
        "/public/v2/trades/{quote_currency}/{target_currency}",
        public.trades,
        PUBLIC,
        "recent trades",
        (QUOTE, TARGET, Param("size", type="integer")),
    ),
    _private("/v2.1/account/balance/all", private.balance_all, "account", "private", "balances"),
    _private(
        "/v2.1/account/balance",
        private.balance,
        "account",
        "private",
        "balances of some currencies",
        (Param("currencies", where="body", type="array", required=True),),
    ),
    _private("/v2.1/order", private.order, "orders", "order", "place an order", ORDER_FIELDS),
    _private(
        "/v2.1/order/limit",
        private.order_limit,
        "orders",
        "order",
        "place a limit order",
        ORDER_FIELDS,
    ),
    _private(
        "/v2.1/order/cancel",
        private.cancel,
        "orders",
        "order",
        "cancel an order",
        (*ORDER_REF, *MARKET),
    ),
    _private("/v2.1/order/info", private.order_info, "orders", "private", "one order", ORDER_REF),
    _private("/v2.1/order/detail", private.order_info, "orders", "private", "one order", ORDER_REF),
    _private(
        "/v2.1/order/open_orders",
        private.open_orders,
        "orders",
        "private",
        "open orders of a market",
        MARKET,
    ),
    _private(
        "/v2.1/order/open_orders/all",
        private.open_orders_all,
        "orders",
        "private",
        "open orders of every market",
    ),
    *_both("/v2/account/balance", private.balance_v2, "account", "private", "balances (older)"),
    *_both(
        "/v2/order/query_order",
        private.query_order_v2,
        "orders",
        "private",
        "one order (older)",
        (Param("order_id", where="body", required=True), Param("currency", where="body")),
    ),
    *_both(
        "/v2/order/cancel",
        private.cancel_v2,
        "orders",
        "order",
        "cancel an order (older)",
        (Param("order_id", where="body", required=True), Param("currency", where="body")),
    ),
    Route(
        "POST",
        "/v2.1/app/login",
        login.login,
        RouteSpec("login", "session"),
        "app login (ours): member id and password, checked in the member database",
        (
            Param("member_id", where="body", required=True),
            Param("password", where="body", required=True),
        ),
    ),
    Route(
        "POST",
        "/v2.1/app/logout",
        login.logout,
        RouteSpec("login", "session"),
        "app logout (ours)",
        (Param("X-Session-Token", where="header", required=True),),
    ),
)
