"""The run directory's writer on the conductor's side: records, timeline and events per source.

A worker either ships its records here (``batch``) or keeps its own record shard and sends only
what it counted (``counts``, ``--record-shards local``): then its ``records/<source>.bin`` is
written by the worker itself (into this run directory when it can reach it) or gathered at the
end (``worker_fleet``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from surgeproof.load.order_journal import clean_lines
from surgeproof.load.recorder import now_ns
from surgeproof.rundir.schema import EVENTS, ORDERS_DIR, RECORD_DTYPE, TIMELINE
from surgeproof.rundir.writer import JsonlLog, RecordFile, shard_records, shard_sent


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

    def on_counts(
        self,
        source: str,
        records: int,
        tally: dict[str, Any] | None,
        sample: dict[str, Any] | None,
    ) -> None: ...


#: Distinct reasons for unbuildable requests the run records (events) and shows.
MAX_INVALID_NOTES = 64


@dataclass
class Collector:
    """Appends what every source (local, worker-<id>) produces; keeps the latest sample of each."""

    run_dir: Path
    files: dict[str, RecordFile] = field(default_factory=dict)
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    observers: list[Observer] = field(default_factory=list)
    #: Latency bucket bounds (s) the observers want shard-keeping workers to tally records
    #: into every second (set by the live exporter); None: counts only.
    tally_bounds_s: tuple[float, ...] | None = None
    #: Records each shard-keeping worker said it wrote to its own shard.
    counted: dict[str, int] = field(default_factory=dict)
    #: Each source's order journal (``orders/<source>.jsonl``), opened at its first line.
    journals: dict[str, JsonlLog] = field(default_factory=dict)
    #: Journal lines refused per source (not plausible: a worker's message may be crafted).
    journal_refused: dict[str, int] = field(default_factory=dict)
    #: Records with a send time among those shipped here, per source.
    sent_records: dict[str, int] = field(default_factory=dict)
    #: (endpoint, reason) of requests a dialect could not build, as first told by any source;
    #: ``invalid_notes`` holds the ones not yet shown on the terminal.
    invalid_seen: set[tuple[str, str]] = field(default_factory=set)
    invalid_notes: list[tuple[str, str]] = field(default_factory=list)

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
            whole = len(raw) - len(raw) % RECORD_DTYPE.itemsize
            sent = np.count_nonzero(np.frombuffer(raw[:whole], RECORD_DTYPE)["sent_ns"])
            self.sent_records[source] = self.sent_records.get(source, 0) + int(sent)
        self._sample(source, sample)
        for o in self.observers:
            o.on_batch(source, raw, names, sample)

    def orders(self, source: str, lines: Any) -> None:
        """One flush of one source's order journal, appended to ``orders/<source>.jsonl``."""
        kept, refused = clean_lines(lines)
        if refused:
            self.journal_refused[source] = self.journal_refused.get(source, 0) + refused
        if not kept:
            return
        log = self.journals.get(source)
        if log is None:
            from surgeproof.confine import UnsafePath, checked_name

            try:
                name = checked_name(source, "source name") + ".jsonl"
            except UnsafePath:
                self.journal_refused[source[:40]] = len(kept) + refused
                return
            log = self.journals[source] = JsonlLog(self.run_dir / ORDERS_DIR / name)
        for line in kept:
            log.append(line)

    def counts(
        self,
        source: str,
        records: int,
        tally: dict[str, Any] | None,
        sample: dict[str, Any] | None,
    ) -> None:
        """One second of a worker that keeps its own shard: how many records it wrote there,
        their tally (``tally_bounds_s``) and its timeline sample."""
        self.counted[source] = self.counted.get(source, 0) + int(records)
        self._sample(source, sample)
        for o in self.observers:
            o.on_counts(source, records, tally, sample)

    def _sample(self, source: str, sample: dict[str, Any] | None) -> None:
        if sample is None:
            return
        if "invalid_requests" in sample:
            sample = dict(sample)
            self.note_invalid(source, sample.pop("invalid_requests"))
        self.timeline.append(sample)
        self.latest[source] = sample
        t = self.totals.setdefault(source, {"sent": 0, "errors": 0, "missed": 0, "backlogged": 0})
        for key in t:
            t[key] += int(sample.get(key, 0))

    def note_invalid(self, source: str, items: Any) -> None:
        """Requests ``source`` could not build: an ``invalid_request`` event per new reason.

        The list comes from a worker, so only its expected shape is taken: text, bounded."""
        if not isinstance(items, list):
            return
        for item in items[:MAX_INVALID_NOTES]:
            if not isinstance(item, dict):
                continue
            endpoint, reason = item.get("endpoint"), item.get("reason")
            if not isinstance(endpoint, str) or not isinstance(reason, str):
                continue
            key = (endpoint[:200], reason[:500])
            if key in self.invalid_seen or len(self.invalid_seen) >= MAX_INVALID_NOTES:
                continue
            self.invalid_seen.add(key)
            self.invalid_notes.append(key)
            self.event("invalid_request", source=source, endpoint=key[0], reason=key[1])

    def take_invalid_notes(self) -> list[tuple[str, str]]:
        """(endpoint, reason) pairs not shown yet."""
        notes, self.invalid_notes = self.invalid_notes, []
        return notes

    def calls_sent(self) -> int:
        """Calls (and websocket events) that were sent, as far as the conductor has seen: the
        records shipped here, else what the sources' timeline samples counted — and, for a
        worker that keeps its own shard and whose samples counted none, its shard itself (the
        samples miss the last partial second: a run cut short early sent only in it)."""
        sources = set(self.sent_records) | set(self.totals) | set(self.counted)
        total = 0
        for s in sources:
            sent = max(self.sent_records.get(s, 0), self.totals.get(s, {}).get("sent", 0))
            if sent == 0 and s in self.counted:
                sent = shard_sent(self.run_dir, s)
            total += sent
        return total

    def record_counts(self) -> dict[str, int]:
        """Records per source in the run directory now (whole records of the shard files)."""
        out = {s: f.count for s, f in self.files.items()}
        for source in self.counted:
            if source not in out:
                out[source] = shard_records(self.run_dir, source)
        return out

    def close(self) -> None:
        for f in self.files.values():
            f.close()
        for log in self.journals.values():
            log.close()
        self.events.close()
        self.timeline.close()
