"""An app user: logs in, checks balances and prices, places limit orders and cancels some."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from surgeproof.load.users import call
from surgeproof.load.users.behaviour import Behaviour
from surgeproof.load.users.call import Call

if TYPE_CHECKING:
    from surgeproof.load.users.surge_user import SurgeUser

#: KRW price unit of BTC above ₩2M (Upbit's tick size table).
TICK_KRW = 1000


def limit_order(user: SurgeUser, side: str, away: float) -> Call:
    """A small limit order ``away`` (fraction) from the last seen price, on the right side."""
    ref = user.last_price
    price = ref * (1 - away) if side == "bid" else ref * (1 + away)
    price = max(TICK_KRW, round(price / TICK_KRW) * TICK_KRW)
    body = {
        "market": "KRW-BTC",
        "side": side,
        "volume": "0.0001",
        "price": str(int(price)),
        "ord_type": "limit",
    }
    return Call(
        "POST",
        "/v1/orders",
        "orders",
        body=body,
        private=True,
        session=True,
        on_answer=remember_order,
    )


def remember_order(user: SurgeUser, status: int, data: Any) -> None:
    if status == 201 or status == 200:
        uuid = data.get("uuid") if isinstance(data, dict) else None
        if uuid:
            user.open_orders.append(uuid)


def cancel_order(uuid: str) -> Call:
    return Call("DELETE", "/v1/order", "orders", params={"uuid": uuid}, private=True, session=True)


def remember_price(user: SurgeUser, status: int, data: Any) -> None:
    if status == 200 and isinstance(data, list) and data and isinstance(data[0], dict):
        price = data[0].get("trade_price")
        if isinstance(price, int | float) and price > 0:
            user.last_price = float(price)


class AppUser(Behaviour):
    name = "app_user"
    rate_per_s = 0.5

    def __init__(self) -> None:
        self._n = 0

    def next_call(self, user: SurgeUser) -> Call | None:
        if not user.logged_in:
            return user.login_call()
        self._n += 1
        step = self._n % 6
        if step == 1:
            return call.accounts()
        if step == 2:
            t = call.ticker()
            return Call(t.method, t.path, t.group, params=t.params, on_answer=remember_price)
        if step == 3:
            side = "ask" if user.rng.random() < user.state.sell_bias else "bid"
            return limit_order(user, side, away=0.01)
        if step == 4 and user.open_orders:
            return cancel_order(user.open_orders.pop(0))
        if step == 5:
            return call.order_chance()
        return call.orderbook()
