"""``--abort-error-ratio R --abort-after S``: stop early when staging is only being hammered."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class AbortRule:
    """Trips once the error ratio of the latest samples stays above ``ratio`` for ``after_s``."""

    def __init__(self, ratio: float | None, after_s: float) -> None:
        self.ratio = ratio
        self.after_s = after_s
        self._since: float | None = None

    @property
    def rule(self) -> str:
        return f"error ratio > {self.ratio:g} for {self.after_s:g}s"

    def check(self, t_s: float, latest: Iterable[dict[str, Any]]) -> float | None:
        """The error ratio that trips the rule at ``t_s``, else None."""
        if self.ratio is None:
            return None
        latest = list(latest)
        sent = sum(int(s.get("sent", 0)) for s in latest)
        errors = sum(int(s.get("errors", 0)) for s in latest)
        value = errors / sent if sent else 0.0
        if value <= self.ratio:
            self._since = None
            return None
        if self._since is None:
            self._since = t_s
        return value if t_s - self._since >= self.after_s else None
