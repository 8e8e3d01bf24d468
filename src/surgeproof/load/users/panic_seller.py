"""A panic seller: logs in and dumps coin at market, checking the price and its balance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from surgeproof.load.users import call
from surgeproof.load.users.app_user import remember_price
from surgeproof.load.users.behaviour import Behaviour
from surgeproof.load.users.call import Call

if TYPE_CHECKING:
    from surgeproof.load.users.surge_user import SurgeUser


def market_order(user: SurgeUser) -> Call:
    """A market sell (by volume), or, when the phase's sell bias says buy, a market buy by KRW."""
    if user.rng.random() < user.state.sell_bias:
        body = {"market": "KRW-BTC", "side": "ask", "volume": "0.0001", "ord_type": "market"}
    else:
        body = {"market": "KRW-BTC", "side": "bid", "price": "10000", "ord_type": "price"}
    return Call("POST", "/v1/orders", "orders", body=body, private=True, session=True)


class PanicSeller(Behaviour):
    name = "panic_seller"
    rate_per_s = 1.0
    retries = False

    def __init__(self) -> None:
        self._n = 0

    def next_call(self, user: SurgeUser) -> Call | None:
        if not user.logged_in:
            return user.login_call()
        self._n += 1
        if self._n % 3 == 1:
            t = call.ticker()
            return Call(t.method, t.path, t.group, params=t.params, on_answer=remember_price)
        if self._n % 3 == 2:
            return market_order(user)
        return call.accounts()
