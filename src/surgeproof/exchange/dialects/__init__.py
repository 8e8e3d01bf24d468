"""The exchange APIs the embedded exchange speaks: ``upbit`` (default), ``bithumb``, ``coinone``.

``get_dialect(name)`` loads one; each lives in its own package with its routes, request
signing, answer shapes, error envelope and websocket protocol, over the shared operations.
The names are those ``quotas`` gives quotas for (a leaf the config reads without loading any
dialect); a test ties them to the packages here and to the client's built-in dialects.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from surgeproof.exchange.dialects.quotas import DEFAULTS

if TYPE_CHECKING:
    from surgeproof.exchange.dialects.base import ServedDialect

DIALECT_NAMES = tuple(DEFAULTS)


def get_dialect(name: str) -> ServedDialect:
    """The dialect called ``name`` (one of ``DIALECT_NAMES``)."""
    if name not in DIALECT_NAMES:
        raise KeyError(name)
    return import_module(f"surgeproof.exchange.dialects.{name}").DIALECT
