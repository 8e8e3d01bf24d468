"""Numbers that people write in files and flags, read strictly: ASCII decimal only, finite.

Python's ``int()`` and ``float()`` read far more than anyone means by a number: other scripts'
digits (``"١٢٣"`` is 123), underscores (``"1_000"``), surrounding whitespace, a leading ``+``,
``nan``, ``inf``, ``infinity``. Every number surgeproof takes as text from a scenario, profile,
trace, dialect answer or command-line flag is read here instead: an optional ``-``, ASCII digits
with at most one ``.``, and an optional exponent (``1e-3``, as the docs show for scale factors).
Anything else is a ValueError, which each caller turns into its one-line error.
"""

from __future__ import annotations

import argparse
import math
import re

#: The text of one number: ``12``, ``-0.5``, ``.5``, ``2.``, ``1e-3``, ``1.5E+6``.
NUMBER = r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_NUMBER = re.compile(NUMBER, re.ASCII)
_WHOLE = re.compile(r"-?[0-9]+", re.ASCII)
#: Longer number text than this is not something a person wrote.
MAX_NUMBER_CHARS = 64


def is_number_text(text: object) -> bool:
    """Whether ``text`` is one plain ASCII decimal number (finite or not: see parse_number)."""
    return isinstance(text, str) and len(text) <= MAX_NUMBER_CHARS and bool(_NUMBER.fullmatch(text))


def parse_number(text: str, what: str = "a number") -> float:
    """``"2.5"`` → 2.5; ValueError for anything but plain ASCII decimal, or beyond floats."""
    if not is_number_text(text):
        raise ValueError(f"not {what} in plain decimal digits: {_shown(text)}")
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{what} is too large: {_shown(text)}")
    return number


def parse_whole(text: str, what: str = "a whole number") -> int:
    """``"42"`` → 42; ValueError for anything but an optional ``-`` and ASCII digits."""
    if not isinstance(text, str) or len(text) > MAX_NUMBER_CHARS or not _WHOLE.fullmatch(text):
        raise ValueError(f"not {what} in plain digits: {_shown(text)}")
    return int(text)


def number_arg(text: str) -> float:
    """An argparse ``type``: a finite number in plain decimal (its error is one line)."""
    try:
        return parse_number(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number in plain decimal digits like 10 or 2.5, got {_shown(text)}"
        ) from None


def whole_arg(text: str) -> int:
    """An argparse ``type``: a whole number in plain digits (its error is one line)."""
    try:
        return parse_whole(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number in plain digits like 4, got {_shown(text)}"
        ) from None


def _shown(text: object) -> str:
    shown = repr(text)
    return shown if len(shown) <= 40 else shown[:37] + "..."
