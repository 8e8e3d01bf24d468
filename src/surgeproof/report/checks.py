"""The records a gate produces: one judged check per requirement, and the verdict over all."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Check:
    """One requirement, judged: what was measured against which limit, and whether it held."""

    kind: str  # "ceiling", "regression", or the SLO's kind ("latency", "error_ratio", ...)
    name: str  # "ceiling >= peak * 1.2", "login p99 <= 800 ms"
    passed: bool
    measured: str  # "412,000 concurrent users", "rendered with its unit"
    limit: str  # ">= 648,000 concurrent users"
    origin: str  # "scenario", "--max-p99", "--baseline"
    note: str = ""  # why it failed beyond the numbers (no samples, generator saturated, ...)

    @property
    def message(self) -> str:
        """``measured X, limit Y`` plus the note: the line CI shows for this check."""
        text = f"measured {self.measured}, limit {self.limit}"
        return f"{text}; {self.note}" if self.note else text


@dataclass
class GateResult:
    """Every check of one gate run over one run directory."""

    run_dir: str
    run_id: str
    checks: list[Check] = field(default_factory=list)
    #: Facts the reader needs to trust the numbers (scale, partial run, saturation).
    caveats: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]
