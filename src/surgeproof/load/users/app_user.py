"""An app user: logs in, checks balances and prices, places limit orders and cancels some."""

from __future__ import annotations

from typing import TYPE_CHECKING

from surgeproof.load.users import act
from surgeproof.load.users.behaviour import Behaviour

if TYPE_CHECKING:
    from surgeproof.load.users.act import Act
    from surgeproof.load.users.surge_user import SurgeUser


class AppUser(Behaviour):
    name = "app_user"
    rate_per_s = 0.5
    logs_in = True
    needs = frozenset({"login", "balances", "ticker", "limit_order"})
    uses = needs | {"cancel_order", "order_chance", "orderbook", "logout"}

    def __init__(self) -> None:
        self._n = 0

    def next_call(self, user: SurgeUser) -> Act | None:
        if not user.logged_in:
            return user.login_act()
        self._n += 1
        step = self._n % 6
        if step == 1:
            return act.BALANCES
        if step == 2:
            return act.TICKER_PRICE
        if step == 3:
            side = "ask" if user.rng.random() < user.state.sell_bias else "bid"
            return act.limit_order(side, user.last_price, away=0.01)
        if step == 4 and user.open_orders:
            return act.cancel_order(user.open_orders.pop(0))
        if step == 5:
            return act.ORDER_CHANCE
        return act.ORDERBOOK
