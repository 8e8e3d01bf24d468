"""The records of judging a level: the window to judge, what its records showed, the verdict.

Kept apart from the passes that measure a level (``level_passes.py``), the rule that decides it
(``level_rule.py``) and the entry points (``levels.py``), so the rules that read verdicts —
saturation, shortfall, the ceiling — import the record alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from surgeproof.analysis.generator import GeneratorHealth
from surgeproof.analysis.groupstats import GroupStats
from surgeproof.analysis.slo import SloBreach

Verdict = Literal["pass", "fail", "inconclusive"]


@dataclass
class LevelVerdict:
    """The judgement of one steady-state window, with the numbers behind it."""

    verdict: Verdict
    reasons: list[str]
    start_ns: int
    end_ns: int
    offered_users: float
    offered_rps: float
    sent_rps: float
    achieved_rps: float
    ok_rps: float
    records: int
    groups: dict[str, GroupStats]
    generator: GeneratorHealth
    breaches: list[SloBreach] = field(default_factory=list)
    unjudged: list[str] = field(default_factory=list)
    saturated: bool = False
    label: str | None = None
    active_users: float | None = None
    ws_gap_ms: dict[str, float | None] | None = None
    #: Generator sources whose users or records were missing from part of the window (a lost
    #: worker; in a running run also a worker whose records have not arrived): inconclusive.
    short_of: list[str] = field(default_factory=list)
    #: Calls the window counted (any outcome but missed and cancelled: answered, failed, timed
    #: out, backlogged): what its users asked the target for.
    calls: int = 0
    #: Mean latency (ms) of the window's calls that have one (Little's law needs the mean).
    mean_latency_ms: float | None = None
    #: The window was shorter, or held fewer calls, than a verdict needs (``Judging``).
    too_short: bool = False
    #: What the saturation rule measured (``saturation.Saturation.to_dict``), once settled.
    saturation: dict[str, Any] | None = None

    @property
    def asked_rps(self) -> float:
        """Calls the users asked the target for, per second of the window."""
        return self.calls / max(self.duration_s, 1e-9)

    @property
    def per_user_rps(self) -> float | None:
        """Achieved throughput per offered user."""
        return self.achieved_rps / self.offered_users if self.offered_users > 0 else None

    @property
    def duration_s(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9

    def to_dict(self, t0_ns: int | None = None) -> dict[str, Any]:
        """The ``levels`` entry of analysis.json."""
        return {
            "label": self.label,
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "t_start_s": (self.start_ns - t0_ns) / 1e9 if t0_ns is not None else None,
            "duration_s": self.duration_s,
            "target_users": self.offered_users,
            "offered_users": self.offered_users,
            "active_users": self.active_users,
            "offered_rps": self.offered_rps,
            "sent_rps": self.sent_rps,
            "achieved_rps": self.achieved_rps,
            "ok_rps": self.ok_rps,
            "records": self.records,
            "calls": self.calls,
            "asked_rps": self.asked_rps,
            "mean_latency_ms": self.mean_latency_ms,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "breaches": [b.to_dict() for b in self.breaches],
            "unjudged": list(self.unjudged),
            "saturated": self.saturated,
            "saturation": self.saturation,
            "too_short": self.too_short,
            "groups": {g: st.to_dict() for g, st in self.groups.items()},
            "ws_gap_ms": self.ws_gap_ms,
            "short_of": list(self.short_of),
            "generator": self.generator.to_dict(),
        }


@dataclass(frozen=True)
class LevelSpec:
    """A steady-state window to judge: ``[start_ns, end_ns)`` by intended send time."""

    start_ns: int
    end_ns: int
    target_users: float | None = None
    label: str | None = None


@dataclass
class LevelMeasure:
    """What one window's records showed, before judging (any input: records or Locust CSV)."""

    records: int
    intended: int
    sent: int
    answered: int
    ok: int
    groups: dict[str, GroupStats]
    health: GeneratorHealth
    median_users: float
    ws_gap_ms: dict[str, float | None] | None
    calls: int = 0
    mean_latency_ms: float | None = None
    active_users: float | None = None
    breaches: list[SloBreach] = field(default_factory=list)
    unjudged: list[str] = field(default_factory=list)
