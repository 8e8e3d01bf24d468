"""The measured ceiling against a capacity profile's reference figures (baseline, peak, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from surgeproof.analysis.scale import Scale
from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import CapacityProfile, Requirement
from surgeproof.scenario.requirements import parse_requirement as parse_requirement_field


def parse_requirement(text: str, flag: str = "--require") -> Requirement:
    """A requirement as typed on a command line: ``peak*1.2``, ``ceiling >= peak * 1.2``,
    ``expanded``, or any kind's ``NAME:VALUE`` (``sebi:peak``); a one-line UserError else."""
    return parse_requirement_field(Field(flag, "", text.strip()))


def compare_with_profile(
    profile: CapacityProfile,
    ceiling_real: float | None,
    requirements: Mapping[str, tuple[float, bool]],
    scale: Scale,
    usl: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``comparison`` object of analysis.json; ``requirements`` = figure → (factor, met) of
    the requirements stated against a figure, as their kind judged them."""
    figures = []
    for key, fig in profile.figures.items():
        ratio = ceiling_real / fig.value if ceiling_real is not None and fig.value else None
        factor, passed = requirements.get(key, (None, None))
        required = fig.value * factor if factor is not None else None
        unit_note = (
            None
            if "user" in fig.unit
            else f"the figure counts {fig.unit}; compared as concurrent users"
        )
        figures.append(
            {
                "key": key,
                "label": fig.label,
                "value": fig.value,
                "unit": fig.unit,
                "source": fig.source,
                "ceiling_real": ceiling_real,
                "ratio": ratio,
                "headroom": ratio - 1 if ratio is not None else None,
                "unit_note": unit_note,
                "requirement": (
                    {
                        "factor": factor,
                        "required": required,
                        "text": f"ceiling >= {key} * {factor:g}",
                    }
                    if factor is not None
                    else None
                ),
                "passed": passed,
                "sentence": _sentence(fig.label, fig.value, fig.unit, ratio, factor, passed),
            }
        )
    model = None
    if usl and usl.get("status") == "fit" and usl.get("n_star_real") is not None:
        n_real = usl["n_star_real"]
        words = "an extrapolation" if usl.get("extrapolated") else "within the measured range"
        model = {
            "n_star_real": n_real,
            "extrapolated": bool(usl.get("extrapolated")),
            "sentence": (
                f"the USL model puts peak throughput at {n_real:,.0f} {scale.real_words} ({words}; "
                f"{scale.statement})"
            ),
        }
    sentence = "; ".join(f["sentence"] for f in figures)
    if scale.scaled:
        sentence += f" ({scale.statement})"
    return {
        "profile": profile.name,
        "exchange": profile.exchange,
        "basis": "last_pass",
        "ceiling_real_users": ceiling_real,
        "scale_statement": scale.statement,
        "figures": figures,
        "model_estimate": model,
        "sentence": sentence,
    }


def _sentence(
    label: str,
    value: float,
    unit: str,
    ratio: float | None,
    factor: float | None,
    passed: bool | None,
) -> str:
    what = f"the {label} figure ({value:,.0f} {unit})"
    if ratio is None:
        text = f"cannot be compared with {what}: no level held the SLOs"
    elif ratio >= 1:
        text = f"holds {what} with {ratio - 1:.0%} headroom"
    else:
        text = f"falls {1 - ratio:.0%} short of {what}"
    if factor is not None:
        verdict = "meets" if passed else "does not meet"
        text += f", and {verdict} the requirement of {factor:g}x it"
    return text
