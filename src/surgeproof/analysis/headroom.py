"""The measured ceiling against a capacity profile's reference figures (baseline, peak, ...)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from surgeproof.analysis.scale import Scale
from surgeproof.errors import UserError
from surgeproof.scenario.model import CapacityProfile, Requirement

_REQUIREMENT = re.compile(
    r"^\s*(?:ceiling\s*>=\s*)?(?:([A-Za-z_]\w*)\s*(?:\*\s*(\d+(?:\.\d+)?))?"
    r"|(\d+(?:\.\d+)?)\s*\*\s*([A-Za-z_]\w*))\s*$"
)


def parse_requirement(text: str) -> Requirement:
    """``peak*1.2``, ``peak * 1.2``, ``1.2*peak``, ``ceiling >= peak * 1.2`` or ``expanded``."""
    m = _REQUIREMENT.match(text)
    if not m:
        raise UserError(
            f"--require {text!r}: expected a figure times a factor, like 'peak*1.2' or 'expanded'"
        )
    if m.group(1):
        return Requirement(m.group(1), float(m.group(2)) if m.group(2) else 1.0)
    return Requirement(m.group(4), float(m.group(3)))


def compare_with_profile(
    profile: CapacityProfile,
    ceiling_real: float | None,
    requirements: Sequence[Requirement],
    scale: Scale,
    usl: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``comparison`` object of analysis.json."""
    known = set(profile.figures)
    for req in requirements:
        if req.figure not in known:
            raise UserError(
                f"requirement on {req.figure!r}: profile {profile.name!r} has figures "
                f"{', '.join(sorted(known))}"
            )
    by_figure = {r.figure: r for r in requirements}
    figures = []
    for key, fig in profile.figures.items():
        ratio = ceiling_real / fig.value if ceiling_real is not None and fig.value else None
        req = by_figure.get(key)
        required = fig.value * req.factor if req else None
        passed = None
        if req is not None:
            passed = ceiling_real is not None and ceiling_real >= required
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
                        "factor": req.factor,
                        "required": required,
                        "text": f"ceiling >= {key} * {req.factor:g}",
                    }
                    if req
                    else None
                ),
                "passed": passed,
                "sentence": _sentence(fig.label, fig.value, fig.unit, ratio, req, passed),
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
    req: Requirement | None,
    passed: bool | None,
) -> str:
    what = f"the {label} figure ({value:,.0f} {unit})"
    if ratio is None:
        text = f"cannot be compared with {what}: no level held the SLOs"
    elif ratio >= 1:
        text = f"holds {what} with {ratio - 1:.0%} headroom"
    else:
        text = f"falls {1 - ratio:.0%} short of {what}"
    if req is not None:
        verdict = "meets" if passed else "does not meet"
        text += f", and {verdict} the requirement of {req.factor:g}x it"
    return text
