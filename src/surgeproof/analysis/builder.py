"""The one builder of ``analysis.json``: run-level judgement over what an input measured.

A run directory (``run.py``) and a plain Locust run's CSV files (``locust_csv.py``) are measured
by their own readers into a :class:`Measured`; everything judged across levels — the saturation
rule, the plateau, the ceiling bracket, USL and knee, the comparison with a profile, the run's
verdict, the generator statement and the summary — is decided here, once, by the same rules.

The pieces of a ``Measured`` are per-level and per-window results (tallies, exact percentiles
already taken), so inputs read in parts (per source, per window range) can be merged before
this step without changing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from surgeproof import __version__
from surgeproof.analysis.breaches import explain_breaches
from surgeproof.analysis.ceiling import ceiling_bracket
from surgeproof.analysis.contract import written
from surgeproof.analysis.generator import GeneratorTolerance
from surgeproof.analysis.headroom import compare_with_profile
from surgeproof.analysis.judging import Judging
from surgeproof.analysis.levels import LevelVerdict
from surgeproof.analysis.requirements import figure_requirements, judge_requirements
from surgeproof.analysis.saturation import find_knee, settle, throughput_plateau
from surgeproof.analysis.scale import Scale
from surgeproof.analysis.settings import settings_dict
from surgeproof.analysis.slo import slo_dict
from surgeproof.analysis.summary import summary_lines
from surgeproof.analysis.usl import fit_usl, withhold_beyond_plateau
from surgeproof.analysis.verdict import run_verdict
from surgeproof.scenario.model import CapacityProfile, Requirement, Slo

#: v2: settings.judging (verdict minimums and saturation thresholds), one saturation rule
#: (levels' ``saturation``), the knee by asymptotic bounds, USL peaks beyond a plateau withheld.
ANALYSIS_SCHEMA_VERSION = 2
ANALYSIS_FILE = "analysis.json"

CLOSED_MODEL_CAVEAT = (
    "closed-model data understate overload: users wait for each response, so offered load falls "
    "as the target slows (coordinated omission); saturation is judged by throughput per user "
    "against the low-load rate and by latency growth at flat throughput (Little's law)"
)


@dataclass
class Measured:
    """What one input measured, with the settings it is to be judged by."""

    input: dict[str, Any]
    scale: Scale
    slos: tuple[Slo, ...]
    slo_source: str
    requirements: tuple[Requirement, ...]
    requirement_source: str
    profile: CapacityProfile | None
    profile_source: str
    tolerance: GeneratorTolerance
    judging: Judging
    window_s: float
    window_min_samples: int
    closed_model: bool
    #: Each level judged on its own (minimums, generator, SLOs, lost workers).
    levels: list[LevelVerdict]
    timeseries: dict[str, Any]
    overall: dict[str, Any]
    incidents: dict[str, Any]
    reconciliation: dict[str, Any]
    #: partial, partial_reason, damage, precision, precision_notes, caveats, shortfall_windows.
    data_quality: dict[str, Any]
    #: The generator section without its judgement (bottleneck, statement).
    generator: dict[str, Any]
    server_vs_client: dict[str, Any] | None = None
    amplification: dict[str, Any] | None = None
    #: One recovery record per fault of the run (``recovery.py``); None: the run had none.
    recovery: dict[str, Any] | None = None


def build_analysis(m: Measured) -> dict[str, Any]:
    """The analysis.json document (FORMAT.md) of ``m``."""
    levels = m.levels
    settle(levels, m.judging, closed_model=m.closed_model)
    plateau = throughput_plateau(levels, m.judging)
    ceiling = ceiling_bracket(levels, m.scale, plateau)
    # Goodput, not every answer: a refusal (503, 429) answers fast, and counting it made a
    # rate-limited server look linear to the model.
    points = [(v.offered_users, v.ok_rps) for v in levels if v.verdict != "inconclusive"]
    usl = withhold_beyond_plateau(
        fit_usl(points, m.scale.user_scale), plateau, m.judging.plateau_flat
    )
    quality = dict(m.data_quality)
    caveats = list(quality.get("caveats") or [])
    if m.closed_model and CLOSED_MODEL_CAVEAT not in caveats:
        caveats.insert(0, CLOSED_MODEL_CAVEAT)
    quality["caveats"] = caveats
    quality["closed_model"] = m.closed_model
    t0_ns = int(m.input["t0_ns"])
    analysis: dict[str, Any] = {
        "analysis_schema_version": ANALYSIS_SCHEMA_VERSION,
        "generated_at_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "surgeproof_version": __version__,
        "input": m.input,
        "settings": settings_dict(
            window_s=m.window_s,
            slos=m.slos,
            slo_source=m.slo_source,
            requirements=m.requirements,
            requirement_source=m.requirement_source,
            tolerance=m.tolerance,
            judging=m.judging,
            window_min_samples=m.window_min_samples,
            profile=m.profile,
            profile_source=m.profile_source if m.profile is not None else "none",
        ),
        "scale": m.scale.to_dict(),
        "slos": [slo_dict(s, m.slo_source) for s in m.slos],
        "verdict": None,  # below, once the requirements are judged
        "ceiling": ceiling,
        "levels": [v.to_dict(t0_ns) for v in levels],
        "usl": usl,
        "knee": find_knee(levels, m.closed_model),
        "timeseries": m.timeseries,
        "overall": m.overall,
    }
    if m.server_vs_client is not None:
        analysis["server_vs_client"] = m.server_vs_client
    analysis["comparison"] = None
    analysis["requirements"] = None
    analysis["incidents"] = m.incidents
    if m.amplification is not None:
        analysis["amplification"] = m.amplification
    if m.recovery is not None:
        analysis["recovery"] = m.recovery
    analysis["reconciliation"] = m.reconciliation
    analysis["data_quality"] = quality
    analysis["generator"] = {**_generator_judgement(levels, ceiling), **m.generator}
    if "statement" in m.generator:  # an input that cannot see its generator says so
        analysis["generator"]["statement"] = m.generator["statement"]
    # Requirements are judged on the document itself, as the gate judges its flags' ones.
    judged = judge_requirements(analysis, m.requirements, m.requirement_source)
    analysis["requirements"] = judged
    if m.profile is not None:
        analysis["comparison"] = compare_with_profile(
            m.profile,
            ceiling["real"]["last_pass_users"],
            figure_requirements(m.requirements, judged),
            m.scale,
            usl,
        )
    analysis["verdict"] = run_verdict(levels, judged)
    if m.incidents.get("breach_windows") is not None:
        explain_breaches(m.incidents, levels, m.timeseries, m.slos, analysis["verdict"]["status"])
    analysis["summary"] = []  # the summary reads the document through its contract
    analysis["summary"] = summary_lines(analysis)
    # Written through the typed contract: a field it does not name (or of another type) fails
    # here, in the analysis's own tests, not as a "–" in a report.
    return written(analysis)


def _generator_judgement(levels: list[LevelVerdict], ceiling: dict[str, Any]) -> dict[str, Any]:
    bound = [v for v in levels if v.verdict == "inconclusive" and v.generator.bound]
    if bound:
        at = ", ".join(f"{v.offered_users:g}" for v in bound)
        lp = ceiling["last_pass"]
        claim = f"no ceiling is claimed above {lp['users']:g}" if lp else "no ceiling is claimed"
        statement = f"the generator was the bottleneck at {at} users: {claim} from those levels"
    else:
        statement = "the generator kept its schedule at every level"
    return {
        "bottleneck": bool(bound),
        "inconclusive_levels": [v.label for v in bound],
        "statement": statement,
    }
