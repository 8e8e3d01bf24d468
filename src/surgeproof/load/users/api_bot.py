"""An API bot: high-rate quotation polling plus orders, signed with its API key, no app login.

It honours ``Remaining-Req``: when a group's second is used up, or on a 429, it pauses its
schedule for the rest of that second (no calls are intended while it waits).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from surgeproof.load.users import call
from surgeproof.load.users.app_user import cancel_order, limit_order, remember_price
from surgeproof.load.users.behaviour import Behaviour
from surgeproof.load.users.call import Call

if TYPE_CHECKING:
    from surgeproof.load.users.surge_user import SurgeUser


class ApiBot(Behaviour):
    name = "api_bot"
    rate_per_s = 5.0
    honours_remaining_req = True

    def __init__(self) -> None:
        self._n = 0

    def next_call(self, user: SurgeUser) -> Call | None:
        self._n += 1
        step = self._n % 10
        if step == 0 and user.account is not None:
            side = "ask" if user.rng.random() < user.state.sell_bias else "bid"
            order = limit_order(user, side, away=0.02)
            return Call(
                order.method,
                order.path,
                order.group,
                body=order.body,
                private=True,
                on_answer=order.on_answer,
            )
        if step == 5 and user.open_orders and user.account is not None:
            c = cancel_order(user.open_orders.pop(0))
            return Call(c.method, c.path, c.group, params=c.params, private=True)
        if step % 2:
            t = call.ticker()
            return Call(t.method, t.path, t.group, params=t.params, on_answer=remember_price)
        return call.orderbook()
