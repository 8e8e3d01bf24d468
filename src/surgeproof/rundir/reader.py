"""Readers for a run directory: tolerant of a run cut short, strict about what they cannot trust.

What they hand on is bounded by the data, never by a value in it: files are size-checked before
they are read, JSON is parsed with finite floats and int64 integers only, and records or rows
whose times fall outside the run's span (``span.py``) are left out and counted as damage.
"""

from __future__ import annotations

import array
import contextlib
import errno
import io
import json
import mmap
import os
import stat
from collections.abc import Callable, Collection
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
    path: Path,
    keep: Callable[[dict[str, Any]], bool] | None = None,
    *,
    skip_corrupt: bool = False,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Read a JSON-lines file; a half-written last line is dropped and reported, not fatal.

    A line that is JSON but not a trustworthy row — a number out of range (NaN, 1e400, an
    integer beyond int64), nesting too deep, or refused by ``keep`` — is skipped and counted.
    A line that is not JSON before the last is fatal, unless ``skip_corrupt`` (an export of
    evidence keeps every line it can read): then it is skipped and counted too.
    """
    if not path.is_file():
        return [], []
    rows: list[dict[str, Any]] = []
    damage: list[str] = []
    skipped = 0
    corrupt = 0
    pending: int | None = None  # a line that did not parse: fatal unless it is the last
    try:
        with _open_regular(path) as raw_fh:
            fh = io.TextIOWrapper(raw_fh, encoding="utf-8", errors="replace")
            for i, line in enumerate(iter(lambda: fh.readline(MAX_LINE_CHARS + 1), ""), start=1):
                if len(line) > MAX_LINE_CHARS:
                    raise RunDirError(
                        f"{path}: line {i} is longer than {MAX_LINE_CHARS:,} characters "
                        "(no line of a run directory is)"
                    )
                if not line.strip():
                    continue
                if pending is not None:
                    if not skip_corrupt:
                        raise RunDirError(f"{path}: line {pending} is not valid JSON")
                    corrupt += 1
                    pending = None
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
    if corrupt:
        damage.append(f"{path.name}: {corrupt:,} line(s) that are not JSON, skipped")
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


def loads(text: str) -> Any:
    """JSON as every reader of a run directory parses it: finite floats and int64 integers
    only (ValueError otherwise; RecursionError for nesting past Python's limit)."""
    return _loads(text)


#: Longest line of a JSON-lines file read (a timeline sample, an event: a few hundred bytes).
MAX_LINE_CHARS = 16 << 20


def _open_regular(path: Path) -> io.BufferedReader:
    """``path`` opened for reading when it is a regular file reached without following a link
    at its last component (a run directory's files are its own, never links out of it)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RunDirError(
                f"{path}: cannot read (a symbolic link; links are not followed)"
            ) from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise RunDirError(f"{path}: not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; RunDirError otherwise."""
    try:
        with _open_regular(path) as fh:
            info = os.fstat(fh.fileno())
            if info.st_size > limit:
                raise RunDirError(
                    f"{path}: {info.st_size:,} bytes, more than the {limit:,} expected"
                )
            # Ask for the size stat gave (+1 to see growth): read(n) allocates n bytes first.
            data = fh.read(info.st_size + 1)
    except OSError as exc:
        raise RunDirError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > info.st_size:
        raise RunDirError(f"{path}: grew while being read (still being written?)")
    return data


#: Records per block: the unit of a source's time index and of the analysis's chunked passes.
BLOCK_RECORDS = 1 << 17

_NO_TIME = np.iinfo(np.int64).max


@dataclass
class Blocks:
    """What each block of ``BLOCK_RECORDS`` records of one source holds (its trustworthy ones).

    ``t_lo``/``t_hi`` bound every intended, sent and end time in the block (an empty block has
    ``t_lo > t_hi``), so a pass over a time window skips blocks that cannot touch it however
    out of order the records were written. Built once while checking the records and extended,
    not rebuilt, when the file has grown (``open_record_sources(previous=...)``).
    """

    valid: np.ndarray  # int64 trustworthy records per block
    rejected: np.ndarray  # int64 records left out per block
    t_lo: np.ndarray  # int64
    t_hi: np.ndarray  # int64
    flags: np.ndarray  # uint8: every flag bit any trustworthy record of the block carries
    #: Trustworthy records per local name id, over the whole blocks only (the tail is recounted).
    id_counts: np.ndarray
    #: Records per block.
    size: int = BLOCK_RECORDS

    @classmethod
    def empty(cls, size: int = BLOCK_RECORDS) -> Blocks:
        none = np.empty(0, np.int64)
        return cls(none, none, none, none, np.empty(0, np.uint8), np.zeros(1 << 16, np.int64), size)

    def __len__(self) -> int:
        return len(self.valid)

    def touching(self, lo: int, hi: int) -> np.ndarray:
        """Indices of the blocks that may hold a time in ``[lo, hi)``."""
        return np.flatnonzero((self.t_lo < hi) & (self.t_hi >= lo))


@dataclass
class RecordSource:
    """One source's records, memory-mapped (not read), and its name ids mapped to the run's."""

    name: str
    #: Read-only memory map of every whole record of the file, trustworthy or not (empty array
    #: for an empty file); ``records`` and ``chunk`` hand on only the trustworthy ones.
    mapped: np.ndarray
    #: ``name_index[local_id]`` = index into the run-wide ``names``/``groups``.
    name_index: np.ndarray
    #: The file mapping behind ``mapped`` (None when empty), so passes can release pages.
    mapping: mmap.mmap | None = None
    #: The run's span the records were checked against.
    span: Span | None = None
    blocks: Blocks = field(default_factory=Blocks.empty)
    path: Path | None = None
    _kept: np.ndarray | None = field(default=None, repr=False)
    #: Whole records in the file when it lies on another host (``mapped`` is then empty: its
    #: passes run there, ``analysis/shard_hosts.py``); None for a file read here.
    elsewhere: int | None = None

    @property
    def whole(self) -> int:
        """Whole records in the file, trustworthy or not."""
        return len(self.mapped) if self.elsewhere is None else self.elsewhere

    @property
    def damaged(self) -> bool:
        """Some records were left out: reads filter every block that had any."""
        return bool(self.blocks.rejected.any())

    @property
    def count(self) -> int:
        """Trustworthy records."""
        return int(self.blocks.valid.sum())

    @property
    def records(self) -> np.ndarray:
        """The trustworthy records: the mapping itself, or for a damaged source a copy of the
        ones kept, made on first use (chunked passes use :meth:`chunk`, which copies nothing)."""
        if not self.damaged:
            return self.mapped
        if self._kept is None:
            parts = [self.chunk(lo, lo + self.blocks.size) for lo in self.block_starts()]
            self._kept = np.concatenate(parts) if parts else self.mapped[:0].copy()
        return self._kept

    def block_starts(self) -> range:
        return range(0, self.whole, self.blocks.size)

    def chunk(self, lo: int, hi: int) -> np.ndarray:
        """The trustworthy records among file positions ``[lo, hi)`` (a view when all are)."""
        if self.elsewhere is not None:
            raise RunDirError(f"{self.name}: its records lie on another host, not here")
        hi = min(hi, len(self.mapped))
        part = self.mapped[lo:hi]
        size = self.blocks.size
        if not self.damaged or not self.blocks.rejected[lo // size : -(-hi // size)].any():
            return part
        return part[valid_records(part, self.span)]

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

    def any_flags(self) -> int:
        """Every flag bit any trustworthy record of the run carries."""
        out = 0
        for src in self.sources:
            if len(src.blocks):
                out |= int(np.bitwise_or.reduce(src.blocks.flags))
        return out


def map_records(path: Path, whole: int) -> tuple[np.ndarray, mmap.mmap | None]:
    """The first ``whole`` records of a records file, memory-mapped read-only."""
    if not whole:
        return np.empty(0, dtype=RECORD_DTYPE), None
    try:
        with _open_regular(path) as fh:
            mapping = mmap.mmap(fh.fileno(), whole * RECORD_DTYPE.itemsize, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as exc:
        raise RunDirError(f"{path}: cannot read ({exc})") from None
    return np.frombuffer(mapping, dtype=RECORD_DTYPE, count=whole), mapping


@dataclass
class SourceIndex:
    """What checking a records file found, made where the file lies and sent where it is
    analysed: whole records, trailing bytes of a cut-off record, its blocks, and the
    trustworthy records per local name id."""

    whole: int
    trailing: int
    blocks: Blocks
    id_counts: np.ndarray


def index_source(path: Path, span: Span | None, block: int = BLOCK_RECORDS) -> SourceIndex:
    """Check one records file against the run's ``span`` and index it (``open_record_sources``
    does the same for every file of a run directory)."""
    whole, rem = divmod(_size(path), RECORD_DTYPE.itemsize)
    arr, mapping = map_records(path, whole)
    src = RecordSource(path.name, arr, np.zeros(1, np.int64), mapping, span, path=path)
    if not whole:
        return SourceIndex(0, rem, Blocks.empty(block), np.zeros(1 << 16, np.int64))
    blocks, id_counts = _check_blocks(src, None, block)
    return SourceIndex(whole, rem, blocks, id_counts)


def open_record_sources(
    run_dir: Path,
    previous: RecordSources | None = None,
    *,
    block: int = BLOCK_RECORDS,
    elsewhere: Callable[[str, Span | None, int], SourceIndex] | None = None,
    remote: Collection[str] = (),
) -> RecordSources:
    """Map every source's records file; a partial trailing record is left out and reported.

    Records that cannot be true are left out (and counted) by every read. Each source is
    indexed by blocks of ``block`` records (``Blocks``). With ``previous`` (an earlier open of
    the same run, still being written), the blocks it already checked are taken over and only
    what was appended since is read. ``remote`` names sources whose records file lies on another
    host (its names file is here): ``elsewhere(source, span, block)`` indexes it there.
    """
    rec_dir = Path(run_dir) / RECORDS_DIR
    names: list[str] = []
    groups: list[str] = []
    index: dict[tuple[str, str], int] = {}
    damage: list[str] = []
    sources: list[RecordSource] = []
    before = {s.name: s for s in previous.sources} if previous is not None else {}

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
    here = {p.name[: -len(RECORDS_SUFFIX)] for p in data_paths}
    away = [rec_dir / f"{s}{RECORDS_SUFFIX}" for s in remote if s not in here]
    if away and elsewhere is None:
        raise ValueError("remote sources need a way to index them (elsewhere)")
    if away:
        # Records elsewhere cannot anchor the span: run.json must (every run it writes does).
        span, anchored = run_span(meta), True
    for data_path in sorted(data_paths + away):
        source = data_path.name[: -len(RECORDS_SUFFIX)]
        far = source not in here
        if far:
            found = elsewhere(source, span, block)
            whole, rem = found.whole, found.trailing
            arr, mapping = np.empty(0, dtype=RECORD_DTYPE), None
        else:
            whole, rem = divmod(_size(data_path), RECORD_DTYPE.itemsize)
            arr, mapping = map_records(data_path, whole)
            if not anchored and whole:
                span, anchored = run_span(meta, arr["intended_ns"][:_ANCHOR_RECORDS]), True
        if rem:
            damage.append(f"{data_path.name}: {rem} trailing bytes of a cut-off record dropped")
        declared = _read_names(rec_dir / f"{source}{NAMES_SUFFIX}", damage)
        # One slot past the largest declared id catches every undeclared id.
        local = np.full(max(declared, default=-1) + 2, -1, np.int64)
        for name_id, key in declared.items():
            local[name_id] = intern(key)
        src = RecordSource(source, arr, local, mapping, span, path=data_path)
        if far:
            src.elsewhere = whole
        if whole:
            if far:
                src.blocks, id_counts = found.blocks, found.id_counts
            else:
                src.blocks, id_counts = _check_blocks(src, before.get(source), block)
            rejected = int(src.blocks.rejected.sum())
            if rejected:
                where = "" if span is None else " (times outside the run's span"
                damage.append(
                    f"{data_path.name}: {rejected} record(s) that cannot be true{where}, or an "
                    f"unknown outcome or kind{')' if where else ''} left out"
                )
            ids = np.flatnonzero(id_counts)
            slots = local[np.minimum(ids, len(local) - 1)]
            if (slots < 0).any():
                n_unknown = int(id_counts[ids[slots < 0]].sum())
                damage.append(f"{data_path.name}: {n_unknown} records with undeclared names")
                local[local < 0] = intern(("<unnamed>", "other"))
        sources.append(src)
    return RecordSources(sources, names, groups, damage)


def _check_blocks(
    src: RecordSource, before: RecordSource | None, size: int
) -> tuple[Blocks, np.ndarray]:
    """Check the source's records a block at a time (releasing pages: checking must not pull
    the whole file into this process's resident memory) and index each block; blocks an
    earlier check of the same file covered whole are taken over. Returns (blocks, id counts)."""
    whole = len(src.mapped)
    n_blocks = -(-whole // size)
    reuse = 0
    same = before is not None and before.span == src.span and before.blocks.size == size
    if same and len(before.mapped) <= whole:
        reuse = len(before.mapped) // size  # whole blocks only: the tail may have grown
    old = before.blocks if reuse else Blocks.empty(size)
    valid = np.zeros(n_blocks, np.int64)
    rejected = np.zeros(n_blocks, np.int64)
    t_lo = np.full(n_blocks, _NO_TIME, np.int64)
    t_hi = np.full(n_blocks, -_NO_TIME, np.int64)
    flags = np.zeros(n_blocks, np.uint8)
    for arr, part in zip(
        (valid, rejected, t_lo, t_hi, flags),
        (old.valid, old.rejected, old.t_lo, old.t_hi, old.flags),
        strict=True,
    ):
        arr[:reuse] = part[:reuse]
    whole_counts = old.id_counts.copy() if reuse else np.zeros(1 << 16, np.int64)
    tail_counts = np.zeros(1 << 16, np.int64)
    for b in range(reuse, n_blocks):
        lo = b * size
        hi = min(lo + size, whole)
        chunk = src.mapped[lo:hi]
        ok = valid_records(chunk, src.span)
        if not ok.all():
            rejected[b] = len(chunk) - int(np.count_nonzero(ok))
            chunk = chunk[ok]
        valid[b] = len(chunk)
        counts = whole_counts if hi - lo == size else tail_counts
        counts += np.bincount(chunk["name_id"], minlength=1 << 16)
        if len(chunk):
            times = (chunk["intended_ns"], chunk["sent_ns"], chunk["end_ns"])
            t_hi[b] = max(int(t.max()) for t in times)
            lo_t = int(times[0].min())
            for t in times[1:]:
                least = int(t.min())
                if least == 0:  # never sent / never ended: 0 is not a time
                    least = int(t[t > 0].min()) if t.any() else lo_t
                lo_t = min(lo_t, least)
            t_lo[b] = lo_t
            flags[b] = np.bitwise_or.reduce(chunk["flags"])
        src.release(lo, hi)
    blocks = Blocks(valid, rejected, t_lo, t_hi, flags, whole_counts, size)
    return blocks, whole_counts + tail_counts


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
        info = os.lstat(path)
    except OSError as exc:
        raise RunDirError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISLNK(info.st_mode):
        raise RunDirError(f"{path}: cannot read (a symbolic link; links are not followed)")
    if not stat.S_ISREG(info.st_mode):
        raise RunDirError(f"{path}: cannot read (not a regular file)")
    return info.st_size


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
            with _open_regular(data_path) as fh:
                head = np.frombuffer(
                    fh.read(_ANCHOR_RECORDS * RECORD_DTYPE.itemsize), dtype=RECORD_DTYPE
                )
        except (OSError, ValueError, RunDirError):
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


class JsonlIndex:
    """A JSON-lines file being appended to, indexed by its rows' ``t_ns`` and ``source``, so a
    reader of one time window parses only that window's rows (plus each source's latest), and
    an update reads only the bytes appended since. Rows are kept or skipped as ``read_jsonl``
    keeps them (the run's span; numbers in range); a line that does not parse is fatal unless
    it is the last (half-written)."""

    def __init__(self, relative: str) -> None:
        self.relative = relative
        self._reset(None)

    def _reset(self, span: Span | None) -> None:
        self.span = span
        self.offset = 0  # bytes indexed: whole lines only
        self.line = 0  # lines indexed
        self.t = array.array("q")
        self.at: list[tuple[int, int]] = []  # (offset, length) of each indexed row
        self.latest: dict[str, int] = {}  # source -> index of its latest row
        self.tail: dict[str, Any] | None = None  # a last line without its newline yet

    def update(self, run_dir: Path) -> None:
        """Index the whole lines appended since the last update."""
        span = span_of(run_dir)
        if span != self.span:
            self._reset(span)
        path = Path(run_dir) / self.relative
        self.tail = None
        if not path.is_file():
            return
        try:
            with _open_regular(path) as fh:
                fh.seek(self.offset)
                data = fh.read()
        except OSError as exc:
            raise RunDirError(f"{path}: cannot read ({exc.strerror or exc})") from None
        pos = 0
        while pos < len(data):
            nl = data.find(b"\n", pos)
            raw = data[pos:] if nl < 0 else data[pos:nl]
            if not raw.strip():
                if nl < 0:
                    break
                pos = nl + 1
                self.line += 1
                continue
            try:
                row = _loads(raw.decode("utf-8", errors="replace"))
            except json.JSONDecodeError:
                if nl >= 0 and data[nl + 1 :].strip():
                    raise RunDirError(f"{path}: line {self.line + 1} is not valid JSON") from None
                break  # the last line, half-written: read again next time
            except (ValueError, RecursionError):
                row = None
            keep = isinstance(row, dict) and row_in_span(row, self.span)
            if nl < 0:  # complete JSON without its newline: read now, indexed once whole
                self.tail = row if keep else None
                break
            t = row.get("t_ns") if keep else None
            if isinstance(t, int) and not isinstance(t, bool):
                self.latest[str(row.get("source", "local"))] = len(self.t)
                self.t.append(t)
                self.at.append((self.offset + pos, nl - pos))
            pos = nl + 1
            self.line += 1
        self.offset += pos

    def rows(self, run_dir: Path, start_ns: int, end_ns: int) -> list[dict[str, Any]]:
        """Rows with ``start_ns <= t_ns < end_ns`` and each source's latest row, in file order."""
        self.update(run_dir)
        t = np.frombuffer(self.t, dtype=np.int64) if len(self.t) else np.empty(0, np.int64)
        chosen = set(np.flatnonzero((t >= start_ns) & (t < end_ns)).tolist())
        chosen.update(self.latest.values())
        out = []
        if chosen:
            with _open_regular(Path(run_dir) / self.relative) as fh:
                for i in sorted(chosen):
                    offset, length = self.at[i]
                    fh.seek(offset)
                    out.append(_loads(fh.read(length).decode("utf-8", errors="replace")))
        if self.tail is not None:
            out.append(self.tail)
        return out


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
