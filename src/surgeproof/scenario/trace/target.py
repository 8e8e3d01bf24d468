"""Where a trace's baseline and peak land: a number of users or a profile figure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from surgeproof.scenario.catalog import load_profile
from surgeproof.scenario.errors import ScenarioError
from surgeproof.scenario.numbers import is_number_text, parse_number

_PROFILE = re.compile(
    r"^profile:([A-Za-z0-9_.-]+)\.([A-Za-z_][A-Za-z0-9_]*)\s*(?:\*\s*(\d+(?:\.\d+)?))?$", re.ASCII
)


@dataclass(frozen=True)
class Target:
    """Real users, and the profile figure they come from when they do."""

    real_users: float
    profile: str | None = None
    figure: str | None = None
    factor: float = 1.0
    figure_value: float | None = None
    unit: str = "concurrent users"

    def __str__(self) -> str:
        if self.profile is None:
            return f"{self.real_users:,.0f} users"
        factor = f" * {self.factor:g}" if self.factor != 1 else ""
        return f"{self.profile}.{self.figure}{factor} = {self.real_users:,.0f} {self.unit}"


def parse_target(text: str, option: str) -> Target:
    """``profile:upbit.peak``, ``profile:upbit.normal*0.3`` or a number of users."""
    raw = text.strip(" ").replace(" ", "")
    if is_number_text(raw):  # plain ASCII decimal only: not "١٢٣", "1_000" or "nan"
        value = parse_number(raw, "a number of users")
        if value < 0:
            raise ScenarioError(option, "", f"expected users >= 0, got {text!r}")
        return Target(value)
    m = _PROFILE.match(raw)
    if not m:
        raise ScenarioError(
            option, "", f"expected a number or profile:NAME.FIGURE[*FACTOR], got {text!r}"
        )
    profile = load_profile(m.group(1))
    figure = m.group(2)
    if figure not in profile.figures:
        known = ", ".join(profile.figures)
        raise ScenarioError(
            option, "", f"expected a figure of profile {profile.name} ({known}), got {figure!r}"
        )
    fig = profile.figures[figure]
    factor = float(m.group(3)) if m.group(3) else 1.0
    return Target(fig.value * factor, profile.name, figure, factor, fig.value, fig.unit)
