"""Readers for a run directory: tolerant of a run cut short, strict about what they cannot trust.

What they hand on is bounded by the data, never by a value in it: files are size-checked before
they are read, JSON is parsed with finite floats and int64 integers only, and records or rows
whose times fall outside the run's span (``span.py``) are left out and counted as damage.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import stat
from collections.abc import Callable
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
from surgeproof.rundir.span import (
    Span,
    is_ns,
    row_in_span,
    run_span,
    second_in_span,
    valid_records,
)

#: Largest run.json read: the tool writes a few kilobytes.
MAX_META_BYTES = 64 << 20
#: Largest names file read: at most 65,536 ids (``name_id`` is 16 bits) of a few hundred bytes.
MAX_NAMES_BYTES = 64 << 20
#: Records whose first few give a run without run.json times an anchor for its span.
_ANCHOR_RECORDS = 4096


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
    """Read ``run.json`` and check its schema version and the times it gives."""
    path = Path(run_dir) / RUN_META
    if not Path(run_dir).is_dir():
        raise RunDirError(f"{run_dir}: not a directory")
    if not path.is_file():
        raise RunDirError(f"{path}: missing (not a surgeproof run directory?)")
    data = _read_bounded(path, MAX_META_BYTES)
    try:
        meta = _loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, out of range
        raise RunDirError(f"{path}: not valid JSON ({' '.join(str(exc).split())})") from None
    if not isinstance(meta, dict):
        raise RunDirError(f"{path}: expected a JSON object")
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        shown = repr(version) if len(repr(version)) <= 40 else repr(version)[:37] + "..."
        raise RunDirError(
            f"{path}: schema_version {shown} is not supported (this surgeproof reads "
            f"{SCHEMA_VERSION})"
        )
    _check_times(meta, path)
    return meta


def _check_times(meta: dict[str, Any], path: Path) -> None:
    """run.json's own times are Unix ns (or absent): analysis does arithmetic with them."""
    if meta.get("t0_ns") is not None and not is_ns(meta["t0_ns"]):
        raise RunDirError(f"{path}: t0_ns {meta['t0_ns']!r:.40}: expected Unix nanoseconds")
    workers = meta.get("workers")
    lost = workers.get("lost") if isinstance(workers, dict) else None
    for i, entry in enumerate(lost if isinstance(lost, list) else []):
        for key, value in entry.items() if isinstance(entry, dict) else ():
            if key.endswith("_ns") and value is not None and not is_ns(value):
                raise RunDirError(
                    f"{path}: workers.lost[{i}].{key} {value!r:.40}: expected Unix nanoseconds"
                )


