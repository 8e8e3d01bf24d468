"""Integer money: every asset amount is a whole number of 1e-8 units, never a float.

Prices are KRW per one coin, also in 1e-8 KRW units, so ``notional(price, volume)`` stays an
integer and ledger sums are exact.
"""

from __future__ import annotations

import math
from decimal import Decimal

from surgeproof.exchange.decimal_text import decimal_text

UNIT = 10**8
_UNIT_DEC = Decimal(UNIT)
#: Refuse amounts beyond this (1e15 of anything) before they reach the book.
MAX_AMOUNT = 10**15 * UNIT

#: Upbit KRW-market tick sizes in force on 3 Dec 2024: (lower bound in KRW, tick in KRW).
_KRW_TICKS = (
    (Decimal(2_000_000), Decimal(1000)),
    (Decimal(1_000_000), Decimal(500)),
    (Decimal(500_000), Decimal(100)),
    (Decimal(100_000), Decimal(50)),
    (Decimal(10_000), Decimal(10)),
    (Decimal(1_000), Decimal(1)),
    (Decimal(100), Decimal("0.1")),
    (Decimal(10), Decimal("0.01")),
    (Decimal(1), Decimal("0.001")),
    (Decimal("0.1"), Decimal("0.0001")),
    (Decimal(0), Decimal("0.00001")),
)


#: Longest amount text accepted ("1000000000000000.00000001" is 25 characters).
MAX_AMOUNT_CHARS = 40
#: Amounts are refused beyond 10^±this before any arithmetic: Decimal work on "1e300000" (an
#: integer of 300,000 digits) is quadratic and stalls the event loop; 1e999999 overflows.
_MAX_EXPONENT = 30


def parse_amount(text: object) -> int | None:
    """An amount to units: plain ASCII decimal text (``"0.015"``) or a JSON number; None when it
    is anything else, not finite, beyond 10^±30 or finer than 8 decimal places."""
    if isinstance(text, bool):
        return None
    if isinstance(text, str):
        value = decimal_text(text, MAX_AMOUNT_CHARS)
    elif isinstance(text, int):
        value = Decimal(text) if abs(text) < 10**MAX_AMOUNT_CHARS else None
    elif isinstance(text, float) and math.isfinite(text):
        value = Decimal(repr(text))  # the number as its JSON text wrote it (1e-05 included)
    else:
        value = None
    if value is None:
        return None
    if value and not -_MAX_EXPONENT <= value.adjusted() <= _MAX_EXPONENT:
        return None
    scaled = value * _UNIT_DEC
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)


def to_decimal(units: int) -> Decimal:
    """Units to an exact Decimal."""
    return Decimal(units) / _UNIT_DEC


def fmt(units: int) -> str:
    """Units as Upbit writes amounts in JSON strings: plain decimal, at least one decimal place."""
    text = format(to_decimal(units).normalize(), "f")
    return text if "." in text else text + ".0"


def num(units: int) -> float:
    """Units as a JSON number (quotation APIs answer numbers, not strings)."""
    return units / UNIT


def tick_units(price_units: int) -> int:
    """The KRW-market tick size, in units, for a price in units."""
    price = to_decimal(price_units)
    for floor, tick in _KRW_TICKS:
        if price >= floor:
            return int(tick * _UNIT_DEC)
    return int(_KRW_TICKS[-1][1] * _UNIT_DEC)


def on_tick(price_units: int) -> bool:
    """Whether a price is a whole number of ticks."""
    return price_units > 0 and price_units % tick_units(price_units) == 0


def round_to_tick(price_units: int, down: bool = True) -> int:
    """The nearest tick at or below (or at or above) a price; never below one tick."""
    tick = tick_units(price_units)
    floor = price_units - price_units % tick
    if not down and floor != price_units:
        floor += tick
    return max(floor, tick)


def notional(price_units: int, volume_units: int) -> int:
    """KRW units paid for ``volume`` at ``price`` (rounded down, so locks always cover fills)."""
    return price_units * volume_units // UNIT


def fee_floor(krw_units: int, fee_bp: int) -> int:
    """The fee charged on one fill, rounded down (basis points of a basis point: 5 = 0.05%)."""
    return krw_units * fee_bp // 10_000


def fee_ceil(krw_units: int, fee_bp: int) -> int:
    """The fee reserved when an order is entered, rounded up so fills never exceed it."""
    return -(-krw_units * fee_bp // 10_000)
