"""The run directory's writer on the conductor's side: records, timeline and events per source."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from surgeproof.load.recorder import now_ns
from surgeproof.rundir.schema import EVENTS, TIMELINE
from surgeproof.rundir.writer import JsonlLog, RecordFile


class Observer(Protocol):
    """Sees what the run directory gets, as it gets it (e.g. the live metrics exporter)."""

    def on_event(self, event: dict[str, Any]) -> None: ...

    def on_batch(
        self,
        source: str,
        raw: bytes,
        names: dict[int, tuple[str, str]],
        sample: dict[str, Any] | None,
    ) -> None: ...


@dataclass
class Collector:
    """Appends what every source (local, worker-<id>) produces; keeps the latest sample of each."""

    run_dir: Path
    files: dict[str, RecordFile] = field(default_factory=dict)
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    observers: list[Observer] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.events = JsonlLog(self.run_dir / EVENTS)
        self.timeline = JsonlLog(self.run_dir / TIMELINE)

    def event(self, type_: str, **fields: Any) -> None:
        record = {"t_ns": fields.pop("t_ns", None) or now_ns(), "type": type_, **fields}
        self.events.append(record)
        for o in self.observers:
            o.on_event(record)

    def batch(
        self,
        source: str,
        raw: bytes,
        names: dict[int, tuple[str, str]],
        sample: dict[str, Any] | None,
    ) -> None:
        """One flush of one source: its new names, its records, its timeline sample."""
        f = self.files.get(source)
        if f is None:
            f = self.files[source] = RecordFile(self.run_dir, source)
        if names:
            f.add_names(names)
        if raw:
            f.append(raw)
        if sample is not None:
            self.timeline.append(sample)
            self.latest[source] = sample
            t = self.totals.setdefault(
                source, {"sent": 0, "errors": 0, "missed": 0, "backlogged": 0}
            )
            for key in t:
                t[key] += int(sample.get(key, 0))
        for o in self.observers:
            o.on_batch(source, raw, names, sample)

    def record_counts(self) -> dict[str, int]:
        return {s: f.count for s, f in self.files.items()}

    def close(self) -> None:
        for f in self.files.values():
            f.close()
        self.events.close()
        self.timeline.close()
