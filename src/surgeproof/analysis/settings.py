"""What an analysis ran with, as JSON that ``analyze_run(run_dir, **settings)`` accepts again.

A verifier re-runs the analysis from the raw data and ``analysis.json``'s ``settings`` alone and
must get the same result: SLOs, requirements and the profile are written out in full (not just
named), each with where it came from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from surgeproof.analysis.generator import GeneratorTolerance
from surgeproof.analysis.judging import Judging
from surgeproof.errors import UserError
from surgeproof.scenario.model import CapacityProfile, ReferenceFigure, Requirement, Slo
from surgeproof.scenario.requirements import from_settings as requirement_from_settings
from surgeproof.scenario.requirements import settings_of as requirement_settings
from surgeproof.scenario.slos import METRICS, kind_of


def settings_dict(
    *,
    window_s: float,
    slos: Sequence[Slo],
    slo_source: str,
    requirements: Sequence[Requirement],
    requirement_source: str,
    tolerance: GeneratorTolerance,
    judging: Judging,
    window_min_samples: int,
    profile: CapacityProfile | None,
    profile_source: str,
) -> dict[str, Any]:
    """The ``settings`` object of analysis.json."""
    tol = asdict(tolerance)
    rules = judging.to_dict()
    min_samples = rules.pop("min_samples")
    return {
        "window_s": window_s,
        "slos": [slo_settings(s) for s in slos],
        "slo_source": slo_source,
        "requirements": [requirement_settings(r) for r in requirements],
        "requirement_source": requirement_source,
        "tolerance": tol,
        "min_samples": min_samples,
        "window_min_samples": window_min_samples,
        "judging": rules,
        "profile": profile_dict(profile) if profile is not None else None,
        "profile_source": profile_source,
    }


def slo_settings(slo: Slo) -> dict[str, Any]:
    """An SLO in its settings form (``options`` only when its kind has any)."""
    out: dict[str, Any] = {"group": slo.group, "metric": slo.metric, "limit": slo.limit}
    if slo.options:
        out["options"] = dict(slo.options)
    return out


def as_slos(items: Sequence[Slo | Mapping[str, Any]]) -> tuple[Slo, ...]:
    """SLOs given as records or as their settings form; a metric no SLO kind has is refused."""
    out = tuple(_record(Slo, item, "SLO") for item in items)
    for slo in out:
        if slo.metric not in METRICS:
            raise UserError(
                f"SLO {slo.group} {slo.metric}: unknown metric (known: {', '.join(METRICS)})"
            )
        wanted = sorted(kind_of(slo).options)
        try:
            given = sorted(str(name) for name, _ in slo.options)
            numbers = all(type(v) in (int, float) and math.isfinite(v) for _, v in slo.options)
        except (TypeError, ValueError):
            given, numbers = ["(not a mapping)"], False
        if given != wanted or not numbers:
            raise UserError(
                f"SLO {slo.group} {slo.metric}: expected options {wanted or 'none'} (numbers), "
                f"got {given or 'none'}"
            )
    return out


def as_requirements(items: Sequence[Requirement | Mapping[str, Any]]) -> tuple[Requirement, ...]:
    """Requirements given as records or as their settings form (its kind reads it back); an
    unknown kind or a form its kind cannot read is a one-line UserError."""
    out = []
    for item in items:
        if isinstance(item, Requirement):
            out.append(item)
            continue
        if not isinstance(item, Mapping):
            raise UserError(f"requirement: expected a Requirement or a mapping, got {item!r}")
        try:
            out.append(requirement_from_settings(dict(item)))
        except KeyError as exc:
            raise UserError(f"requirement {dict(item)!r}: unknown kind or missing {exc}") from None
        except (TypeError, ValueError) as exc:
            raise UserError(f"requirement {dict(item)!r}: {exc}") from None
    return tuple(out)


def as_tolerance(
    value: GeneratorTolerance | Mapping[str, Any] | None,
) -> tuple[GeneratorTolerance, dict[str, Any]]:
    """The generator tolerance as given (record, settings form or default), and the verdict
    thresholds an analysis of schema 1 kept in it (``saturation_ratio``, ``min_samples``)."""
    if value is None:
        return GeneratorTolerance(), {}
    if isinstance(value, GeneratorTolerance):
        return value, {}
    known = {f.name for f in fields(GeneratorTolerance)}
    moved = {k: value[k] for k in _MOVED_TO_JUDGING if k in value}
    unknown = sorted(set(value) - known - set(moved))
    if unknown:
        raise UserError(f"tolerance: unknown fields {', '.join(unknown)}")
    try:
        tol = GeneratorTolerance(**{k: v for k, v in value.items() if k in known})
    except TypeError as exc:
        raise UserError(f"tolerance: {exc}") from None
    return tol, moved


#: Fields of schema-1 tolerance objects that are verdict thresholds, now in ``judging``.
_MOVED_TO_JUDGING = ("saturation_ratio", "min_samples")


def as_profile(value: CapacityProfile | Mapping[str, Any] | str | Path) -> CapacityProfile:
    """A profile given as a record, its settings form, or a name/path to load."""
    if isinstance(value, CapacityProfile):
        return value
    if isinstance(value, str | Path):
        from surgeproof.scenario import load_profile

        return load_profile(value)
    try:
        figures = {
            key: ReferenceFigure(
                key, _figure(f["value"]), str(f["unit"]), str(f["label"]), str(f["source"])
            )
            for key, f in dict(value["figures"]).items()
        }
        return CapacityProfile(
            str(value["name"]), str(value["exchange"]), figures, str(value.get("notes", ""))
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"profile: not a capacity profile in settings form ({exc})") from None


def _figure(value: Any) -> float:
    """A figure's value: a finite JSON number (text never: ``"١٢٣"`` and ``"1e400"`` are not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"figure value {str(value)[:20]!r} is not a number")
    if isinstance(value, int) and abs(value) > 10**18:
        raise ValueError("figure value beyond any capacity")
    if not math.isfinite(value):
        raise ValueError("figure value is not finite")
    return float(value)


def profile_dict(profile: CapacityProfile) -> dict[str, Any]:
    """The profile written out in full."""
    return {
        "name": profile.name,
        "exchange": profile.exchange,
        "figures": {
            key: {"value": f.value, "unit": f.unit, "label": f.label, "source": f.source}
            for key, f in profile.figures.items()
        },
        "notes": profile.notes,
    }


def _record(cls: type, item: Any, what: str) -> Any:
    if isinstance(item, cls):
        return item
    if not isinstance(item, Mapping):
        raise UserError(f"{what}: expected a {cls.__name__} or a mapping, got {item!r}")
    try:
        return cls(**dict(item))
    except TypeError as exc:
        raise UserError(f"{what} {dict(item)!r}: {exc}") from None
