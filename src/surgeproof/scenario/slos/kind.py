"""What an SLO kind is: the one place that knows how an objective of its kind is read, measured,
judged and shown.

Scenario parsing, the analysis (levels, series windows, the gate's re-judging), the live metrics,
the gate and the report all ask the kind; none of them compares a metric's name. A kind is one
file in this package that defines ``KIND``, an instance of a :class:`SloKind` subclass; the
registry (``surgeproof.scenario.slos``) finds it there.

A kind measures a *window* (a level, a one-second series window, the whole run) of one endpoint
group from that window's group statistics (:class:`GroupFigures`), which the analysis computes
from the raw records; the judging rule that follows is the same for every kind: judged only on
enough samples (or on a breach no missing sample could undo), broken when the value lies past
the limit in the kind's direction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import Slo


class AnsweredSeconds(Protocol):
    """A window's seconds, for kinds that judge second by second (see ``second_bounds``)."""

    #: Seconds of the window in which the group had calls (the others prove nothing).
    judged: int

    def up(self, bound_ms: float) -> int:
        """Of those, the seconds in which every call was answered within ``bound_ms`` without
        a capacity error (the causes ``error_ratio`` counts)."""
        ...


class GroupFigures(Protocol):
    """What the analysis measured of one endpoint group over one window."""

    count: int
    errors: Mapping[str, int]
    error_ratio: float | None
    latency_ms: Mapping[str, float | None]
    #: Per-second figures, present where some SLO's kind asks for them (``second_bounds``).
    seconds: AnsweredSeconds | None


class SloKind:
    """One kind of service-level objective (subclass it in a file of this package)."""

    #: The kind's name: gate checks are of this kind; documentation lists it.
    name: str = ""
    #: The keys an SLO entry gives it by (``p99``); analysis.json's ``metric``.
    metrics: tuple[str, ...] = ()
    #: Where the kind comes when kinds are listed (error messages, documentation).
    order: int = 0
    #: Unit of the limit and of the measured value in analysis.json (``ms``, ``ratio``).
    unit: str = ""
    #: The example a parse error shows (``{group: orders, p99: 800ms}``).
    example: str = ""
    #: Names of the options (``Slo.options``) every SLO of the kind carries, beside its limit.
    options: tuple[str, ...] = ()

    def parse(self, group: str, metric: str, f: Field) -> Slo:
        """The SLO an entry's ``metric: value`` states, or a ScenarioError naming ``f``."""
        raise NotImplementedError

    def text(self, slo: Slo) -> str:
        """The SLO in words, as every list and breach names it: ``orders p99 <= 800 ms``."""
        raise NotImplementedError

    # Measuring

    def value(self, slo: Slo, stats: GroupFigures) -> float | None:
        """The window's value; None when the window has nothing to measure it on."""
        raise NotImplementedError

    def series(self, slo: Slo, columns: Mapping[str, Any]) -> Any:
        """The value per series window (a numpy array, NaN where unmeasured) from a group's
        ``timeseries`` columns; None when the columns cannot give it."""
        raise NotImplementedError

    def samples(self, slo: Slo, stats: GroupFigures | None) -> int:
        """What the value rests on (latency samples, calls, seconds): the judging minimum
        counts these."""
        raise NotImplementedError

    def samples_needed(self, slo: Slo, min_samples: int, tail_samples: int) -> int:
        """Samples a window needs before a pass can be claimed (``settings.judging``)."""
        return min_samples

    def certain_breach(self, slo: Slo, stats: GroupFigures, need: int) -> bool:
        """Whether ``stats``, short of ``need`` samples, already break ``slo`` whatever the
        missing samples would show (default: never)."""
        return False

    def second_bounds(self, slo: Slo) -> tuple[float, ...]:
        """Latency bounds (ms) whose answered seconds the kind reads (``GroupFigures.seconds``);
        empty when it needs no per-second figures."""
        return ()

    # Judging

    #: True: a value above the limit breaks it; False: a value below it.
    upper_limit: bool = True

    def breaks(self, slo: Slo, value: Any) -> Any:
        """The one comparison (scalars or numpy arrays; NaN never breaks)."""
        return value > slo.limit if self.upper_limit else value < slo.limit

    def excess(self, slo: Slo, value: float) -> float:
        """How far ``value`` lies toward breaking: 1 at the limit, above 1 past it (the worst
        of several windows or breaches is the largest)."""
        if self.upper_limit:
            return value / max(slo.limit, 1e-12)
        return (1.0 - value) / max(1.0 - slo.limit, 1e-12)

    # Showing

    def describe(self, group: str, slo: Slo, value: float) -> str:
        """A breach in words: ``orders p99 2340.0 ms > 800 ms``."""
        raise NotImplementedError

    def format_value(self, slo: Slo, value: float) -> str:
        """A measured value as the gate prints it, with its unit."""
        raise NotImplementedError

    def format_limit(self, slo: Slo) -> str:
        """The limit as the gate prints it: ``<= 800.0 ms``."""
        raise NotImplementedError

    # Live metrics: one gauge family per kind carries the scenario's limits.

    #: (name, help text, label names) of the gauge family of this kind's limits.
    gauge: tuple[str, str, tuple[str, ...]] = ("", "", ())

    def gauge_sample(self, slo: Slo) -> tuple[list[str], float]:
        """(label values, value) of ``slo`` in the kind's gauge family."""
        raise NotImplementedError

    def latency_bound_ms(self, slo: Slo) -> float | None:
        """A latency the live histogram must have as an exact bucket bound, if any."""
        return None
