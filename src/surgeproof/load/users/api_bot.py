"""An API bot: high-rate quotation polling plus orders, signed with its API key, no app login.

It honours the dialect's rate-limit header (Upbit's ``Remaining-Req``): when a group's second
is used up, or on a 429, it pauses its schedule for the rest of that second (no calls are
intended while it waits). Where the dialect signs with the login's token instead of API keys,
the bot logs in first, as such an exchange's bots must.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from surgeproof.load.users import act
from surgeproof.load.users.behaviour import Behaviour

if TYPE_CHECKING:
    from surgeproof.load.users.act import Act
    from surgeproof.load.users.surge_user import SurgeUser


class ApiBot(Behaviour):
    name = "api_bot"
    rate_per_s = 5.0
    honours_remaining_req = True
    needs = frozenset({"ticker", "limit_order"})
    uses = needs | {"orderbook", "cancel_order"}

    def __init__(self) -> None:
        self._n = 0

    def next_call(self, user: SurgeUser) -> Act | None:
        if user.ctx.dialect.signing.needs_session and not user.logged_in:
            return user.login_act()
        self._n += 1
        step = self._n % 10
        if step == 0 and user.account is not None:
            side = "ask" if user.rng.random() < user.state.sell_bias else "bid"
            return act.limit_order(side, user.last_price, away=0.02)
        if step == 5 and user.open_orders and user.account is not None:
            return act.cancel_order(user.open_orders.pop(0))
        if step % 2:
            return act.TICKER_PRICE
        return act.ORDERBOOK
