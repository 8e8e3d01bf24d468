"""Durations, latencies, rates and scale factors as people write them in scenario files."""

from __future__ import annotations

import math
import re

from surgeproof.scenario.numbers import is_number_text, parse_number

_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)", re.ASCII)
_DURATION_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_RATE = re.compile(r"([0-9]+(?:\.[0-9]+)?) *\/ *(s|sec|m|min|h)", re.ASCII)
_RATE_SECONDS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_DECIMAL = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_SCALE = re.compile(rf"({_DECIMAL})(?: */ *({_DECIMAL}))?", re.ASCII)


def _finite(value: float | int | str, what: str) -> float:
    """``float(value)``, or a ValueError for NaN, an infinity or an int too large for a float.

    Every parser here answers with a finite number or a ValueError, nothing else: ``1e400``,
    ``.inf``, ``"١٢٣"``, ``"1_000"`` and a 400-digit integer are input errors, not numbers to
    compute with. Text is read by ``numbers.parse_number`` (plain ASCII decimal only).
    """
    if isinstance(value, str):
        return parse_number(value, what)
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{what} is too large: {str(value)[:20]}...") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite number, got {str(value)[:20]!r}")
    return number


def parse_duration(text: str | float) -> float:
    """Seconds in ``90``, ``90s``, ``5m``, ``1h30m``, ``250ms``; ValueError otherwise."""
    if isinstance(text, bool):
        raise ValueError("a boolean is not a duration")
    if isinstance(text, int | float):
        return _finite(text, "a duration")
    if not isinstance(text, str):
        raise ValueError(f"not a duration: {type(text).__name__}")
    if text != text.strip():
        raise ValueError(f"not a duration: {text!r} (space around it)")
    compact = text.replace(" ", "")
    if not compact:
        raise ValueError("empty duration")
    if compact.startswith("-") and len(compact) > 1:
        return -parse_duration(compact[1:])
    if _is_number(compact):
        return _finite(compact, "a duration")
    pos, total, seen = 0, 0.0, []
    for m in _DURATION_PART.finditer(compact):
        if m.start() != pos:
            break
        unit = m.group(2)
        if unit in seen or (seen and _order(unit) <= _order(seen[-1])):
            raise ValueError(f"units out of order in {text!r}")
        seen.append(unit)
        total += float(m.group(1)) * _DURATION_SECONDS[unit]
        pos = m.end()
    if pos != len(compact) or not seen:
        raise ValueError(f"not a duration: {text!r}")
    return _finite(total, "a duration")


def _order(unit: str) -> int:
    return ("h", "m", "s", "ms").index(unit)


def parse_latency_ms(text: str | float) -> float:
    """Milliseconds in ``800ms``, ``1.5s``, or a plain number (already milliseconds)."""
    if isinstance(text, bool):
        raise ValueError("a boolean is not a latency")
    if isinstance(text, int | float) or (isinstance(text, str) and _is_number(text)):
        return _finite(text, "a latency")
    return _finite(parse_duration(text) * 1000.0, "a latency")


def parse_rate(text: str | float) -> float:
    """Events per second in ``500/s``, ``30000/min``, ``2/h`` or a plain number (per second)."""
    if isinstance(text, bool):
        raise ValueError("a boolean is not a rate")
    if isinstance(text, int | float) or (isinstance(text, str) and _is_number(text)):
        return _finite(text, "a rate")
    m = _RATE.fullmatch(text) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"not a rate: {text!r}")
    return _finite(float(m.group(1)) / _RATE_SECONDS[m.group(2)], "a rate")


def parse_ratio(text: str | float) -> float:
    """A ratio from ``0.01`` or ``1%``."""
    if isinstance(text, bool):
        raise ValueError("a boolean is not a ratio")
    if isinstance(text, int | float):
        return _finite(text, "a ratio")
    if not isinstance(text, str):
        raise ValueError(f"not a ratio: {type(text).__name__}")
    if text.endswith("%") and _is_number(text[:-1]):
        return _finite(text[:-1], "a ratio") / 100.0
    if _is_number(text):
        return _finite(text, "a ratio")
    raise ValueError(f"not a ratio: {text!r}")


def parse_scale(text: str | float) -> float:
    """A positive, finite scale factor from ``1/24``, ``0.001`` or ``1e-3``.

    Read with floats, not ``fractions.Fraction``: Fraction builds ``10**n`` exactly for an
    exponent ``n``, so ``1e999999999`` would take minutes and gigabytes before failing.
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = _finite(text, "a scale factor")
    else:
        m = _SCALE.fullmatch(str(text))
        if not m:
            raise ValueError(f"not a scale factor: {text!r} (use e.g. 1/24 or 0.5)")
        value = float(m.group(1))
        if m.group(2) is not None:
            divisor = float(m.group(2))
            if divisor == 0:
                raise ValueError(f"not a scale factor: {text!r} (division by zero)")
            value = value / divisor
    if not math.isfinite(value) or not value > 0:
        raise ValueError(f"a scale factor must be positive and finite, got {text!r}")
    return value


def format_duration(seconds: float) -> str:
    """``1h30m``, ``5m``, ``42s``, ``2.5s``: the shortest form that reads back exactly."""
    if seconds < 0:
        return "-" + format_duration(-seconds)
    seconds = round(seconds, 3)
    if seconds < 60:
        return f"{seconds:g}s"
    whole = int(seconds)
    h, rest = divmod(whole, 3600)
    m, _ = divmod(rest, 60)
    s = round(seconds - h * 3600 - m * 60, 3)
    return "".join(f"{n:g}{u}" for n, u in ((h, "h"), (m, "m"), (s, "s")) if n) or "0s"


def _is_number(text: str) -> bool:
    return is_number_text(text)
