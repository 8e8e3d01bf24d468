"""SLO kinds: the one list of them, found in this package's files.

Each module here (but ``kind``) defines ``KIND``, one :class:`SloKind`; adding a kind is adding
a file. Everything that names SLO metrics — scenario and ``--slo`` parsing, the analysis, the
live metrics, the gate — derives them from :data:`KINDS`.
"""

from __future__ import annotations

import importlib
import pkgutil

from surgeproof.scenario.model import WRITERS, Slo
from surgeproof.scenario.slos.kind import AnsweredSeconds, GroupFigures, SloKind


def _discover() -> tuple[SloKind, ...]:
    found = []
    for module in pkgutil.iter_modules(__path__):
        if module.name == "kind" or module.name.startswith("_"):
            continue
        kind = getattr(importlib.import_module(f"{__name__}.{module.name}"), "KIND", None)
        if isinstance(kind, SloKind):
            found.append(kind)
    return tuple(sorted(found, key=lambda k: (k.order, k.name)))


#: Every SLO kind, in listing order.
KINDS: tuple[SloKind, ...] = _discover()

#: Every metric an SLO may name, in listing order (a kind's metrics in its own order).
METRICS: tuple[str, ...] = tuple(m for kind in KINDS for m in kind.metrics)

_BY_METRIC = {m: kind for kind in KINDS for m in kind.metrics}


def kind_of(slo: Slo | str) -> SloKind:
    """The kind of ``slo`` (or of a metric name); KeyError for a metric no kind has."""
    return _BY_METRIC[slo if isinstance(slo, str) else slo.metric]


def slo_text(slo: Slo) -> str:
    """``slo`` as written (``login p99 <= 800ms``): what ``str(slo)`` says."""
    return kind_of(slo).text(slo)


WRITERS[Slo] = slo_text


def kind_named(name: str) -> SloKind:
    """The kind called ``name`` (``latency``, ``error_ratio``, ...); KeyError when none is."""
    for kind in KINDS:
        if kind.name == name:
            return kind
    raise KeyError(name)


__all__ = [
    "KINDS",
    "METRICS",
    "AnsweredSeconds",
    "GroupFigures",
    "SloKind",
    "kind_named",
    "kind_of",
    "slo_text",
]
