"""Capacity analysis: pure functions over a run directory (no Locust, no network).

``analyze_run`` computes the whole ``analysis.json`` (schema in ``FORMAT.md`` beside this file)
and ``write_analysis`` writes it; ``judge_level`` judges one steady-state window for the
step-to-break search.
"""

from surgeproof.analysis.generator import GeneratorHealth, GeneratorTolerance
from surgeproof.analysis.groupstats import GroupStats
from surgeproof.analysis.judging import Judging
from surgeproof.analysis.levels import LevelVerdict, judge_level
from surgeproof.analysis.run import analyze_run, write_analysis
from surgeproof.analysis.slo import DEFAULT_SLOS, SloBreach

__all__ = [
    "DEFAULT_SLOS",
    "GeneratorHealth",
    "GeneratorTolerance",
    "GroupStats",
    "Judging",
    "LevelVerdict",
    "SloBreach",
    "analyze_run",
    "judge_level",
    "write_analysis",
]
