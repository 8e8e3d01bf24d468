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
    #: Where the rule comes from (a regulation, a published figure); "" for the team's own.
    source: str = ""
    #: False when the run has nothing the requirement applies to (no fault for a recovery
    #: objective): shown as skipped, neither passing nor failing the gate.
    applicable: bool = True

    @property
    def message(self) -> str:
        """``measured X, limit Y`` plus the note and the source: the line CI shows for it."""
        text = f"measured {self.measured}, limit {self.limit}"
        text = f"{text}; {self.note}" if self.note else text
        return f"{text}; source: {self.source}" if self.source else text

    @property
    def mark(self) -> str:
        """PASS, FAIL or SKIP (not applicable)."""
        return "SKIP" if not self.applicable else "PASS" if self.passed else "FAIL"


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
        return not self.failures

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.applicable and not c.passed]

    @property
    def skipped(self) -> list[Check]:
        return [c for c in self.checks if not c.applicable]
