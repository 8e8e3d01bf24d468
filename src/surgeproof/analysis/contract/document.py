"""The whole ``analysis.json`` as one record: typed sections, and the sections other modules own
kept as JSON (FORMAT.md beside ``analysis/``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from surgeproof.analysis.contract.amplification import Amplification
from surgeproof.analysis.contract.ceiling import Ceiling, Verdict
from surgeproof.analysis.contract.incidents import Incidents
from surgeproof.analysis.contract.levels import Level, Overall
from surgeproof.analysis.contract.model import Knee, ServerVsClient, Usl
from surgeproof.analysis.contract.quality import DataQuality, Generator, Reconciliation
from surgeproof.analysis.contract.record import ABSENT, Record
from surgeproof.analysis.contract.recovery import Recovery
from surgeproof.analysis.contract.requirements import Comparison, JudgedRequirement
from surgeproof.analysis.contract.run import Input, Scale, SloEntry
from surgeproof.analysis.contract.series import Timeseries
from surgeproof.analysis.contract.settings import Settings


@dataclass(kw_only=True)
class Analysis(Record):
    """analysis.json: top-level keys in the order the analysis writes them."""

    analysis_schema_version: int
    generated_at_utc: str
    surgeproof_version: str
    input: Input
    settings: Settings
    scale: Scale
    slos: list[SloEntry]
    verdict: Verdict
    ceiling: Ceiling
    levels: list[Level]
    usl: Usl
    knee: Knee
    timeseries: Timeseries
    overall: Overall
    server_vs_client: ServerVsClient = ABSENT
    comparison: Comparison | None
    requirements: list[JudgedRequirement] | None = ABSENT
    incidents: Incidents
    amplification: Amplification = ABSENT
    recovery: Recovery = ABSENT
    reconciliation: Reconciliation
    data_quality: DataQuality
    generator: Generator
    summary: list[str]

    @property
    def user_scale(self) -> float:
        """Simulated users per real user."""
        return float(self.scale.user_scale) or 1.0

    @property
    def real_unit(self) -> str:
        """What real numbers count: ``users``, or the profile's own unit (Coinone: orders)."""
        return self.scale.unit or "users"


def written(analysis: dict[str, Any]) -> dict[str, Any]:
    """The document as its typed records write it: every field the contract names, with its
    type, and no other (a field the analysis writes but the contract lacks fails here)."""
    return Analysis.from_json(analysis, "analysis.json", strict=True).to_json()
