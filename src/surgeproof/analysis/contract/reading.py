"""Reading ``analysis.json`` through its contract: bounded, strict on types, one line per fault.

An analysis.json handed to ``report`` or ``gate`` may be crafted: it is read only up to
:data:`MAX_ANALYSIS_BYTES`, NaN and Infinity are refused, and every typed section is checked
field by field, so a bad file is a :class:`ContractError` naming the file and the field, never a
traceback deep in a renderer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from surgeproof.analysis.contract.document import Analysis
from surgeproof.analysis.contract.record import ContractError

#: Largest analysis.json read: a week of one-second windows is a few hundred megabytes.
MAX_ANALYSIS_BYTES = 1 << 30

ANALYSIS_FILE = "analysis.json"

#: An analysis as readers take it: its typed records, or the parsed JSON they are built from.
Doc = Analysis | dict[str, Any]


def as_analysis(doc: Doc, source: str = ANALYSIS_FILE) -> Analysis:
    """The typed records of an analysis document (a record is returned as it is)."""
    if isinstance(doc, Analysis):
        return doc
    return Analysis.from_json(doc, source)


def read_analysis(run_dir: Path) -> dict[str, Any]:
    """``run_dir``'s analysis.json, read within bounds and checked against the contract."""
    from surgeproof.confine import read_bounded

    source = str(Path(run_dir) / ANALYSIS_FILE)
    raw = read_bounded(run_dir, ANALYSIS_FILE, MAX_ANALYSIS_BYTES, "run directory")
    try:
        doc = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        why = " ".join(str(exc).split())[:200]
        raise ContractError(f"{source}: not valid JSON ({why})") from None
    as_analysis(doc, source)
    return doc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number analysis.json holds")
