"""One intended API call, as a behaviour describes it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from surgeproof.rundir.schema import FLAG_ORDER_SUBMIT


@dataclass(frozen=True)
class Call:
    """What to send; ``name`` is the endpoint as recorded (``GET /v1/ticker``)."""

    method: str
    path: str
    group: str
    params: dict[str, Any] | None = None
    body: dict[str, Any] | None = None
    private: bool = False
    #: Called with (user, status, json-or-None) after an answer arrived.
    on_answer: Callable[[Any, int, Any], None] | None = None
    #: Whether to send the app's session token (calls made from the logged-in app).
    session: bool = False

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def flags(self) -> int:
        return FLAG_ORDER_SUBMIT if (self.method == "POST" and self.path == "/v1/orders") else 0


def ticker(markets: str = "KRW-BTC") -> Call:
    return Call("GET", "/v1/ticker", "quotation", params={"markets": markets})


def orderbook(markets: str = "KRW-BTC") -> Call:
    return Call("GET", "/v1/orderbook", "quotation", params={"markets": markets})


def trades(market: str = "KRW-BTC") -> Call:
    return Call("GET", "/v1/trades/ticks", "quotation", params={"market": market, "count": 20})


def candles(market: str = "KRW-BTC") -> Call:
    return Call("GET", "/v1/candles/minutes/1", "quotation", params={"market": market, "count": 30})


def accounts() -> Call:
    return Call("GET", "/v1/accounts", "account", private=True, session=True)


def order_chance(market: str = "KRW-BTC") -> Call:
    return Call(
        "GET", "/v1/orders/chance", "account", params={"market": market}, private=True, session=True
    )
