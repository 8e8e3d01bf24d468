"""Whether ``analysis.json`` is current for its run directory, and the run's analysis: read when
it is, recomputed from the raw data (and written) when it is missing, older than the raw data or
of another schema. Report, gate and evidence get their analysis here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from surgeproof.analysis.builder import ANALYSIS_FILE as ANALYSIS
from surgeproof.analysis.builder import ANALYSIS_SCHEMA_VERSION as SUPPORTED_SCHEMA
from surgeproof.analysis.contract import read_analysis
from surgeproof.analysis.contract.reading import MAX_ANALYSIS_BYTES
from surgeproof.confine import read_bounded
from surgeproof.errors import UserError
from surgeproof.rundir.schema import RunDirError

#: Raw inputs of the analysis; derived files (analysis.json, report.*, gate/) are not among them.
_RAW = (
    "run.json", "scenario.yaml", "profile.yaml", "dialect.yaml", "events.jsonl", "timeline.jsonl"
)  # fmt: skip
#: ``orders/`` (the order journal) and ``reconciliation/`` (order lookups, added to by
#: ``surgeproof reconcile`` after the run) are read by the analysis too.
_RAW_DIRS = ("records", "server", "orders", "reconciliation")


def is_stale(run_dir: Path) -> str | None:
    """Why ``analysis.json`` must be recomputed (missing, older than raw data, other schema)."""
    path = run_dir / ANALYSIS
    if not path.is_file():
        return "no analysis.json yet"
    newest = max((p.stat().st_mtime_ns for p in raw_files(run_dir)), default=0)
    if path.stat().st_mtime_ns < newest:
        return "analysis.json is older than the raw data"
    raw = read_bounded(run_dir, ANALYSIS, MAX_ANALYSIS_BYTES, "run directory")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # bad JSON or UTF-8, or nested past the stack
        return "analysis.json is not valid JSON"
    if not isinstance(doc, dict) or doc.get("analysis_schema_version") != SUPPORTED_SCHEMA:
        return "analysis.json has another schema version"
    return None


def raw_files(run_dir: Path) -> list[Path]:
    """Every raw input file of a run directory."""
    files = [run_dir / name for name in _RAW if (run_dir / name).is_file()]
    for folder in _RAW_DIRS:
        if (run_dir / folder).is_dir():
            files.extend(p for p in (run_dir / folder).rglob("*") if p.is_file())
    return files


def current_analysis(run_dir: Path) -> dict[str, Any]:
    """The run's analysis: read when fresh, else recomputed with the analyzer and written."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: no such run directory")
    if not (run_dir / "run.json").is_file():
        raise UserError(f"{run_dir}: not a surgeproof run directory (no run.json)")
    if is_stale(run_dir) is None:
        # Checked against the typed contract: a crafted file is one line naming its field.
        return read_analysis(run_dir)
    return reanalyze(run_dir, write=True)


def reanalyze(run_dir: Path, *, write: bool, like: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the analyzer on the raw data; ``like`` = an earlier analysis whose settings to reuse."""
    from surgeproof.analysis.run import analyze_run, write_analysis

    settings = settings_of(like) if like is not None else {}
    try:
        analysis = analyze_run(run_dir, **settings)
    except RunDirError as exc:
        raise UserError(str(exc)) from None
    if write:
        write_analysis(run_dir, analysis)
    return analysis


#: (setting, its source field, sources meaning "read from the run directory itself").
_DERIVED = (
    ("slos", "slo_source", ("scenario", "default")),
    ("requirements", "requirement_source", ("scenario", "none")),
    ("profile", "profile_source", ("run_dir", "none")),
)


def settings_of(analysis: dict[str, Any]) -> dict[str, Any]:
    """The analyzer arguments that produced ``analysis``, from its recorded ``settings``.

    ``settings`` holds everything the analysis ran with (window, SLOs, requirements, tolerance,
    sample minimums, the profile written out in full, and where each came from), so a
    recomputation repeats it exactly, a ``--profile`` or ``--slo`` choice included. An analysis
    from before ``settings`` existed falls back to what its other fields show.
    """
    settings = analysis.get("settings")
    if not isinstance(settings, dict) or not settings:
        return _settings_from_fields(analysis)
    # Choices made outside the run directory are handed back; what came from the run directory
    # itself (its scenario's SLOs and requirements, its profile copy, the defaults) is derived
    # again from the raw files, so an edited copy in analysis.json shows up as a difference.
    out = dict(settings)
    for key, source_key, from_run_dir in _DERIVED:
        if settings.get(source_key) in from_run_dir:
            out.pop(key, None)
            out.pop(source_key, None)
    return out


def _settings_from_fields(analysis: dict[str, Any]) -> dict[str, Any]:
    from surgeproof.scenario.model import Requirement, Slo

    settings: dict[str, Any] = {}
    window = (analysis.get("input") or {}).get("window_s")
    if isinstance(window, int | float) and window > 0:
        settings["window_s"] = float(window)
    slos = analysis.get("slos") or []
    # SLOs the analyzer was handed (not read from the scenario copy, not its defaults) must be
    # handed again, or the recomputation would judge by other rules.
    if slos and all(s.get("source") not in ("scenario", "default") for s in slos):
        settings["slos"] = [
            Slo(s["group"], s["metric"], float(s["limit"]), s.get("options") or ()) for s in slos
        ]
    figures = (analysis.get("comparison") or {}).get("figures") or []
    reqs = [
        Requirement(f["key"], float(f["requirement"]["factor"]))
        for f in figures
        if f.get("requirement")
    ]
    if reqs:
        settings["requirements"] = reqs
    return settings
