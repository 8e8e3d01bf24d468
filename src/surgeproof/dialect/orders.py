"""How a dialect's orders are read back and stood in for: the ``reconcile`` and ``market_orders``
sections of a dialect file.

``reconcile`` says what ``order_status`` answers mean: which of the exchange's own state words
are open, filled or cancelled, and which answer says "no such order" (a lost order). With it,
every order the exchange acknowledged during a run can be looked up afterwards and classified.

``market_orders`` is for exchanges without market orders: a market buy or sell is sent as a
*marketable* limit order, priced from the last ticker price the person saw and a stated
distance through the book (a sell ``through`` below it, a buy above it), so it crosses the
spread and fills at once as a market order would.
"""

from __future__ import annotations

from dataclasses import dataclass

from surgeproof.dialect.pointer import Pointer, PointerError, compile_pointer
from surgeproof.scenario.fields import Field

#: What an order's state can mean, whatever the exchange calls it. A partly filled order is
#: ``open`` while it rests and ``cancelled`` once cancelled; its executed volume tells the rest.
ORDER_STATES = ("open", "filled", "cancelled")
#: Largest distance through the book a marketable limit order may be priced at (a fraction).
MAX_THROUGH = 0.5
#: Market actions a ``market_orders`` stand-in replaces.
MARKET_ACTIONS = ("market_buy", "market_sell")


@dataclass(frozen=True)
class ReconcileRules:
    """How ``order_status`` answers are read: state words and the "no such order" answer."""

    #: The exchange's state word (as text) -> one of ORDER_STATES.
    states: dict[str, str]
    #: HTTP statuses that mean the exchange does not know the order.
    unknown_statuses: frozenset[int] = frozenset()
    #: Error codes (as text) that mean the exchange does not know the order.
    unknown_codes: frozenset[str] = frozenset()
    #: Where an answer keeps its error code; None: the dialect's ``errors.code``.
    code_pointer: Pointer | None = None

    def state_of(self, raw: object) -> str | None:
        """The canonical state of the exchange's word ``raw``; None when the word is not mapped."""
        if raw is None or isinstance(raw, dict | list):
            return None
        return self.states.get(str(raw))


@dataclass(frozen=True)
class MarketOrders:
    """Market orders sent as marketable limit orders ``through`` (a fraction) past the last
    ticker price the person saw."""

    through: float

    def describe(self) -> str:
        return (
            f"market orders are sent as limit orders {self.through:.2%} through the last ticker "
            "price the person saw (a sell below it, a buy above it)"
        )


def parse_reconcile(f: Field | None) -> ReconcileRules | None:
    """The ``reconcile`` section, or None."""
    if f is None:
        return None
    spec = f.fields(("states", "unknown_order", "code"), required=("states",))
    sf = spec["states"]
    if not isinstance(sf.value, dict) or not sf.value:
        raise sf.expected("a mapping of the exchange's state word to open, filled or cancelled")
    states: dict[str, str] = {}
    for word, meaning in sf.value.items():
        where = Field(f.source, f"{sf.path}.{word}", meaning)
        if isinstance(word, bool | dict | list) or word is None:
            raise where.error("expected the exchange's state word as the key")
        if meaning not in ORDER_STATES:
            raise where.expected("one of " + ", ".join(ORDER_STATES))
        states[str(word)] = str(meaning)
    statuses: frozenset[int] = frozenset()
    codes: frozenset[str] = frozenset()
    if "unknown_order" in spec:
        u = spec["unknown_order"].fields(("statuses", "codes"))
        if not u:
            raise spec["unknown_order"].expected("statuses and/or codes")
        if "statuses" in u:
            statuses = frozenset(_status(i) for i in u["statuses"].items())
        if "codes" in u:
            codes = frozenset(_code(i) for i in u["codes"].items())
    pointer = None
    if "code" in spec:
        if not isinstance(spec["code"].value, str):
            raise spec["code"].expected("a path like /error/name")
        try:
            pointer = compile_pointer(spec["code"].value)
        except PointerError as exc:
            raise spec["code"].error(str(exc)) from None
    return ReconcileRules(states, statuses, codes, pointer)


def _status(f: Field) -> int:
    v = f.value
    if isinstance(v, bool) or not isinstance(v, int) or not 100 <= v <= 599:
        raise f.expected("an HTTP status (100-599)")
    return v


def _code(f: Field) -> str:
    v = f.value
    if isinstance(v, bool) or not isinstance(v, str | int) or str(v).strip() == "":
        raise f.expected("an error code (text or a number)")
    return str(v)


def parse_market_orders(f: Field | None, actions: dict[str, object]) -> MarketOrders | None:
    """The ``market_orders`` section, or None; refused when it could never be used."""
    if f is None:
        return None
    spec = f.fields(("as", "through"), required=("as", "through"))
    if spec["as"].value != "limit_order":
        raise spec["as"].expected("limit_order (the only stand-in for a market order)")
    through = spec["through"].ratio()
    if not 0 < through <= MAX_THROUGH:
        raise spec["through"].expected(f"a distance through the book in (0, {MAX_THROUGH:.0%}]")
    if "limit_order" not in actions:
        raise f.error("market orders are sent as limit orders, but there is no 'limit_order'")
    both = [a for a in MARKET_ACTIONS if a in actions]
    if both:
        raise f.error(
            f"the dialect has {', '.join(both)}: market orders are sent as such; remove "
            "'market_orders' or the market actions (`market_buy: null` with extends)"
        )
    return MarketOrders(through)
