"""The exchange APIs the embedded exchange speaks: ``upbit`` (default), ``bithumb``, ``coinone``.

``get_dialect(name)`` loads one; each lives in its own package with its routes, request
signing, answer shapes, error envelope and websocket protocol, over the shared operations.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from surgeproof.exchange.dialects.base import Dialect

DIALECT_NAMES = ("upbit", "bithumb", "coinone")


def get_dialect(name: str) -> Dialect:
    """The dialect called ``name`` (one of ``DIALECT_NAMES``)."""
    if name not in DIALECT_NAMES:
        raise KeyError(name)
    return import_module(f"surgeproof.exchange.dialects.{name}").DIALECT
