"""A panic seller: logs in and dumps coin at market, checking the price and its balance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from surgeproof.load.users import act
from surgeproof.load.users.behaviour import Behaviour

if TYPE_CHECKING:
    from surgeproof.load.users.act import Act
    from surgeproof.load.users.surge_user import SurgeUser


class PanicSeller(Behaviour):
    name = "panic_seller"
    rate_per_s = 1.0
    logs_in = True
    needs = frozenset({"login", "ticker", "market_sell", "market_buy", "balances"})
    uses = needs | {"logout"}

    def __init__(self) -> None:
        self._n = 0

    def next_call(self, user: SurgeUser) -> Act | None:
        if not user.logged_in:
            return user.login_act()
        self._n += 1
        if self._n % 3 == 1:
            return act.TICKER_PRICE
        if self._n % 3 == 2:
            # A market sell by volume or, when the phase's sell bias says buy, a buy by KRW.
            sell = user.rng.random() < user.state.sell_bias
            return act.market_sell() if sell else act.market_buy()
        return act.BALANCES
