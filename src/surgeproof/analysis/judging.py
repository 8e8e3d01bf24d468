"""Every threshold a verdict depends on, as one record (``analysis.json`` ``settings.judging``).

A window is judged only when it is long enough and holds enough calls for the rule applied;
below that it is *inconclusive: too short*, never a pass or a fail. Each minimum says what it
protects:

* ``min_window_s``: in-flight calls at a window's edges, ramps and one slow second weigh too much
  in a shorter window (the traced night at 1/240 made 0.25-second levels of 14 records).
* ``min_calls``: calls the saturation rule compares with what was asked; with fewer, one answer
  landing just outside the window moves the ratio by more than its tolerance.
* ``min_samples``: a group with fewer samples has none of its SLOs judged in that window.
* ``tail_samples``: a percentile p is judged only with at least ``tail_samples / (1 - p)``
  samples (p99: 100, p99.9: 1,000), so that samples lie beyond its rank; an error-ratio limit L
  needs ``tail_samples / L`` calls (1%: 100), so that one error alone cannot break it; with
  fewer, more than ``tail_samples`` errors (``L`` × that minimum) still break it
  (``slo.decides``): a pass needs the volume, a certain breach does not.

The saturation thresholds (:mod:`surgeproof.analysis.saturation`) live here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from surgeproof.errors import UserError
from surgeproof.scenario.judgeable import MIN_JUDGED_WINDOW_S
from surgeproof.scenario.model import Slo
from surgeproof.scenario.slos import kind_of


@dataclass(frozen=True)
class Judging:
    """Minimums for a verdict and the saturation thresholds; defaults are the documented ones."""

    min_window_s: float = MIN_JUDGED_WINDOW_S
    min_calls: int = 200
    min_samples: int = 20
    tail_samples: int = 1
    #: Saturated when the throughput a level bought is below this share of what its users asked
    #: for (open model: the calls they asked the target for; closed model: their number times
    #: the per-user throughput of the lowest-load level).
    saturation_ratio: float = 0.9
    #: ... or when the users asked for more than the highest throughput any level measured, by
    #: more than this share, while the level's own throughput is at that top (asymptotic bounds).
    demand_margin: float = 0.05
    #: Closed model: saturated when the users' share of their cycle spent waiting at the target
    #: (Little's law: throughput × mean latency / users) closed this much of the gap to 100%
    #: from its low-load value: latency grew at flat throughput.
    queue_growth: float = 0.8
    #: Levels whose throughput lies within this share of the highest measured form the plateau.
    plateau_flat: float = 0.05

    def __post_init__(self) -> None:
        checks = (
            ("min_window_s", self.min_window_s >= 0),
            ("min_calls", self.min_calls >= 0),
            ("min_samples", self.min_samples >= 0),
            ("tail_samples", self.tail_samples >= 0),
            ("saturation_ratio", 0 < self.saturation_ratio <= 1),
            ("demand_margin", self.demand_margin >= 0),
            ("queue_growth", 0 < self.queue_growth <= 1),
            ("plateau_flat", 0 <= self.plateau_flat < 1),
        )
        for name, ok in checks:
            if not ok:
                raise UserError(f"judging.{name}: {getattr(self, name)!r} is out of range")

    def long_enough(self, duration_s: float) -> bool:
        """Whether a ``duration_s`` window may be judged (a nanosecond's rounding is not short)."""
        return duration_s >= self.min_window_s - 1e-6

    def samples_for(self, slo: Slo) -> int:
        """Samples (percentiles), calls (error ratio), ... a group needs before ``slo`` is judged:
        the SLO's kind applies ``min_samples`` and ``tail_samples`` its own way."""
        return kind_of(slo).samples_needed(slo, self.min_samples, self.tail_samples)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def as_judging(value: Judging | Mapping[str, Any] | None, **overrides: Any) -> Judging:
    """A Judging from a record, its settings form or the defaults, with non-None overrides."""
    if value is None:
        judging = Judging()
    elif isinstance(value, Judging):
        judging = value
    else:
        known = {f.name for f in fields(Judging)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise UserError(f"judging: unknown fields {', '.join(unknown)}")
        try:
            judging = Judging(**dict(value))
        except TypeError as exc:
            raise UserError(f"judging: {exc}") from None
    given = {k: v for k, v in overrides.items() if v is not None}
    return replace(judging, **given) if given else judging
