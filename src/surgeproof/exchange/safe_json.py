"""JSON from clients, parsed with bounds checked first: nesting depth and number sizes.

``json.loads`` recurses once per nesting level (a body of 100,000 ``[`` raises RecursionError)
and turns a 100,000-digit number into an int in quadratic time; the exchange refuses both
before the parser does any of that work.
"""

from __future__ import annotations

import json
import math
import re

#: Deepest nesting accepted (the exchange's documents are at most three levels deep).
MAX_DEPTH = 32
#: Longest number token accepted (an amount with 8 decimals and 16 digits needs 25).
MAX_NUMBER_CHARS = 64

_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


class JsonTooComplex(ValueError):
    """The document is nested too deeply or holds a number too long to parse cheaply."""


def nesting_depth(raw: bytes) -> int:
    """The deepest bracket nesting of a JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRINGS.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
        else:
            depth -= 1
    return deepest


def _number(kind):
    def parse(token: str):
        if len(token) > MAX_NUMBER_CHARS:
            raise JsonTooComplex(f"a number of {len(token)} characters")
        value = kind(token)
        if kind is float and not math.isfinite(value):  # 1e400 reads as infinity
            raise JsonTooComplex(f"{token} is beyond any finite number")
        return value

    return parse


def _constant(name: str):
    raise JsonTooComplex(f"{name} is not JSON")


def loads_bounded(raw: bytes | str, max_depth: int = MAX_DEPTH) -> object:
    """``json.loads`` that refuses deep nesting, long numbers, NaN/Infinity and 1e400."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    depth = nesting_depth(data)
    if depth > max_depth:
        raise JsonTooComplex(f"nested {depth} levels deep, at most {max_depth} accepted")
    return json.loads(
        data, parse_int=_number(int), parse_float=_number(float), parse_constant=_constant
    )
