"""Chunked passes over a run's records: memory-mapped sources read a chunk at a time.

Every analysis pass walks the records as :class:`Samples` chunks of at most ``CHUNK_RECORDS``
rows (views of the mapped file, plus run-wide name and group indices) and keeps only compact
per-key results, so memory does not grow with the run beyond the few bytes a sample that exact
percentiles need (see ``keyed.py``). Pages of a mapped chunk are released once it is processed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from surgeproof.analysis.samples import Samples
from surgeproof.rundir.reader import open_record_sources
from surgeproof.rundir.schema import FLAG_CLOSED_MODEL, Kind, Outcome

#: Records per chunk: bounds a pass's temporaries to a few tens of MB whatever the run's size.
CHUNK_RECORDS = 1 << 17

Bounds = tuple[int, int]


@dataclass
class Census:
    """Facts about every record, from one pass: counts, time span, value ranges per measure."""

    total: int = 0
    counted: int = 0
    missed: int = 0
    cancelled: int = 0
    #: Records with a send time (any kind), and those sent later than ``late_ms`` after intended.
    sent: int = 0
    late: int = 0
    late_ms: float = 100.0
    closed_model: bool = False
    first_intended: int | None = None
    last_intended: int | None = None
    last_end: int | None = None
    #: Integer (ns) ranges: latency and service time of counted records, send lag of sent
    #: requests, websocket gaps, offered concurrency.
    latency: Bounds = (0, 0)
    service: Bounds = (0, 0)
    lag: Bounds = (0, 0)
    gap: Bounds = (0, 0)
    concurrency: Bounds = (0, 0)
    #: Per chunk: (earliest intended, latest of intended and end) for skipping chunks.
    spans: list[Bounds] = field(default_factory=list)


@dataclass
class _Block:
    rows: Callable[[], Samples]
    release: Callable[[], None]


class RecordScan:
    """A run's records as chunks, with the run-wide endpoint names and groups."""

    def __init__(
        self,
        blocks: list[_Block],
        names: list[str],
        groups: list[str],
        name_group: np.ndarray,
        per_source: dict[str, int],
        damage: list[str],
    ) -> None:
        self._blocks = blocks
        self.names = names
        self.groups = groups
        #: ``name_group[name index]`` = group index.
        self.name_group = name_group
        self.per_source = per_source
        self.damage = damage
        self._census: Census | None = None

    @classmethod
    def open(cls, run_dir: str | Path, chunk: int = CHUNK_RECORDS) -> RecordScan:
        """Map every source of ``run_dir`` (nothing is read until a pass)."""
        opened = open_record_sources(Path(run_dir))
        group_index: dict[str, int] = {}
        for g in opened.groups:
            group_index.setdefault(g, len(group_index))
        name_group = np.array([group_index[g] for g in opened.groups] or [0], dtype=np.int16)
        blocks: list[_Block] = []
        per_source: dict[str, int] = {}
        for src in opened.sources:
            per_source[src.name] = len(src.records)
            for lo in range(0, len(src.records), chunk):
                hi = min(lo + chunk, len(src.records))

                def rows(src=src, lo=lo, hi=hi) -> Samples:
                    rec = src.records[lo:hi]
                    name = opened.global_ids(src, rec["name_id"])
                    return Samples(
                        rec["intended_ns"],
                        rec["sent_ns"],
                        rec["end_ns"],
                        name_group[name],
                        rec["outcome"],
                        rec["kind"],
                        rec["flags"],
                        rec["concurrency"],
                        list(group_index),
                        name=name,
                        names=opened.names,
                    )

                blocks.append(_Block(rows, lambda src=src, lo=lo, hi=hi: src.release(lo, hi)))
        return cls(
            blocks,
            list(opened.names),
            list(group_index),
            name_group,
            per_source,
            list(opened.damage),
        )

    @classmethod
    def of(cls, s: Samples, chunk: int = CHUNK_RECORDS) -> RecordScan:
        """Records already in memory (a level's window, a test's sample)."""
        if s.name is None:
            names, name_group = list(s.groups), np.arange(max(len(s.groups), 1), dtype=np.int16)
            s = Samples(**{**_columns(s), "name": s.group.astype(np.int32), "names": names})
        else:
            names = list(s.names)
            name_group = np.zeros(max(len(names), 1), dtype=np.int16)
            name_group[s.name] = s.group  # every name present maps to its group
        blocks = [
            _Block(lambda lo=lo: s.rows(lo, min(lo + chunk, len(s))), lambda: None)
            for lo in range(0, len(s), chunk)
        ]
        return cls(blocks, names, list(s.groups), name_group, dict(s.per_source), list(s.damage))

    def chunks(self, within: Bounds | None = None) -> Iterator[Samples]:
        """Every chunk in turn; with ``within`` = (start, end) ns, only chunks that may hold
        records intended or ending in it (known once :meth:`census` ran)."""
        spans = self._census.spans if self._census is not None else None
        for i, block in enumerate(self._blocks):
            if within is not None and spans is not None:
                lo, hi = spans[i]
                if hi < within[0] or lo >= within[1]:
                    continue
            yield block.rows()
            block.release()

    def census(self, late_ms: float | None = None) -> Census:
        """The :class:`Census` (one pass, then cached); ``late_ms`` defines a late send
        (default: the cached census's, else 100 ms)."""
        if self._census is not None and late_ms in (None, self._census.late_ms):
            return self._census
        late_ms = 100.0 if late_ms is None else late_ms
        c = Census(late_ms=late_ms)
        ranges = {k: [None, None] for k in ("latency", "service", "lag", "gap", "concurrency")}
        for s in self.chunks():
            n = len(s)
            c.total += n
            intended, end = s.intended_ns, s.end_ns
            lo_i, hi_i, hi_e = int(intended.min()), int(intended.max()), int(end.max())
            c.spans.append((lo_i, max(hi_i, hi_e)))
            c.first_intended = lo_i if c.first_intended is None else min(c.first_intended, lo_i)
            c.last_intended = hi_i if c.last_intended is None else max(c.last_intended, hi_i)
            if hi_e > 0:
                c.last_end = hi_e if c.last_end is None else max(c.last_end, hi_e)
            tally = np.bincount(s.outcome, minlength=16)
            c.missed += int(tally[Outcome.MISSED])
            c.cancelled += int(tally[Outcome.CANCELLED])
            req = s.kind != Kind.WS_GAP
            counted = s.counted()
            c.counted += int(np.count_nonzero(counted))
            c.closed_model |= bool(np.any(s.flags & FLAG_CLOSED_MODEL))
            sent = s.sent_ns > 0
            c.sent += int(np.count_nonzero(sent))
            lag_ms = (s.sent_ns[sent] - intended[sent]) / 1e6
            c.late += int(np.count_nonzero(lag_ms > late_ms))
            sent_req = sent & req
            gaps = ~req
            _widen(ranges["latency"], end[counted] - intended[counted])
            _widen(ranges["service"], end[counted] - s.sent_ns[counted])
            _widen(ranges["lag"], s.sent_ns[sent_req] - intended[sent_req])
            _widen(ranges["gap"], end[gaps] - s.sent_ns[gaps])
            _widen(ranges["concurrency"], s.concurrency[req].astype(np.int64))
        for key, (lo, hi) in ranges.items():
            setattr(c, key, (lo, hi) if lo is not None else (0, 0))
        self._census = c
        return c


def _widen(acc: list, values: np.ndarray) -> None:
    if len(values):
        lo, hi = int(values.min()), int(values.max())
        acc[0] = lo if acc[0] is None else min(acc[0], lo)
        acc[1] = hi if acc[1] is None else max(acc[1], hi)


def _columns(s: Samples) -> dict:
    return {
        "intended_ns": s.intended_ns,
        "sent_ns": s.sent_ns,
        "end_ns": s.end_ns,
        "group": s.group,
        "outcome": s.outcome,
        "kind": s.kind,
        "flags": s.flags,
        "concurrency": s.concurrency,
        "groups": s.groups,
        "per_source": s.per_source,
        "damage": s.damage,
    }
