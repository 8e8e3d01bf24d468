"""Whether a plan's steady windows are long enough to be judged, at the chosen time scale.

The analysis gives no verdict on a steady-state window shorter than ``MIN_JUDGED_WINDOW_S``
(``analysis.json`` ``settings.judging.min_window_s``): at strong time compression a phase's hold
becomes a fraction of a second, and comparing achieved with sent throughput, or a percentile
with a limit, over it judges noise. ``scenario show`` and ``surgeproof run`` say so before the
run, with the compression that keeps every window judgeable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from surgeproof.scenario.plan import Plan

#: A steady-state window shorter than this (seconds, as run) is judged "inconclusive: too short".
MIN_JUDGED_WINDOW_S = 5.0


@dataclass(frozen=True)
class WindowCheck:
    """How many of a plan's steady windows fall below the judging minimum, as run."""

    windows: int
    short: int
    shortest_s: float
    min_s: float
    time_scale: float
    #: Real (uncompressed) length of the shortest window: what the time scale divides.
    shortest_real_s: float

    @property
    def judgeable_scale(self) -> float | None:
        """The strongest compression 1/N (N whole) that keeps every window judgeable, or None
        when even 1/1 does not (a window shorter than the minimum in the scenario itself)."""
        n = math.floor(self.shortest_real_s / self.min_s + 1e-9)
        return 1.0 / n if n >= 1 else None

    def warning(self) -> str | None:
        """One line, or None when every window is long enough."""
        if not self.short:
            return None
        what = "steady window" + ("s" if self.windows > 1 else "")
        verb = "are" if self.short > 1 else "is"
        line = (
            f"at {_scale_text(self.time_scale)}, {self.short} of {self.windows} {what} {verb} "
            f"under {self.min_s:g} s (shortest {self.shortest_s:.2g} s) and will be inconclusive"
        )
        best = self.judgeable_scale
        if best is None:
            line += (
                f"; even unscaled the shortest is {self.shortest_real_s:g} s: lengthen its "
                "phase's hold to get a verdict"
            )
        elif best >= self.time_scale * (1 + 1e-9):
            them = "them all" if self.windows > 1 else "it"
            line += f"; {_scale_text(best)} keeps {them} judgeable"
        return line


def window_check(plan: Plan, min_s: float = MIN_JUDGED_WINDOW_S) -> WindowCheck | None:
    """The check of ``plan`` (timeline phases' holds, or a step search's hold); None without any."""
    scale = plan.time_scale if plan.time_scale > 0 else 1.0
    lengths = plan.program.judged_window_lengths()
    if not lengths:
        return None
    shortest = min(lengths)
    return WindowCheck(
        windows=len(lengths),
        short=sum(1 for s in lengths if s < min_s - 1e-9),
        shortest_s=shortest,
        min_s=min_s,
        time_scale=scale,
        shortest_real_s=shortest / scale,
    )


def window_warning(plan: Plan, min_s: float = MIN_JUDGED_WINDOW_S) -> str | None:
    """``at 1/240, 6 of 7 steady windows are under 5 s ...; 1/36 keeps them judgeable``."""
    check = window_check(plan, min_s)
    return check.warning() if check is not None else None


def _scale_text(scale: float) -> str:
    inverse = 1.0 / scale
    if abs(inverse - round(inverse)) < 1e-6 * inverse:
        return f"1/{round(inverse)}"
    return f"{scale:g}"
