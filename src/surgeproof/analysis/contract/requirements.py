"""``requirements`` and ``comparison`` (headroom against the profile) of analysis.json."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from surgeproof.analysis.contract.record import Json, Record


@dataclass(kw_only=True)
class JudgedRequirement(Record):
    """One of ``requirements``: a requirement as its kind judged it, with the gate line."""

    kind: str
    text: str
    rule: str
    source: str
    origin: str
    figure: str | None
    status: Literal["pass", "fail", "inconclusive", "not_applicable", "unusable"]
    name: str
    measured: str
    limit: str
    note: str
    reason: str
    #: The numbers behind it, each kind its own (``required_real``, ``rto_s``, ...).
    figures: dict[str, Json]


@dataclass(kw_only=True)
class FigureRequirement(Record):
    """``comparison.figures[].requirement``: the ceiling asked of a figure."""

    factor: float
    required: float
    text: str


@dataclass(kw_only=True)
class FigureComparison(Record):
    """One of ``comparison.figures``: the measured ceiling against one profile figure."""

    key: str
    label: str
    value: float
    unit: str
    source: str
    ceiling_real: float | None
    ratio: float | None
    headroom: float | None
    unit_note: str | None
    requirement: FigureRequirement | None
    passed: bool | None
    sentence: str


@dataclass(kw_only=True)
class ModelEstimate(Record):
    """``comparison.model_estimate``: the USL fit's peak in real users."""

    n_star_real: float
    extrapolated: bool
    sentence: str


@dataclass(kw_only=True)
class Comparison(Record):
    """``comparison``: the measured ceiling against the capacity profile's figures."""

    profile: str
    exchange: str
    basis: str
    ceiling_real_users: float | None
    scale_statement: str
    figures: list[FigureComparison]
    model_estimate: ModelEstimate | None
    sentence: str
