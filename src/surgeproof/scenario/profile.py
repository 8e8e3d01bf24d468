"""Capacity profiles: an exchange's published reference figures, read from YAML."""

from __future__ import annotations

from surgeproof.scenario.bounds import MAX_USERS
from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import CapacityProfile, ReferenceFigure

#: Units a figure may be stated in. Coinone's FSS figure counts orders, not users: a scenario
#: resolved against it says so rather than pretending the two are the same.
UNITS = ("concurrent users", "concurrent orders", "concurrent sessions", "requests per second")


def parse_profile(doc: object, source: str) -> CapacityProfile:
    """A CapacityProfile from a parsed profile document; ScenarioError naming the field."""
    root = Field(source, "", doc)
    top = root.fields(
        ("name", "exchange", "dialect", "figures", "notes"), required=("name", "figures")
    )
    figures_field = top["figures"]
    entries = figures_field.fields(_any_keys(figures_field))
    if not entries:
        raise figures_field.expected("at least one figure (normal, peak, expanded)")
    figures: dict[str, ReferenceFigure] = {}
    for key, f in entries.items():
        spec = f.fields(("value", "unit", "label", "source"), required=("value", "unit", "source"))
        unit = spec["unit"].text()
        if unit not in UNITS:
            raise spec["unit"].expected(f"one of {', '.join(UNITS)}")
        figures[key] = ReferenceFigure(
            key=key,
            value=spec["value"].number(positive=True, maximum=MAX_USERS),
            unit=unit,
            label=spec["label"].text() if "label" in spec else key,
            source=spec["source"].text(),
        )
    return CapacityProfile(
        name=top["name"].text(),
        exchange=top["exchange"].text() if "exchange" in top else top["name"].text(),
        figures=figures,
        notes=top["notes"].text() if "notes" in top else "",
        dialect=top["dialect"].text() if "dialect" in top else None,
    )


def _any_keys(f: Field) -> tuple[str, ...]:
    if not isinstance(f.value, dict):
        raise f.expected("a mapping of figure name to {value, unit, label, source}")
    return tuple(k for k in f.value if isinstance(k, str))
