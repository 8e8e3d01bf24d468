"""The run's own sections of analysis.json: ``input``, ``scale`` and ``slos`` (FORMAT.md)."""

from __future__ import annotations

from dataclasses import dataclass

from surgeproof.analysis.contract.record import ABSENT, Record


@dataclass(kw_only=True)
class RecordCounts(Record):
    """``input.records``: how many records the analysis read, and of them which counted."""

    total: int
    per_source: dict[str, int]
    counted: int
    missed: int | None
    cancelled: int | None


@dataclass(kw_only=True)
class Input(Record):
    """``input``: what was analysed (a run directory or a Locust CSV prefix) and its clock."""

    kind: str
    path: str
    run_id: str | None
    run_status: str | None
    scenario_name: str | None
    profile_name: str | None
    load_model: str
    t0_ns: int
    first_ns: int
    last_ns: int
    duration_s: float
    records: RecordCounts
    window_s: float
    probing: bool = ABSENT


@dataclass(kw_only=True)
class Scale(Record):
    """``scale``: how simulated users stand for real ones, and the statement that says so."""

    user_scale: float
    time_scale: float
    assumption: str
    scaled: bool
    statement: str
    unit: str = ABSENT


@dataclass(kw_only=True)
class SloEntry(Record):
    """One of ``slos``: an SLO as judged, with where it came from."""

    group: str
    metric: str
    limit: float
    unit: str
    text: str
    source: str
    options: dict[str, float] = ABSENT
