"""analysis.json's text: exactly what ``json.dumps(doc, indent=1, allow_nan=False)`` writes,
at the speed of the C encoder for the long per-window columns.

With an indent, the standard library encodes in pure Python, one generator step per value: a
night of 10,800 one-second windows holds a few million values, and encoding them cost more than
analysing the records. Here each list of plain scalars (numbers, booleans, nulls — no strings,
so no value holds a comma) is encoded by the C encoder in one call and laid out one value a line
as the indented encoder lays it; everything else follows the indented encoder's rules.
"""

from __future__ import annotations

import json
from typing import Any

_FLAT = json.JSONEncoder(allow_nan=False, separators=(",", ":"))
_SCALARS = (int, float, bool, type(None))


def dumps(doc: Any) -> str:
    """``json.dumps(doc, indent=1, allow_nan=False)``, byte for byte."""
    parts: list[str] = []
    _encode(doc, 0, parts)
    return "".join(parts)


def _encode(o: Any, depth: int, out: list[str]) -> None:
    if isinstance(o, dict):
        if not o:
            out.append("{}")
            return
        inner = "\n" + " " * (depth + 1)
        out.append("{")
        first = True
        for k, v in o.items():
            out.append(inner if first else "," + inner)
            first = False
            out.append(_FLAT.encode(_key(k)))
            out.append(": ")
            _encode(v, depth + 1, out)
        out.append("\n" + " " * depth + "}")
    elif isinstance(o, list | tuple):
        if not o:
            out.append("[]")
            return
        inner = "\n" + " " * (depth + 1)
        values = _FLAT.encode(o)[1:-1] if isinstance(o[0], _SCALARS) else None
        # No quote, brace or bracket inside: every value is a number, boolean or null.
        if values is not None and not any(c in values for c in '"[{'):
            out.append("[" + inner)
            out.append(values.replace(",", "," + inner))
        else:
            out.append("[")
            first = True
            for v in o:
                out.append(inner if first else "," + inner)
                first = False
                _encode(v, depth + 1, out)
        out.append("\n" + " " * depth + "]")
    else:
        out.append(_FLAT.encode(o))


def _key(k: Any) -> str:
    """A key as the standard encoder turns it into text (it accepts these, and only these)."""
    if isinstance(k, str):
        return k
    if k is True:
        return "true"
    if k is False:
        return "false"
    if k is None:
        return "null"
    if isinstance(k, float):
        return _FLAT.encode(k)
    if isinstance(k, int):
        return int.__repr__(k)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(k).__name__}")
