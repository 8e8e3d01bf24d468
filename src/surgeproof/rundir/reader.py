"""Readers for a run directory: tolerant of a run cut short, strict about what they cannot trust."""

from __future__ import annotations

import contextlib
import json
import mmap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from surgeproof.rundir.schema import (
    EVENTS,
    NAMES_SUFFIX,
    RECORD_DTYPE,
    RECORDS_DIR,
    RECORDS_SUFFIX,
    RUN_META,
    SCHEMA_VERSION,
    SERVER_METRICS,
    TIMELINE,
    RunDirError,
)


@dataclass
class RecordSet:
    """All records of a run, name ids rewritten to index ``names``/``groups`` across sources."""

    records: np.ndarray
    names: list[str]
    groups: list[str]
    #: Number of records per source, in the order they were concatenated.
    per_source: dict[str, int] = field(default_factory=dict)
    #: Why the data are incomplete (truncated files, ...); empty when whole.
    damage: list[str] = field(default_factory=list)


def read_meta(run_dir: Path) -> dict[str, Any]:
    """Read ``run.json`` and check its schema version."""
    path = Path(run_dir) / RUN_META
    if not Path(run_dir).is_dir():
        raise RunDirError(f"{run_dir}: not a directory")
    if not path.is_file():
        raise RunDirError(f"{path}: missing (not a surgeproof run directory?)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise RunDirError(f"{path}: expected a JSON object")
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise RunDirError(
            f"{path}: schema_version {version!r} is not supported (this surgeproof reads "
            f"{SCHEMA_VERSION})"
        )
    return meta


def read_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Read a JSON-lines file; a half-written last line is dropped and reported, not fatal."""
    if not path.is_file():
        return [], []
    rows: list[dict[str, Any]] = []
    damage: list[str] = []
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            if i == len(lines):
                damage.append(f"{path.name}: last line {i} half-written, dropped")
                continue
            raise RunDirError(f"{path}: line {i} is not valid JSON") from None
        if isinstance(obj, dict):
            rows.append(obj)
    return rows, damage


#: Records per step when the reader itself walks a mapped file.
_SCAN_CHUNK = 1 << 18


@dataclass
class RecordSource:
    """One source's records, memory-mapped (not read), and its name ids mapped to the run's."""

    name: str
    #: Read-only memory map of whole records (empty array for an empty file).
    records: np.ndarray
    #: ``name_index[local_id]`` = index into the run-wide ``names``/``groups``.
    name_index: np.ndarray
    #: The file mapping behind ``records`` (None when empty), so passes can release pages.
    mapping: mmap.mmap | None = None

    def release(self, lo: int, hi: int) -> None:
        """Drop records ``[lo, hi)`` from this process's resident memory (re-read if touched).

        A chunked pass calls this after each chunk, so the mapped input does not accumulate in
        the resident set: the file stays in the page cache, only this process's view is dropped.
        """
        advise = getattr(mmap, "MADV_DONTNEED", None)
        if self.mapping is None or advise is None or hi <= lo:
            return
        size = RECORD_DTYPE.itemsize
        start = (lo * size // mmap.PAGESIZE) * mmap.PAGESIZE
        stop = min(hi * size, len(self.mapping))
        if stop > start:
            # Only a memory hint: the pass is correct without it.
            with contextlib.suppress(OSError, ValueError):
                self.mapping.madvise(advise, start, stop - start)


@dataclass
class RecordSources:
    """Every source of a run, for chunked passes over records without loading them all."""

    sources: list[RecordSource]
    names: list[str]
    groups: list[str]
    damage: list[str] = field(default_factory=list)

    def global_ids(self, source: RecordSource, local_ids: np.ndarray) -> np.ndarray:
        """Run-wide name indices of ``local_ids`` (undeclared ids map to ``<unnamed>``)."""
        return source.name_index[np.minimum(local_ids.astype(np.int64), len(source.name_index) - 1)]


def open_record_sources(run_dir: Path) -> RecordSources:
    """Map every source's records file; a partial trailing record is left out and reported."""
    rec_dir = Path(run_dir) / RECORDS_DIR
    names: list[str] = []
    groups: list[str] = []
    index: dict[tuple[str, str], int] = {}
    damage: list[str] = []
    sources: list[RecordSource] = []

    def intern(key: tuple[str, str]) -> int:
        if key not in index:
            index[key] = len(names)
            names.append(key[0])
            groups.append(key[1])
        return index[key]

    for data_path in sorted(rec_dir.glob(f"*{RECORDS_SUFFIX}")) if rec_dir.is_dir() else []:
        source = data_path.name[: -len(RECORDS_SUFFIX)]
        whole, rem = divmod(data_path.stat().st_size, RECORD_DTYPE.itemsize)
        if rem:
            damage.append(f"{data_path.name}: {rem} trailing bytes of a cut-off record dropped")
        mapping = None
        if whole:
            with open(data_path, "rb") as fh:
                mapping = mmap.mmap(
                    fh.fileno(), whole * RECORD_DTYPE.itemsize, access=mmap.ACCESS_READ
                )
            arr = np.frombuffer(mapping, dtype=RECORD_DTYPE, count=whole)
        else:
            arr = np.empty(0, dtype=RECORD_DTYPE)
        name_rows, name_damage = read_jsonl(rec_dir / f"{source}{NAMES_SUFFIX}")
        damage.extend(name_damage)
        # One slot past the largest declared id catches every undeclared id.
        local = np.full(max([int(r["id"]) for r in name_rows], default=-1) + 2, -1, np.int64)
        for row in name_rows:
            local[int(row["id"])] = intern((str(row["name"]), str(row.get("group", "other"))))
        src = RecordSource(source, arr, local, mapping)
        if whole:
            # Count ids a chunk at a time, releasing pages: checking names must not pull the
            # whole file into this process's resident memory.
            id_counts = np.zeros(1 << 16, dtype=np.int64)
            for lo in range(0, whole, _SCAN_CHUNK):
                hi = min(lo + _SCAN_CHUNK, whole)
                id_counts += np.bincount(arr["name_id"][lo:hi], minlength=1 << 16)
                src.release(lo, hi)
            ids = np.flatnonzero(id_counts)
            slots = local[np.minimum(ids, len(local) - 1)]
            if (slots < 0).any():
                n_unknown = int(id_counts[ids[slots < 0]].sum())
                damage.append(f"{data_path.name}: {n_unknown} records with undeclared names")
                local[local < 0] = intern(("<unnamed>", "other"))
        sources.append(src)
    return RecordSources(sources, names, groups, damage)


def read_records(run_dir: Path) -> RecordSet:
    """Concatenate every source's records; a partial trailing record is dropped and reported."""
    opened = open_record_sources(run_dir)
    arrays: list[np.ndarray] = []
    per_source: dict[str, int] = {}
    for src in opened.sources:
        arr = np.array(src.records, dtype=RECORD_DTYPE)
        if len(arr):
            arr["name_id"] = opened.global_ids(src, arr["name_id"]).astype(np.uint16)
        arrays.append(arr)
        per_source[src.name] = len(arr)
    records = np.concatenate(arrays) if arrays else np.empty(0, dtype=RECORD_DTYPE)
    return RecordSet(records, opened.names, opened.groups, per_source, opened.damage)


def read_events(run_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Run events (phases, steady-state windows, worker loss, aborts) in file order."""
    return read_jsonl(Path(run_dir) / EVENTS)


def read_timeline(run_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Per-second generator samples (offered and active users, generator CPU) per source."""
    return read_jsonl(Path(run_dir) / TIMELINE)


def read_server_metrics(run_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Per-second metrics the embedded exchange reported about itself (empty for real targets)."""
    return read_jsonl(Path(run_dir) / SERVER_METRICS)
