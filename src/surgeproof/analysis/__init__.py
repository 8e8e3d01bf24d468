"""Capacity analysis: pure functions over a run directory (no Locust, no network).

``analyze_run`` computes the whole ``analysis.json`` (schema in ``FORMAT.md`` beside this file);
``judge_level`` judges one steady-state window for the step-to-break search.
"""

from surgeproof.analysis.generator import GeneratorHealth, GeneratorTolerance
from surgeproof.analysis.groupstats import GroupStats
from surgeproof.analysis.levels import LevelVerdict, judge_level
from surgeproof.analysis.slo import DEFAULT_SLOS, SloBreach

__all__ = [
    "DEFAULT_SLOS",
    "GeneratorHealth",
    "GeneratorTolerance",
    "GroupStats",
    "LevelVerdict",
    "SloBreach",
    "judge_level",
]
