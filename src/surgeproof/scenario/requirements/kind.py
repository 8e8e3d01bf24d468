"""What a requirement kind is: one rule a run is held to (a regulator's, a team's), with its source.

A kind is one file in this package that defines ``KIND``, an instance of a
:class:`RequirementKind` subclass; the registry (``surgeproof.scenario.requirements``) finds it
there. It says how the requirement is written (``sebi: peak``), how it reads in a plan, and how
it is judged on what a finished analysis measured (:class:`Evidence`), which the analysis alone
assembles and calls it on (``analysis/requirements.py``): report and gate read the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from surgeproof.scenario.fields import Field
from surgeproof.scenario.model import CapacityProfile, Requirement, UsersExpr

#: pass / fail: met or not; inconclusive: the run cannot show it either way (measure higher);
#: not_applicable: the run has nothing it applies to (no fault for a recovery objective);
#: unusable: the input lacks what the requirement is stated against (no capacity profile).
Status = Literal["pass", "fail", "inconclusive", "not_applicable", "unusable"]


@dataclass(frozen=True)
class Recovery:
    """The run's recovery figure: how long the slowest recovery from a fault took."""

    #: Faults the run had (target outages, gateway deaths); 0: nothing to recover from.
    faults: int
    #: Seconds from the fault to service held again, for the slowest fault that recovered.
    worst_s: float | None
    #: Which fault that was, in words ("target down at t=60 s").
    worst: str
    #: Faults not recovered before the run ended, and the longest they were seen unrecovered.
    unrecovered: int = 0
    unrecovered_for_s: float | None = None
    #: The unrecovered fault seen so the longest, in words.
    unrecovered_worst: str = ""


@dataclass(frozen=True)
class OrderLookups:
    """What the exchange's own API answered, after the run, for the orders it acknowledged."""

    #: Orders acknowledged to the simulated users (a submission answered ok with an order id).
    acknowledged: int
    #: Of those, asked for at least once (whatever the answer); 0: no lookup was made.
    asked: int
    #: Known and consistent / lost (the exchange has no such order) / known in a state their
    #: history forbids / without a conclusive answer (not asked, failed, unmapped state).
    consistent: int
    lost: int
    inconsistent: int
    unconfirmed: int
    #: The lost orders' ids (the first ``listed_at_most``), and why orders are unconfirmed.
    lost_ids: tuple[str, ...] = ()
    unconfirmed_reasons: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class FaultSessions:
    """The websocket sessions one fault cost, and how long they took to come back."""

    #: The fault in words ("failover (command) at t=30 s").
    fault: str
    lost: int
    back: int
    never_back: int
    #: Seconds from loss to subscribed again of the slowest session back; None: none back.
    slowest_s: float | None
    #: How long the earliest-lost session never back was seen not back (to the end of the
    #: data); None when every session came back.
    never_back_for_s: float | None


@dataclass(frozen=True)
class SessionsToll:
    """The websocket sessions every fault of the run cost."""

    #: Whether the run had websocket sessions at all.
    websocket: bool
    faults: tuple[FaultSessions, ...]


