"""The run's user scale: how simulated users stand for real ones, and the words that say so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Scale:
    """``user_scale`` simulated users per real user (0.001: one stands for 1,000)."""

    user_scale: float = 1.0
    time_scale: float = 1.0
    assumption: str = "no scaling: simulated users are real users"
    #: What a real number counts: "users", or the capacity profile's own unit ("orders" for
    #: Coinone, whose FSS figures count concurrent orders); said next to every real number.
    unit: str = "users"

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Scale:
        """From run.json's ``scale`` (absent or malformed → no scaling)."""
        raw = meta.get("scale") if isinstance(meta.get("scale"), dict) else {}
        us = raw.get("user_scale")
        ts = raw.get("time_scale")
        user_scale = float(us) if isinstance(us, int | float) and us > 0 else 1.0
        time_scale = float(ts) if isinstance(ts, int | float) and ts > 0 else 1.0
        default = (
            "no scaling: simulated users are real users"
            if user_scale == 1.0
            else f"1 simulated user stands for {1 / user_scale:,.0f} real users"
        )
        assumption = raw.get("assumption") if isinstance(raw.get("assumption"), str) else default
        return cls(user_scale, time_scale, assumption, real_unit_of(meta))

    @property
    def scaled(self) -> bool:
        return self.user_scale != 1.0

    @property
    def ratio_text(self) -> str:
        """``1:1,000``."""
        return f"1:{1 / self.user_scale:,.0f}"

    @property
    def real_words(self) -> str:
        """``real users`` or ``real orders``: the words after a real number."""
        return f"real {self.unit}"

    def real(self, simulated: float) -> float:
        """Real users that ``simulated`` users stand for."""
        return simulated / self.user_scale

    @property
    def statement(self) -> str:
        if not self.scaled:
            return f"unscaled: 1 simulated user = 1 real {self.unit.removesuffix('s')}"
        return (
            f"1 simulated user = {1 / self.user_scale:,.0f} {self.real_words} "
            f"(assumption: {self.assumption})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "user_scale": self.user_scale,
            "time_scale": self.time_scale,
            "assumption": self.assumption,
            "scaled": self.scaled,
            "statement": self.statement,
            "unit": self.unit,
        }


def real_unit_of(meta: dict[str, Any]) -> str:
    """The noun real numbers count in: the profile's unit (``concurrent orders`` -> orders)."""
    scenario = meta.get("scenario") if isinstance(meta.get("scenario"), dict) else {}
    profile = scenario.get("profile") if isinstance(scenario.get("profile"), dict) else {}
    figures = profile.get("figures") if isinstance(profile.get("figures"), dict) else {}
    for fig in figures.values():
        unit = fig.get("unit") if isinstance(fig, dict) else None
        if isinstance(unit, str) and unit.startswith("concurrent ") and unit != "concurrent users":
            return unit.removeprefix("concurrent ")
    return "users"
