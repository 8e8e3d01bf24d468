"""One market's limit order book: price levels in price-time priority."""

from __future__ import annotations

import bisect
from collections import deque

from surgeproof.exchange.orders import Order


class Book:
    """Resting orders of one market; bids and asks each keep ascending price lists."""

    def __init__(self) -> None:
        self.levels: dict[str, dict[int, deque[Order]]] = {"bid": {}, "ask": {}}
        self.prices: dict[str, list[int]] = {"bid": [], "ask": []}
        self.version = 0  # bumped on every change, so snapshots can be cached

    def best(self, side: str) -> int | None:
        """The best price resting on a side (highest bid, lowest ask)."""
        prices = self.prices[side]
        if not prices:
            return None
        return prices[-1] if side == "bid" else prices[0]

    def head(self, side: str) -> Order | None:
        """The oldest order at the best price of a side."""
        price = self.best(side)
        return None if price is None else self.levels[side][price][0]

    def add(self, order: Order) -> None:
        """Rest an order at the back of its price level."""
        side, price = order.side, order.price
        assert price is not None
        level = self.levels[side].get(price)
        if level is None:
            level = self.levels[side][price] = deque()
            bisect.insort(self.prices[side], price)
        level.append(order)
        self.version += 1

    def remove(self, order: Order) -> None:
        """Take an order off the book (filled or cancelled)."""
        side, price = order.side, order.price
        level = self.levels[side].get(price)  # type: ignore[arg-type]
        if level is None:
            return
        try:
            level.remove(order)
        except ValueError:
            return
        if not level:
            del self.levels[side][price]  # type: ignore[arg-type]
            prices = self.prices[side]
            del prices[bisect.bisect_left(prices, price)]  # type: ignore[arg-type]
        self.version += 1

    def depth(self, side: str, count: int) -> list[tuple[int, int]]:
        """Up to ``count`` best levels of a side as (price, total remaining volume)."""
        prices = self.prices[side]
        chosen = prices[::-1][:count] if side == "bid" else prices[:count]
        return [(p, sum(o.remaining for o in self.levels[side][p])) for p in chosen]

    def orders(self) -> int:
        """How many orders rest on the book."""
        return sum(len(q) for side in self.levels.values() for q in side.values())
