"""The typed contract of ``analysis.json`` (FORMAT.md beside ``analysis/``): the analysis writes
its document through these records and report, gate and evidence read it back through them, so
a renamed or missing field fails a test instead of showing as "–"."""

from __future__ import annotations

from surgeproof.analysis.contract.document import Analysis, written
from surgeproof.analysis.contract.reading import Doc, as_analysis, read_analysis
from surgeproof.analysis.contract.record import ABSENT, ContractError, Record

__all__ = [
    "ABSENT",
    "Analysis",
    "ContractError",
    "Doc",
    "Record",
    "as_analysis",
    "read_analysis",
    "written",
]