def read_jsonl(
    path: Path, keep: Callable[[dict[str, Any]], bool] | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Read a JSON-lines file; a half-written last line is dropped and reported, not fatal.

    A line that is JSON but not a trustworthy row — a number out of range (NaN, 1e400, an
    integer beyond int64), nesting too deep, or refused by ``keep`` — is skipped and counted.
    """
    if not path.is_file():
        return [], []
    rows: list[dict[str, Any]] = []
    damage: list[str] = []
    skipped = 0
    pending: int | None = None  # a line that did not parse: fatal unless it is the last
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for i, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                if pending is not None:
                    raise RunDirError(f"{path}: line {pending} is not valid JSON")
                try:
                    obj = _loads(line)
                except json.JSONDecodeError:
                    pending = i
                    continue
                except (ValueError, RecursionError):
                    skipped += 1
                    continue
                if not isinstance(obj, dict) or (keep is not None and not keep(obj)):
                    skipped += 1
                    continue
                rows.append(obj)
    except OSError as exc:
        raise RunDirError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if pending is not None:
        damage.append(f"{path.name}: last line {pending} half-written, dropped")
    if skipped:
        damage.append(
            f"{path.name}: {skipped} line(s) with times outside the run, numbers out of range "
            "or fields of the wrong type, skipped"
        )
    return rows, damage


class _OutOfRange(ValueError):
    """A JSON number no row of a run directory can hold."""


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _OutOfRange(f"number {text[:20]} out of range")
    return value


def _int64(text: str) -> int:
    if len(text) > 20:  # more digits than any int64 (and a 5,000-digit int is refused by Python)
        raise _OutOfRange(f"integer of {len(text)} digits")
    value = int(text)
    if not -(1 << 63) <= value < (1 << 63):
        raise _OutOfRange(f"integer {text} out of range")
    return value


def _constant(name: str) -> Any:
    raise _OutOfRange(f"{name} is not a number a run directory holds")


def _loads(text: str) -> Any:
    """``json.loads`` with finite floats and int64 integers only (ValueError otherwise)."""
    return json.loads(text, parse_float=_finite_float, parse_int=_int64, parse_constant=_constant)


def _read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; RunDirError otherwise."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise RunDirError(f"{path}: not a regular file")
        if info.st_size > limit:
            raise RunDirError(f"{path}: {info.st_size:,} bytes, more than the {limit:,} expected")
        with open(path, "rb") as fh:
            # Ask for the size stat gave (+1 to see growth): read(n) allocates n bytes first.
            data = fh.read(info.st_size + 1)
    except OSError as exc:
        raise RunDirError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > info.st_size:
        raise RunDirError(f"{path}: grew while being read (still being written?)")
    return data


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

    meta = _meta_if_any(run_dir)
    span: Span | None = None
    anchored = False
    data_paths = sorted(rec_dir.glob(f"*{RECORDS_SUFFIX}")) if rec_dir.is_dir() else []
    for data_path in data_paths:
        source = data_path.name[: -len(RECORDS_SUFFIX)]
        whole, rem = divmod(_size(data_path), RECORD_DTYPE.itemsize)
        if rem:
            damage.append(f"{data_path.name}: {rem} trailing bytes of a cut-off record dropped")
        mapping = None
        if whole:
            try:
                with open(data_path, "rb") as fh:
                    mapping = mmap.mmap(
                        fh.fileno(), whole * RECORD_DTYPE.itemsize, access=mmap.ACCESS_READ
                    )
            except (OSError, ValueError) as exc:
                raise RunDirError(f"{data_path}: cannot read ({exc})") from None
            arr = np.frombuffer(mapping, dtype=RECORD_DTYPE, count=whole)
        else:
            arr = np.empty(0, dtype=RECORD_DTYPE)
        if not anchored and whole:
            span, anchored = run_span(meta, arr["intended_ns"][:_ANCHOR_RECORDS]), True
        declared = _read_names(rec_dir / f"{source}{NAMES_SUFFIX}", damage)
        # One slot past the largest declared id catches every undeclared id.
        local = np.full(max(declared, default=-1) + 2, -1, np.int64)
        for name_id, key in declared.items():
            local[name_id] = intern(key)
        src = RecordSource(source, arr, local, mapping)
        if whole:
            # Check records and count ids a chunk at a time, releasing pages: checking must
            # not pull the whole file into this process's resident memory.
            id_counts = np.zeros(1 << 16, dtype=np.int64)
            rejected: list[np.ndarray] = []
            for lo in range(0, whole, _SCAN_CHUNK):
                hi = min(lo + _SCAN_CHUNK, whole)
                chunk = arr[lo:hi]
                ok = valid_records(chunk, span)
                if ok.all():
                    id_counts += np.bincount(chunk["name_id"], minlength=1 << 16)
                else:
                    id_counts += np.bincount(chunk["name_id"][ok], minlength=1 << 16)
                    rejected.append(np.flatnonzero(~ok) + lo)
                src.release(lo, hi)
            if rejected:
                _leave_out(src, np.concatenate(rejected), span, data_path.name, damage)
            ids = np.flatnonzero(id_counts)
            slots = local[np.minimum(ids, len(local) - 1)]
            if (slots < 0).any():
                n_unknown = int(id_counts[ids[slots < 0]].sum())
                damage.append(f"{data_path.name}: {n_unknown} records with undeclared names")
                local[local < 0] = intern(("<unnamed>", "other"))
        sources.append(src)
    return RecordSources(sources, names, groups, damage)


def _leave_out(
    src: RecordSource, rejected: np.ndarray, span: Span | None, shown: str, damage: list[str]
) -> None:
    """Replace the source's mapped records by an in-memory copy of the trustworthy ones."""
    keep = np.ones(len(src.records), dtype=bool)
    keep[rejected] = False
    src.records = np.array(src.records[keep])
    src.mapping = None  # unmapped once the last view of it goes
    where = "" if span is None else " (times outside the run's span"
    damage.append(
        f"{shown}: {len(rejected)} record(s) that cannot be true{where}, or an unknown "
        f"outcome or kind{')' if where else ''} left out"
    )


def _read_names(path: Path, damage: list[str]) -> dict[int, tuple[str, str]]:
    """``{id: (name, group)}`` of a names file; malformed or repeated lines skipped, counted."""
    if path.is_file():
        _read_bounded_size(path, MAX_NAMES_BYTES)
    rows, row_damage = read_jsonl(path)
    damage.extend(row_damage)
    declared: dict[int, tuple[str, str]] = {}
    bad = 0
    for row in rows:
        name_id, name, group = row.get("id"), row.get("name"), row.get("group", "other")
        ok = isinstance(name_id, int) and not isinstance(name_id, bool) and 0 <= name_id < 1 << 16
        ok = ok and isinstance(name, str) and isinstance(group, str) and name_id not in declared
        if not ok:
            bad += 1
            continue
        declared[name_id] = (name[:500], group[:100])
    if bad:
        damage.append(f"{path.name}: {bad} line(s) not a new {{id 0-65535, name, group}}, skipped")
    return declared


def _read_bounded_size(path: Path, limit: int) -> None:
    size = _size(path)
    if size > limit:
        raise RunDirError(f"{path}: {size:,} bytes, more than the {limit:,} expected")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise RunDirError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _meta_if_any(run_dir: Path) -> dict[str, Any]:
    """run.json's content, or {} for a folder of records without one (a test's, a fragment)."""
    return read_meta(run_dir) if (Path(run_dir) / RUN_META).is_file() else {}


def span_of(run_dir: Path) -> Span | None:
    """The run's span (``span.run_span``), anchored by its first records when run.json is not."""
    meta = _meta_if_any(run_dir)
    span = run_span(meta)
    if span is not None:
        return span
    rec_dir = Path(run_dir) / RECORDS_DIR
    for data_path in sorted(rec_dir.glob(f"*{RECORDS_SUFFIX}")) if rec_dir.is_dir() else []:
        try:
            head = np.fromfile(data_path, dtype=RECORD_DTYPE, count=_ANCHOR_RECORDS)
        except (OSError, ValueError):
            continue
        if len(head):
            return run_span(meta, head["intended_ns"])
    return None


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
    span = span_of(run_dir)
    return read_jsonl(Path(run_dir) / EVENTS, lambda row: row_in_span(row, span))


def read_timeline(run_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Per-second generator samples (offered and active users, generator CPU) per source."""
    span = span_of(run_dir)
    return read_jsonl(Path(run_dir) / TIMELINE, lambda row: row_in_span(row, span))


#: Fields of a server second that readers do arithmetic with: numbers when present.
_SERVER_NUMBERS = (
    "requests", "served", "shed_503", "rate_limited_429", "blocked_418", "client_errors",
    "server_errors", "ws_connections", "active_sessions",
)  # fmt: skip


def read_server_metrics(run_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Per-second metrics the embedded exchange reported about itself (empty for real targets)."""
    span = span_of(run_dir)

    def keep(row: dict[str, Any]) -> bool:
        if "t" in row and not second_in_span(row["t"], span):
            return False
        values = [row.get(key) for key in _SERVER_NUMBERS]
        return all(
            v is None or (isinstance(v, int | float) and v is not True and v is not False)
            for v in values
        )

    return read_jsonl(Path(run_dir) / SERVER_METRICS, keep)
