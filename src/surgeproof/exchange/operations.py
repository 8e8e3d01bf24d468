"""The engine-facing operations every dialect translates to and from: place, cancel, look up,
list, balances. Dialects parse their own request shapes, call these, and render the result.

Errors are ``ApiError`` with the exchange's own names (``validation_error``,
``market_does_not_exist``, ``order_not_found``, ``insufficient_funds_bid``, ...); each dialect
renders them in its envelope.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from surgeproof.exchange.decimal_text import whole_value
from surgeproof.exchange.errors import ApiError, validation
from surgeproof.exchange.ledger import Balance
from surgeproof.exchange.money import MAX_AMOUNT, parse_amount
from surgeproof.exchange.orders import Order
from surgeproof.exchange.state import ExchangeState

SIDES = ("bid", "ask")
#: limit; price = market buy spending a KRW amount; market = market sell of a volume.
ORDER_TYPES = ("limit", "price", "market")
ORDER_STATES = ("wait", "watch", "done", "cancel")


def amount(raw: object, name: str) -> int | None:
    """A decimal amount parameter in units; None when absent; 400 when malformed."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise validation(f"{name} must be a decimal number")
    units = parse_amount(raw)
    if units is None:
        raise validation(f"{name} must be a decimal number with at most 8 decimal places")
    if units <= 0:
        raise validation(f"{name} must be positive")
    if units > MAX_AMOUNT:
        raise validation(f"{name} is too large")
    return units


def market_of(state: ExchangeState, market: object) -> str:
    """A known market code (``KRW-BTC``), or 400 when missing / 404 when unknown."""
    if not isinstance(market, str) or not market:
        raise validation("market is required")
    if market not in state.engine.books:
        raise ApiError(404, "market_does_not_exist", f"market {market} does not exist")
    return market


@dataclass(frozen=True)
class OrderRequest:
    """An order as every dialect's order entry means it."""

    market: str
    side: str  # bid | ask
    ord_type: str  # limit | price | market
    price: int | None
    volume: int | None
    identifier: str | None = None


def order_request(
    state: ExchangeState,
    market: object,
    side: object,
    ord_type: object,
    price: object,
    volume: object,
    identifier: object = None,
) -> OrderRequest:
    """Validate raw order fields (already in the neutral vocabulary) into an OrderRequest."""
    code = market_of(state, market)
    if side not in SIDES:
        raise validation("side must be bid or ask")
    if ord_type not in ORDER_TYPES:
        raise validation("the order type must be limit, price or market")
    if identifier is not None and (not isinstance(identifier, str) or len(identifier) > 100):
        raise validation("the client order id must be a string of at most 100 characters")
    return OrderRequest(
        code, side, ord_type, amount(price, "price"), amount(volume, "volume"), identifier
    )


def place(state: ExchangeState, account: str, req: OrderRequest) -> Order:
    """Enter an order; acknowledged (booked for reconciliation) once this returns."""
    if req.identifier is not None and state.engine.by_identifier(account, req.identifier):
        raise validation("the client order id was already used")
    ref = state.prices.refs[req.market].units()
    order = state.engine.place(
        account, req.market, req.side, req.ord_type, req.price, req.volume, req.identifier, ref
    )
    # Acknowledged from here on: the order is in the store before the answer leaves.
    state.acked.append(order.uuid)
    if state.durable is not None:
        state.durable.acked(order)
    state.metrics.at(int(time.time())).orders_acked += 1
    return order


def find(
    state: ExchangeState, account: str, uuid: str | None = None, identifier: str | None = None
) -> Order:
    """An account's order by the exchange's id or the client's identifier (404 otherwise)."""
    if uuid:
        return state.engine.get(account, uuid)
    if identifier:
        order = state.engine.by_identifier(account, identifier)
        if order is None:
            raise ApiError(404, "order_not_found", "order not found")
        return order
    raise validation("an order id or a client order id is required")


def cancel(state: ExchangeState, order: Order) -> Order:
    """Cancel a resting order (400 when it is no longer open)."""
    return state.engine.cancel(order.account, order.uuid)


def orders(
    state: ExchangeState, account: str, wanted: str, market: str | None = None
) -> list[Order]:
    """An account's orders in one state, newest first (``wait`` = open)."""
    if wanted not in ORDER_STATES:
        raise validation("state must be wait, watch, done or cancel")
    if wanted == "wait":
        return state.engine.open_orders(account, market)
    if wanted == "watch":
        return []  # no stop orders in the reference exchange
    return sorted(
        (
            o
            for o in state.engine.orders_of(account)
            if o.state == wanted and (market is None or o.market == market)
        ),
        key=lambda o: o.seq,
        reverse=True,
    )


def balances(state: ExchangeState, account: str) -> list[tuple[str, Balance, int]]:
    """(asset, balance, average buy price in units) of an account; KRW first."""
    held = state.ledger.balances.get(account, {})
    assets = sorted(held, key=lambda a: (a != "KRW", a))
    return [
        (a, held[a], state.ledger.avg_buy.get((account, a), 0) if a != "KRW" else 0) for a in assets
    ]


def count(raw: object, name: str, default: int, low: int, high: int) -> int:
    """A whole-number parameter within bounds: ASCII digits (or a JSON integer), else 400."""
    if raw is None or raw == "":
        return default
    value = whole_value(raw)
    if value is None:
        raise validation(f"{name} must be a whole number")
    if not low <= value <= high:
        raise validation(f"{name} must be between {low} and {high}")
    return value
