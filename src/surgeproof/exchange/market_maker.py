"""Seeded liquidity: a market maker quoting a ladder around the reference price, and a small
"tape" trader whose market orders make ticks and trades happen even with no users.

Both are ordinary accounts in the ledger, so conservation covers them too.
"""

from __future__ import annotations

from surgeproof.exchange.config import MarketMaker
from surgeproof.exchange.engine import Engine
from surgeproof.exchange.errors import ApiError
from surgeproof.exchange.money import UNIT, round_to_tick, tick_units

MAKER = "__market_maker__"
TAPE = "__tape__"


class Liquidity:
    """Re-quotes every market after each price step."""

    def __init__(self, engine: Engine, spec: MarketMaker) -> None:
        self.engine = engine
        self.spec = spec
        self._quotes: dict[str, list[str]] = {}
        self._tape_side: dict[str, str] = {}

    def fund(self, prices: dict[str, int]) -> None:
        """Deposit the maker's and the tape trader's inventories."""
        ledger = self.engine.ledger
        per_market_krw = self.spec.level_krw * max(self.spec.levels, 1) * 40
        ledger.deposit(MAKER, "KRW", per_market_krw * len(prices) * UNIT)
        ledger.deposit(TAPE, "KRW", self.spec.tape_krw * 100_000 * UNIT)
        for market, price in prices.items():
            base = market.split("-", 1)[1]
            ledger.deposit(MAKER, base, per_market_krw * UNIT * UNIT // price)
            ledger.deposit(TAPE, base, self.spec.tape_krw * 100_000 * UNIT * UNIT // price)

    def requote(self, market: str, ref_units: int) -> None:
        """Cancel the maker's ladder in ``market`` and quote a fresh one around ``ref_units``."""
        engine = self.engine
        for uuid in self._quotes.pop(market, []):
            order = engine.orders.get(uuid)
            if order is not None and order.state == "wait":
                engine.cancel(MAKER, uuid)
        quotes: list[str] = []
        tick = tick_units(ref_units)
        spec = self.spec
        for i in range(spec.levels):
            offset = (spec.spread_ticks + i) * tick
            for side, raw in (("bid", ref_units - offset), ("ask", ref_units + offset)):
                if raw <= 0:
                    continue
                price = round_to_tick(raw, down=side == "bid")
                volume = spec.level_krw * UNIT * UNIT // price
                if volume <= 0:
                    continue
                try:
                    order = engine.place(MAKER, market, side, "limit", price, volume)
                except ApiError:
                    continue  # out of inventory on this side: quote fewer levels
                if order.state == "wait":
                    quotes.append(order.uuid)
        self._quotes[market] = quotes

    def trade_tape(self, market: str, ref_units: int) -> None:
        """One small market order, alternating sides, so the tape keeps printing."""
        side = "ask" if self._tape_side.get(market) == "bid" else "bid"
        self._tape_side[market] = side
        krw = self.spec.tape_krw * UNIT
        try:
            if side == "bid":
                self.engine.place(TAPE, market, "bid", "price", krw, None)
            else:
                volume = krw * UNIT // ref_units
                self.engine.place(
                    TAPE, market, "ask", "market", None, volume, reference_price=ref_units
                )
        except ApiError:
            pass  # the tape trader ran dry or the book is empty this step: no print
