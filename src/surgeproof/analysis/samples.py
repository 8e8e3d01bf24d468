"""The columns the analysis needs, read from a run's records in bounded chunks.

Records are memory-mapped and copied a chunk at a time into compact columns (no 40-byte record
copy of the whole run, no name strings per record): the group becomes a small integer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from surgeproof.rundir.reader import open_record_sources
from surgeproof.rundir.schema import FLAG_CLOSED_MODEL, Kind, Outcome

#: Records copied per pass; bounds the temporary memory of a load to a few tens of MB.
CHUNK_RECORDS = 1 << 20


@dataclass
class Samples:
    """One row per record: times, group index, outcome, kind, flags, offered concurrency."""

    intended_ns: np.ndarray
    sent_ns: np.ndarray
    end_ns: np.ndarray
    group: np.ndarray  # int16 index into ``groups``
    outcome: np.ndarray
    kind: np.ndarray
    flags: np.ndarray
    concurrency: np.ndarray
    groups: list[str]
    per_source: dict[str, int] = field(default_factory=dict)
    damage: list[str] = field(default_factory=list)
    #: Run-wide endpoint name index per row (into ``names``); None when not known.
    name: np.ndarray | None = None
    names: list[str] = field(default_factory=list)
    #: Attempt number and user id per row, and the rows' source (index into the run's
    #: sources), for passes that follow users (re-sends, reconnects); None / -1 when not known.
    attempt: np.ndarray | None = None
    user: np.ndarray | None = None
    source: int = -1

    def __len__(self) -> int:
        return len(self.intended_ns)

    def take(self, mask: np.ndarray) -> Samples:
        """The rows where ``mask`` holds (a copy)."""
        return Samples(
            self.intended_ns[mask],
            self.sent_ns[mask],
            self.end_ns[mask],
            self.group[mask],
            self.outcome[mask],
            self.kind[mask],
            self.flags[mask],
            self.concurrency[mask],
            self.groups,
            dict(self.per_source),
            list(self.damage),
            None if self.name is None else self.name[mask],
            self.names,
            None if self.attempt is None else self.attempt[mask],
            None if self.user is None else self.user[mask],
            self.source,
        )

    def rows(self, lo: int, hi: int) -> Samples:
        """Rows ``[lo, hi)`` as views (no copy)."""
        return self.take(slice(lo, hi))

    def window(self, start_ns: int, end_ns: int) -> Samples:
        """Rows intended in ``[start_ns, end_ns)``."""
        return self.take((self.intended_ns >= start_ns) & (self.intended_ns < end_ns))

    @property
    def closed_model(self) -> bool:
        """Whether any record came from a closed-loop user."""
        return bool(len(self.flags)) and bool(np.any(self.flags & FLAG_CLOSED_MODEL))

    def counted(self) -> np.ndarray:
        """Requests and websocket events that count (not missed, cancelled or ws gaps)."""
        return (
            (self.outcome != Outcome.MISSED)
            & (self.outcome != Outcome.CANCELLED)
            & (self.kind != Kind.WS_GAP)
        )


def rows_where(mask: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each column's rows where ``mask`` holds; the columns themselves (no copy) where it holds
    on every row, as it does in most chunks."""
    if mask.all():
        return columns
    return tuple(c[mask] for c in columns)


def load_samples(
    run_dir: Path, *, start_ns: int | None = None, end_ns: int | None = None
) -> Samples:
    """Every record of a run (or those intended in ``[start_ns, end_ns)``) as compact columns."""
    opened = open_record_sources(Path(run_dir))
    groups: list[str] = []
    group_index: dict[str, int] = {}
    for g in opened.groups:
        group_index.setdefault(g, len(group_index))
    groups = list(group_index)
    name_to_group = np.array([group_index[g] for g in opened.groups] or [0], dtype=np.int16)
    filtered = start_ns is not None or end_ns is not None
    total = sum(len(src.records) for src in opened.sources)
    # Unfiltered: fill preallocated columns, never holding two copies of the run at once.
    cols = {k: np.empty(0 if filtered else total, dtype=t) for k, t in _COLUMNS.items()}
    parts: dict[str, list[np.ndarray]] = {k: [] for k in _COLUMNS}
    per_source: dict[str, int] = {}
    at = 0
    for src in opened.sources:
        per_source[src.name] = len(src.records)
        for lo in range(0, len(src.records), CHUNK_RECORDS):
            chunk = src.records[lo : lo + CHUNK_RECORDS]
            if filtered:
                t = chunk["intended_ns"]
                keep = np.ones(len(chunk), dtype=bool)
                if start_ns is not None:
                    keep &= t >= start_ns
                if end_ns is not None:
                    keep &= t < end_ns
                if not keep.any():
                    continue
                chunk = chunk[keep]
            values = {k: chunk[k] for k in _COLUMNS if k not in ("group", "name")}
            values["name"] = opened.global_ids(src, np.asarray(chunk["name_id"]))
            values["group"] = name_to_group[values["name"]]
            for k, v in values.items():
                if filtered:
                    parts[k].append(np.array(v, dtype=_COLUMNS[k]))
                else:
                    cols[k][at : at + len(chunk)] = v
            at += len(chunk)
    if filtered:
        cols = {k: _concat(v, _COLUMNS[k]) for k, v in parts.items()}
    return Samples(
        **cols,
        groups=groups,
        per_source=per_source,
        damage=list(opened.damage),
        names=list(opened.names),
    )


_COLUMNS = {
    "intended_ns": np.int64,
    "sent_ns": np.int64,
    "end_ns": np.int64,
    "group": np.int16,
    "outcome": np.uint8,
    "kind": np.uint8,
    "flags": np.uint8,
    "concurrency": np.uint32,
    "name": np.int32,
}


def _concat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    if not parts:
        return np.empty(0, dtype=dtype)
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts)
