"""Where an answer keeps a value: a JSON-pointer-like path such as ``/0/trade_price``.

``/tickers/0/last`` walks mapping keys and list indexes (RFC 6901, with ``~1`` for ``/`` and
``~0`` for ``~`` in a key). A path that does not fit the answer yields None, never an error:
an answer of the wrong shape is something the probe reports, not a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class PointerError(ValueError):
    """A path that is not written like ``/key/0/key``."""


@dataclass(frozen=True)
class Pointer:
    """A compiled path into a JSON answer."""

    text: str
    steps: tuple[str | int, ...]

    def find(self, doc: Any) -> Any:
        """The value at this path in ``doc``, or None when the answer has no such place."""
        node = doc
        for step in self.steps:
            if isinstance(node, dict):
                node = node.get(step if isinstance(step, str) else str(step))
            elif isinstance(node, list) and isinstance(step, int):
                if not -len(node) <= step < len(node):
                    return None
                node = node[step]
            else:
                return None
            if node is None:
                return None
        return node


def compile_pointer(text: str) -> Pointer:
    """``/a/0/b`` → a Pointer; ``""`` or ``/`` is the whole answer."""
    if not isinstance(text, str) or not (text == "" or text.startswith("/")):
        raise PointerError(f"expected a path like /0/trade_price, got {text!r}")
    steps: list[str | int] = []
    for raw in text.split("/")[1:]:
        if raw == "" and text == "/":
            break
        key = raw.replace("~1", "/").replace("~0", "~")
        is_index = key.isascii() and key.lstrip("-").isdigit() and len(key) <= 18
        steps.append(int(key) if is_index else key)
    return Pointer(text, tuple(steps))
