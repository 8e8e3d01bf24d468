"""The matching engine: order entry, price-time matching, settlement, cancels, the trade tape.

Every state change is synchronous (no await inside), so on one event loop an order is either
fully entered and matched or not at all: nothing acknowledged can be half-done or lost.
"""

from __future__ import annotations

import random
import time
import uuid as uuidlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from surgeproof.exchange.book import Book
from surgeproof.exchange.errors import ApiError
from surgeproof.exchange.ledger import InsufficientFunds, Ledger
from surgeproof.exchange.money import UNIT, fee_ceil, fee_floor, notional, on_tick
from surgeproof.exchange.orders import Fill, Order

MIN_TOTAL_KRW = 5_000 * UNIT  # Upbit KRW market minimum order
MAX_TOTAL_KRW = 1_000_000_000 * UNIT  # Upbit KRW market max_total


@dataclass
class Trade:
    """One print on the tape."""

    market: str
    price: int
    volume: int
    ts: float
    taker_side: str  # "bid" | "ask"
    sequential_id: int


class Engine:
    """Books of all markets, the orders, and the ledger they settle into."""

    def __init__(self, markets: list[str], ledger: Ledger, fee_bp: int, seed: int) -> None:
        self.ledger = ledger
        self.fee_bp = fee_bp
        self.books = {m: Book() for m in markets}
        self.orders: dict[str, Order] = {}
        self.by_seq: dict[int, Order] = {}
        self._by_identifier: dict[tuple[str, str], Order] = {}
        self.open_by_account: dict[str, dict[str, Order]] = {}
        self.tape: dict[str, deque[Trade]] = {m: deque(maxlen=5000) for m in markets}
        self.on_trade: list[Callable[[Trade], None]] = []
        #: Called when an order closes (filled or cancelled): the durable journal listens.
        self.on_close: list[Callable[[Order], None]] = []
        self._rng = random.Random(seed)
        self._seq = 0
        self._trade_seq = int(time.time() * 1000) * 1000

    def _uuid(self) -> str:
        return str(uuidlib.UUID(int=self._rng.getrandbits(128), version=4))

    # -- entry -----------------------------------------------------------------------------

    def place(
        self,
        account: str,
        market: str,
        side: str,
        ord_type: str,
        price: int | None,
        volume: int | None,
        identifier: str | None = None,
        reference_price: int | None = None,
    ) -> Order:
        """Validate, lock funds, match, and rest the remainder; raise ApiError if refused."""
        err = "create_bid_error" if side == "bid" else "create_ask_error"
        book = self.books[market]
        if ord_type == "limit":
            if price is None or volume is None:
                raise ApiError(400, err, "a limit order needs both price and volume")
            if not on_tick(price):
                raise ApiError(400, f"invalid_price_{side}", "price is not a multiple of the tick")
            total = notional(price, volume)
        elif ord_type == "price":
            if side != "bid" or price is None or volume is not None:
                raise ApiError(400, err, "a 'price' (market buy) order needs side=bid, price only")
            total = price
        else:  # market sell
            if side != "ask" or volume is None or price is not None:
                raise ApiError(
                    400, err, "a 'market' (market sell) order needs side=ask, volume only"
                )
            ref = book.best("bid") or reference_price or 0
            total = notional(ref, volume)
        if total < MIN_TOTAL_KRW:
            raise ApiError(400, f"under_min_total_{side}", "order total is under 5000 KRW")
        if total > MAX_TOTAL_KRW:
            raise ApiError(400, err, "order total is over the maximum of 1000000000 KRW")

        self._seq += 1
        order = Order(
            uuid=self._uuid(),
            account=account,
            market=market,
            side=side,
            ord_type=ord_type,
            price=price,
            volume=volume,
            created=time.time(),
            seq=self._seq,
            identifier=identifier,
        )
        try:
            if side == "bid":
                order.reserved_fee = fee_ceil(total, self.fee_bp)
                order.locked = total + order.reserved_fee
                self.ledger.lock(account, order.quote, order.locked)
                order.remaining = volume if ord_type == "limit" else total  # type: ignore[assignment]
            else:
                order.locked = volume  # type: ignore[assignment]
                self.ledger.lock(account, order.base, order.locked)
                order.remaining = volume  # type: ignore[assignment]
        except InsufficientFunds:
            raise ApiError(
                400, f"insufficient_funds_{side}", "not enough available balance"
            ) from None

        self.orders[order.uuid] = order
        self.by_seq[order.seq] = order
        if identifier is not None:
            self._by_identifier[(account, identifier)] = order
        self._match(order, book)
        if order.state == "wait":
            if ord_type == "limit" and order.remaining > 0:
                book.add(order)
                self.open_by_account.setdefault(account, {})[order.uuid] = order
            else:
                self._finish(order, "cancel" if order.executed_volume == 0 else "done")
        return order

    def _match(self, taker: Order, book: Book) -> None:
        opposite = "ask" if taker.side == "bid" else "bid"
        while taker.remaining > 0:
            maker = book.head(opposite)
            if maker is None:
                break
            price = maker.price
            assert price is not None
            if taker.ord_type == "limit":
                assert taker.price is not None
                if (taker.side == "bid" and price > taker.price) or (
                    taker.side == "ask" and price < taker.price
                ):
                    break
            if taker.ord_type == "price":
                volume = min(maker.remaining, taker.remaining * UNIT // price)
            else:
                volume = min(maker.remaining, taker.remaining)
            if volume <= 0:
                break
            self._execute(taker, maker, price, volume)
            if maker.remaining == 0:
                book.remove(maker)
                self._finish(maker, "done")
            if taker.ord_type == "price" and taker.remaining * UNIT // price == 0:
                break
        book.version += 1

    def _execute(self, taker: Order, maker: Order, price: int, volume: int) -> None:
        bid, ask = (taker, maker) if taker.side == "bid" else (maker, taker)
        funds = notional(price, volume)
        bid_fee = fee_floor(funds, self.fee_bp)
        ask_fee = fee_floor(funds, self.fee_bp)
        quote, base = bid.quote, bid.base
        ledger = self.ledger
        # KRW: buyer's locked funds go to the seller, less the seller's fee; buyer's fee too.
        ledger.pay_locked(bid.account, ask.account, quote, funds, fee=ask_fee)
        ledger.collect_fee_locked(bid.account, quote, bid_fee)
        # Coin: seller's locked volume goes to the buyer.
        ledger.pay_locked(ask.account, bid.account, base, volume)
        self._avg_buy(bid.account, base, price, volume)
        now = time.time()
        for order, fee in ((bid, bid_fee), (ask, ask_fee)):
            order.executed_volume += volume
            order.executed_funds += funds
            order.paid_fee += fee
            trend = "up" if taker.side == "bid" else "down"
            order.fills.append(Fill(self._uuid(), price, volume, funds, now, trend))
        bid.locked -= funds + bid_fee
        ask.locked -= volume
        if bid.ord_type == "price":
            bid.remaining -= funds
        else:
            bid.remaining -= volume
        ask.remaining -= volume
        self._trade_seq += 1
        trade = Trade(taker.market, price, volume, now, taker.side, self._trade_seq)
        self.tape[taker.market].append(trade)
        for listener in self.on_trade:
            listener(trade)

    def _avg_buy(self, account: str, asset: str, price: int, volume: int) -> None:
        bal = self.ledger.balance(account, asset)
        held = bal.available + bal.locked  # already includes this fill
        key = (account, asset)
        before = held - volume
        old = self.ledger.avg_buy.get(key, 0)
        if held > 0:
            self.ledger.avg_buy[key] = (old * before + price * volume) // held

    def _finish(self, order: Order, state: str) -> None:
        """Close an order: release whatever it still locks."""
        if order.locked:
            asset = order.quote if order.side == "bid" else order.base
            self.ledger.unlock(order.account, asset, order.locked)
            order.locked = 0
        order.state = state
        self.open_by_account.get(order.account, {}).pop(order.uuid, None)
        for listener in self.on_close:
            listener(order)

    def restore(self, orders: list[Order], generation: int, seed: int) -> None:
        """Orders recovered from the journal of an earlier process (closed, off the books)."""
        for order in orders:
            self.orders[order.uuid] = order
            self.by_seq[order.seq] = order
            if order.identifier is not None:
                self._by_identifier[(order.account, order.identifier)] = order
            self._seq = max(self._seq, order.seq)
        # The same seed would hand out the recovered orders' uuids again.
        self._rng = random.Random(f"{seed}:{generation}")

    # -- queries and cancel ----------------------------------------------------------------

    def get(self, account: str, uuid: str) -> Order:
        """An account's order by uuid, or 404 ``order_not_found``."""
        order = self.orders.get(uuid)
        if order is None or order.account != account:
            raise ApiError(404, "order_not_found", "order not found")
        return order

    def by_identifier(self, account: str, identifier: str) -> Order | None:
        """An account's order by the client's own identifier."""
        return self._by_identifier.get((account, identifier))

    def orders_of(self, account: str):
        """Every order of an account (any state), in entry order."""
        return (o for o in self.orders.values() if o.account == account)

    def cancel(self, account: str, uuid: str) -> Order:
        """Cancel a resting order and release its locked funds."""
        order = self.get(account, uuid)
        if order.state != "wait":
            raise ApiError(400, "validation_error", f"order is already {order.state}")
        self.books[order.market].remove(order)
        self._finish(order, "cancel")
        return order

    def open_orders(self, account: str, market: str | None = None) -> list[Order]:
        """An account's resting orders, newest first."""
        orders = self.open_by_account.get(account, {}).values()
        chosen = [o for o in orders if market is None or o.market == market]
        return sorted(chosen, key=lambda o: o.seq, reverse=True)

    def open_count(self) -> int:
        """Resting orders on all books."""
        return sum(b.orders() for b in self.books.values())
