"""``settings`` of analysis.json: everything the analysis ran with, in ``analyze_run``'s form."""

from __future__ import annotations

from dataclasses import dataclass

from surgeproof.analysis.contract.record import ABSENT, Json, Record


@dataclass(kw_only=True)
class SloSetting(Record):
    """One of ``settings.slos``: an SLO as ``analyze_run`` accepts it."""

    group: str
    metric: str
    limit: float
    options: dict[str, float] = ABSENT


@dataclass(kw_only=True)
class Tolerance(Record):
    """``settings.tolerance``: the generator's tolerance (late sends, CPU)."""

    late_ms: float
    late_ratio: float
    cpu_percent: float


@dataclass(kw_only=True)
class JudgingSettings(Record):
    """``settings.judging``: every threshold a verdict depends on (``min_samples`` beside it)."""

    min_window_s: float
    min_calls: int
    tail_samples: int
    saturation_ratio: float
    demand_margin: float
    queue_growth: float
    plateau_flat: float


@dataclass(kw_only=True)
class Settings(Record):
    """``settings``: the analysis repeats exactly with ``analyze_run(run_dir, **settings)``."""

    window_s: float
    slos: list[SloSetting]
    slo_source: str
    #: Each in its requirement kind's settings form (``scenario/requirements/``).
    requirements: list[Json]
    requirement_source: str
    tolerance: Tolerance
    min_samples: int
    window_min_samples: int
    judging: JudgingSettings
    #: The capacity profile written out in full (``scenario`` reads it), or None.
    profile: dict[str, Json] | None
    profile_source: str