@dataclass(frozen=True)
class Evidence:
    """What a finished analysis measured that requirements are judged on ("real" = scaled back
    to real users or requests with the run's user scale, stated in ``scale_statement``)."""

    profile: CapacityProfile | None
    #: "real users" (or the profile's unit: "real orders").
    real_words: str
    scale_statement: str
    #: The ceiling bracket: status, sentence, last pass and first fail (real), the SLO that broke
    #: first, whether levels above were generator-bound.
    ceiling_status: str
    ceiling_statement: str
    ceiling_real: float | None
    first_fail_real: float | None
    failed_first: str | None
    generator_bound: bool
    #: The highest conclusive level and the lowest failing one (real users).
    top_conclusive_real: float | None
    lowest_fail_real: float | None
    #: The throughput bracket (req/s, real scale): what the level the ceiling names achieved,
    #: and what the users of the first level that failed above it asked for (no load between
    #: the two that held the SLOs can have been served faster than that).
    ceiling_rps_real: float | None
    first_fail_rps_real: float | None
    #: The most users the run offered at once (real), and whether a program offered it on
    #: purpose beyond the ceiling (a step search climbs until a level fails).
    peak_load_real: float | None
    peak_load_is_probe: bool
    #: None: the run had no recovery analysis to read.
    recovery: Recovery | None
    #: None: the input has no order journal (a Locust CSV).
    orders: OrderLookups | None = None
    #: None: the input records no websocket sessions per fault (a Locust CSV).
    sessions: SessionsToll | None = None

    def figure(self, name: str) -> tuple[float, str, str] | None:
        """(value, unit, source) of the profile's figure ``name``; None when not there."""
        if self.profile is None or name not in self.profile.figures:
            return None
        f = self.profile.figures[name]
        return f.value, f.unit, f.source

    def users(self, expr: UsersExpr) -> tuple[float, str] | str:
        """(real users, unit) of a users expression, or why it cannot be looked up."""
        if expr.figure is None:
            return expr.value, "concurrent users"
        if self.profile is None:
            return f"no capacity profile to look figure {expr.figure!r} up in"
        found = self.figure(expr.figure)
        if found is None:
            known = ", ".join(self.profile.figures)
            return f"profile {self.profile.name!r} has no figure {expr.figure!r} (figures: {known})"
        return found[0] * expr.value, found[1]


@dataclass(frozen=True)
class Judged:
    """A requirement judged: its status and the words and numbers every reader shows."""

    status: Status
    #: The gate line's name: "ceiling >= peak * 1.2 (648,000)".
    name: str
    #: What was measured and the limit, with units: "600,000 real concurrent users".
    measured: str
    limit: str
    #: Why, beyond the numbers ("failed at 700,000 real users: ...").
    note: str = ""
    #: The run verdict's sentence ("met: ...", "not met: ...", "not demonstrated: ...").
    reason: str = ""
    #: The numbers behind it (JSON-able), for reports and auditors.
    figures: dict[str, Any] = field(default_factory=dict)
    #: Where this requirement's figure comes from, when more precise than the kind's source.
    source: str = ""


class RequirementKind:
    """One kind of requirement (subclass it in a file of this package)."""

    #: What the requirement is written as (``sebi: peak``); analysis.json's ``kind``.
    name: str = ""
    #: The rule in words, and where it comes from (cited in reports and gate lines).
    rule: str = ""
    source: str = ""
    #: Where the kind comes when kinds are listed.
    order: int = 0
    #: The example an error shows (``sebi: peak``).
    example: str = ""
    #: A recovery objective of a BCP drill (RTO, orders lost, sessions restored): it may also
    #: be written in a scenario's ``objectives:`` mapping.
    objective: bool = False

    def parse(self, f: Field) -> Requirement:
        """The requirement stated by the value ``f`` (what follows ``name:``), or a
        ScenarioError naming ``f``."""
        raise NotImplementedError

    def text(self, req: Requirement) -> str:
        """The requirement as written back (``sebi: peak``); reads back through ``parse``."""
        raise NotImplementedError

    def figures_used(self, req: Requirement) -> tuple[UsersExpr, ...]:
        """The users expressions it names (their figures must be the profile's)."""
        return ()

    def plan_text(self, req: Requirement, real: tuple[float, ...], unit: str) -> str:
        """How it reads in a plan, given ``figures_used`` resolved to real users."""
        return self.text(req)

    def settings(self, req: Requirement) -> dict[str, Any]:
        """Its JSON form in analysis.json's settings (read back by ``from_settings``)."""
        return {"kind": self.name, **dict(req.options)}

    def from_settings(self, d: dict[str, Any]) -> Requirement:
        """The requirement of a settings form ``settings`` wrote."""
        options = {k: float(v) for k, v in d.items() if k != "kind"}
        return Requirement(kind=self.name, options=tuple(sorted(options.items())))

    def figure_requirement(self, req: Requirement) -> tuple[str, float] | None:
        """(figure, factor) when it requires the ceiling to reach a profile figure times a
        factor: the capacity comparison shows it beside that figure."""
        return None

    def judge(self, req: Requirement, ev: Evidence) -> Judged:
        """The requirement judged on ``ev``."""
        raise NotImplementedError
