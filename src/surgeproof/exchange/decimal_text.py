"""Numbers written as text by clients, flags and config files, read strictly: ASCII decimal only.

Python's ``int()``, ``float()`` and ``Decimal()`` read far more than any client means by a
number: other scripts' digits (``"١٢٣"`` is 123), underscores (``"1_000"``), surrounding
whitespace, a leading ``+``, ``nan``, ``inf`` and exponents (``"1e400"``). Every number the
exchange takes from outside goes through here instead: optional ``-``, ASCII digits, and for
decimals one ``.`` followed by ASCII digits; anything else, or anything longer than its bound, is
not a number (``None``), and the caller answers with its dialect's validation error.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

_WHOLE = re.compile(r"-?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)
_UNSIGNED_FLOAT = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)

#: A whole number of at most this many characters fits any counter, id or millisecond time.
MAX_WHOLE_CHARS = 20
#: Longest decimal text read ("1000000000000000.00000001" is 25 characters).
MAX_DECIMAL_CHARS = 40


def whole_text(text: str, max_chars: int = MAX_WHOLE_CHARS) -> int | None:
    """``"-12"`` → -12; None for anything but an optional ``-`` and ASCII digits."""
    if not isinstance(text, str) or len(text) > max_chars or not _WHOLE.fullmatch(text):
        return None
    return int(text)


def decimal_text(text: str, max_chars: int = MAX_DECIMAL_CHARS) -> Decimal | None:
    """``"0.015"`` → Decimal; None for anything but plain ASCII decimal notation."""
    if not isinstance(text, str) or len(text) > max_chars or not _DECIMAL.fullmatch(text):
        return None
    return Decimal(text)


def whole_value(value: object, max_chars: int = MAX_WHOLE_CHARS) -> int | None:
    """A whole number given as a JSON integer or as text; None otherwise (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < 10**max_chars else None
    if isinstance(value, str):
        return whole_text(value, max_chars)
    return None


def float_text(text: str, max_chars: int = MAX_DECIMAL_CHARS) -> float | None:
    """A non-negative finite float from plain decimal text (``"12.5"``); None otherwise."""
    if not isinstance(text, str) or len(text) > max_chars or not _UNSIGNED_FLOAT.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None
