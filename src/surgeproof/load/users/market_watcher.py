"""A market watcher: holds a websocket ticker subscription and now and then polls the book."""

from __future__ import annotations

from typing import TYPE_CHECKING

from surgeproof.load.users import act
from surgeproof.load.users.behaviour import Behaviour

if TYPE_CHECKING:
    from surgeproof.load.users.act import Act
    from surgeproof.load.users.surge_user import SurgeUser


class MarketWatcher(Behaviour):
    name = "market_watcher"
    rate_per_s = 0.2
    needs = frozenset({"ticker"})
    uses = frozenset({"ticker", "orderbook"})
    watches_websocket = True
    shares_connection = True

    def __init__(self) -> None:
        self._n = 0

    def next_call(self, user: SurgeUser) -> Act | None:
        self._n += 1
        return act.ORDERBOOK if self._n % 3 == 0 else act.TICKER
