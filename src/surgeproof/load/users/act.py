"""One intended action, in the words behaviours use; the target's dialect turns it into a request.

Behaviours never name paths or sign anything: they ask for ``ticker`` or ``limit_order`` with
the values the action needs, and say which answer fields they want back (``wants``), so only
those answers are parsed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from surgeproof.secret import Secret

#: The market every simulated person trades (the Korean venues' busiest on 3 Dec 2024).
MARKET = "KRW-BTC"


@dataclass(frozen=True, slots=True)
class Act:
    """An action, the values it needs (never shown: a login's carry a password), and wants."""

    action: str
    values: dict[str, Any] = field(default_factory=dict, repr=False)
    wants: tuple[str, ...] = ()
    #: The market action a marketable limit order stands in for (``market_sell``), or None.
    stands_in: str | None = None


TICKER = Act("ticker")
TICKER_PRICE = Act("ticker", wants=("price",))
ORDERBOOK = Act("orderbook")
TRADES = Act("trades", {"count": 20})
CANDLES = Act("candles", {"count": 30})
BALANCES = Act("balances")
ORDER_CHANCE = Act("order_chance")
LOGOUT = Act("logout")

#: The market actions a dialect's ``market_orders`` stand-in replaces.
MARKET_ACTIONS = frozenset({"market_buy", "market_sell"})

#: KRW price unit of BTC above ₩2M (Upbit's tick size table).
TICK_KRW = 1000


def login(member_id: str, password: Secret | str) -> Act:
    """The app login; ``password`` stays a Secret until the request is encoded."""
    return Act("login", {"member_id": member_id, "password": password}, ("session_token",))


def limit_order(side: str, last_price: float, away: float) -> Act:
    """A small limit order ``away`` (fraction) from the last seen price, on the right side."""
    price = last_price * (1 - away) if side == "bid" else last_price * (1 + away)
    price = max(TICK_KRW, round(price / TICK_KRW) * TICK_KRW)
    return Act(
        "limit_order",
        {"side": side, "price": str(int(price)), "volume": "0.0001"},
        ("order_id",),
    )


def market_sell(volume: str = "0.0001") -> Act:
    return Act("market_sell", {"volume": volume}, ("order_id",))


def market_buy(funds_krw: str = "10000") -> Act:
    return Act("market_buy", {"funds": funds_krw}, ("order_id",))


def cancel_order(order_id: str) -> Act:
    return Act("cancel_order", {"order_id": order_id}, ("executed_volume",))


def order_status(order_id: str) -> Act:
    return Act("order_status", {"order_id": order_id}, ("order_state", "executed_volume"))


def marketable_limit(market: Act, last_price: float, through: float) -> Act:
    """A market buy or sell as a limit order ``through`` (a fraction) past ``last_price``.

    A sell is priced below the last price and a buy above it, rounded away from the market to
    the tick, so that it crosses the spread as the market order would; a buy spends about the
    same funds (volume = funds / price, rounded down to 1e-8).
    """
    if market.action == "market_sell":
        price = math.floor(last_price * (1 - through) / TICK_KRW) * TICK_KRW
        price = max(TICK_KRW, price)
        values = {"side": "ask", "price": str(price), "volume": market.values["volume"]}
    else:
        price = math.ceil(last_price * (1 + through) / TICK_KRW) * TICK_KRW
        funds = float(market.values["funds"])
        volume = math.floor(funds / price * 1e8) / 1e8
        values = {"side": "bid", "price": str(price), "volume": f"{volume:.8f}"}
    return Act("limit_order", values, ("order_id",), stands_in=market.action)
