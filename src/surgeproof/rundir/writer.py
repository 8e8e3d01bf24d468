"""Append-only writers for a run directory (the load side's edge)."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import numpy as np

from surgeproof.confine import (
    TooLarge,
    UnsafePath,
    check_size,
    checked_name,
    create_exclusive,
    free_bytes,
    lstat_confined,
    open_append,
    open_confined,
    replace_bytes,
)
from surgeproof.rundir.reader import MAX_NAMES_BYTES
from surgeproof.rundir.schema import (
    NAMES_SUFFIX,
    RECORD_DTYPE,
    RECORDS_DIR,
    RECORDS_SUFFIX,
    RUN_META,
    SCHEMA_VERSION,
)


def write_meta(run_dir: Path, meta: dict[str, Any]) -> None:
    """Atomically replace ``run.json`` so a reader never sees half a file (a temporary file in
    the run directory renamed over it; a ``run.json`` that is a link is refused, not followed)."""
    meta = {"schema_version": SCHEMA_VERSION, **meta}
    text = json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n"
    replace_bytes(run_dir, RUN_META, text.encode(), "run directory")


class JsonlLog:
    """One JSON object per line, flushed per line: a crash loses at most the line being written.

    ``root``: the folder ``path`` must stay in (each component below it is walked without
    following a link); without it, the path's own folder, so only the file itself is opened
    without following a link.
    """

    def __init__(self, path: Path, root: Path | None = None) -> None:
        path = Path(path)
        if root is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            root, rel = path.parent, [path.name]
        else:
            rel = list(path.relative_to(root).parts)
        self._file = open_append(root, rel, "run directory", make_dirs=True)
        self._lock = threading.Lock()

    def append(self, obj: dict[str, Any]) -> None:
        line = (json.dumps(obj, separators=(",", ":"), default=str) + "\n").encode()
        with self._lock:
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


class RecordFile:
    """Appends fixed-width records of one source (a worker or the local runner) to its own file."""

    def __init__(self, run_dir: Path, source: str) -> None:
        self.source = checked_name(source, "record source")
        self._data = open_append(
            run_dir, [RECORDS_DIR, f"{source}{RECORDS_SUFFIX}"], "record source", make_dirs=True
        )
        self._names = JsonlLog(Path(run_dir) / RECORDS_DIR / f"{source}{NAMES_SUFFIX}", run_dir)
        self._known: set[int] = set()
        self._lock = threading.Lock()
        self.count = 0

    def add_names(self, names: dict[int, tuple[str, str]]) -> None:
        """Declare ``{name_id: (name, group)}``; ids already declared are skipped."""
        for name_id, (name, group) in sorted(names.items()):
            if name_id not in self._known:
                self._known.add(name_id)
                self._names.append({"id": name_id, "name": name, "group": group})

    def append(self, batch: np.ndarray | bytes) -> None:
        """Append a batch (structured array of RECORD_DTYPE, or its raw bytes) and flush it."""
        raw = batch if isinstance(batch, bytes | bytearray | memoryview) else _as_records(batch)
        n, rem = divmod(len(raw), RECORD_DTYPE.itemsize)
        if rem:
            raise ValueError(f"batch of {len(raw)} bytes is not whole records")
        with self._lock:
            self._data.write(raw)
            self._data.flush()
            self.count += n

    def close(self) -> None:
        with self._lock:
            if not self._data.closed:
                self._data.flush()
                os.fsync(self._data.fileno())
                self._data.close()
        self._names.close()


def _as_records(batch: np.ndarray) -> bytes:
    if batch.dtype != RECORD_DTYPE:
        raise ValueError(f"records must have RECORD_DTYPE, got {batch.dtype}")
    return np.ascontiguousarray(batch).tobytes()


def shard_records(run_dir: Path, source: str) -> int:
    """Whole records in ``records/<source>.bin`` (written by a worker itself), 0 if absent."""
    rel = [RECORDS_DIR, f"{checked_name(source, 'record source')}{RECORDS_SUFFIX}"]
    st = lstat_confined(run_dir, rel, "record source")
    if st is None or not stat.S_ISREG(st.st_mode):
        return 0
    return st.st_size // RECORD_DTYPE.itemsize


def shard_sent(run_dir: Path, source: str, chunk_records: int = 1 << 16) -> int:
    """Records in ``records/<source>.bin`` whose call was sent (``sent_ns`` set), read in chunks;
    0 if absent. A worker's last second reaches the master as records only, not as a count."""
    rel = [RECORDS_DIR, f"{checked_name(source, 'record source')}{RECORDS_SUFFIX}"]
    try:
        fd = open_confined(run_dir, rel, os.O_RDONLY, "record source")
    except FileNotFoundError:
        return 0
    size = RECORD_DTYPE.itemsize
    sent = 0
    with os.fdopen(fd, "rb") as f:
        while block := f.read(chunk_records * size):
            whole = len(block) - len(block) % size
            sent += int(np.count_nonzero(np.frombuffer(block[:whole], RECORD_DTYPE)["sent_ns"]))
    return sent


def seal_records(run_dir: Path, source: str) -> int:
    """Cut a record file that its writer left mid-record (a SIGKILLed worker) to whole records;
    the number of bytes cut (readers would drop them too, and call it damage). A source that is
    not a plain name, or a file that is a link, is refused (:class:`UnsafePath`)."""
    rel = [RECORDS_DIR, f"{checked_name(source, 'record source')}{RECORDS_SUFFIX}"]
    try:
        fd = open_confined(run_dir, rel, os.O_WRONLY, "record source")
    except FileNotFoundError:
        return 0
    try:
        size = os.fstat(fd).st_size
        cut = size % RECORD_DTYPE.itemsize
        if cut:
            os.ftruncate(fd, size - cut)
    finally:
        os.close(fd)
    return cut


#: Source names no worker's shard may take: the conductor records its own users as ``local``.
RESERVED_SOURCES = frozenset({"local"})
#: Most bytes one part of a shard gathered over the worker channel may hold: records (64 GiB,
#: 1.7 billion records: a worker at full speed for about 40 hours) and names (what readers read).
MAX_SHARD_BYTES = {"records": 64 << 30, "names": MAX_NAMES_BYTES}
#: Free space a shard arriving over the worker channel leaves on the run directory's disk.
FREE_SPACE_RESERVE = 256 << 20


class ShardInbox:
    """A worker's record shard arriving in chunks at the end of a run (``surgeproof gather``
    over the worker channel): written in order, each part (``records``, ``names``) from 0.

    Every byte here comes from the network, so the source must be a plain name and not the
    conductor's own (``local``); each part is created new (a file already there — the
    conductor's, another worker's, a planted link — is refused, never overwritten), holds at most
    ``MAX_SHARD_BYTES`` of its part and never fills the disk past ``FREE_SPACE_RESERVE``.
    """

    def __init__(self, run_dir: Path, source: str, limits: dict[str, int] | None = None) -> None:
        checked_name(source, "worker shard source")
        if source in RESERVED_SOURCES:
            raise UnsafePath(
                f"worker shard source: {source!r} is the conductor's own record source; "
                "a worker's shard cannot write it"
            )
        self.run_dir = Path(run_dir)
        self.source = source
        self.rel = {
            "records": [RECORDS_DIR, f"{source}{RECORDS_SUFFIX}"],
            "names": [RECORDS_DIR, f"{source}{NAMES_SUFFIX}"],
        }
        self.paths = {part: self.run_dir.joinpath(*rel) for part, rel in self.rel.items()}
        self.limits = {**MAX_SHARD_BYTES, **(limits or {})}
        self._files: dict[str, Any] = {}
        self.received = {"records": 0, "names": 0}

    def write(self, part: str, offset: int, data: bytes) -> int:
        """Append ``data`` at ``offset`` of ``part``; a chunk out of order is refused (its
        sender resends from what ``received`` says). Returns the bytes of ``part`` held.

        :class:`UnsafePath` for an unknown part or a file already there; :class:`TooLarge` for
        a chunk that would take the part past its bound or the disk past its reserve (nothing of
        that chunk is written)."""
        if part not in self.rel:
            raise UnsafePath(f"worker shard {self.source}: unknown part {str(part)[:40]!r}")
        if offset != self.received[part]:
            return self.received[part]
        shown = f"worker shard {self.source}: {self.paths[part]}"
        check_size(self.received[part] + len(data), self.limits[part], shown)
        f = self._files.get(part)
        if f is None:
            f = self._files[part] = create_exclusive(
                self.run_dir, self.rel[part], "worker shard", make_dirs=True
            )
        free = free_bytes(self.paths[part].parent)
        if len(data) > free - FREE_SPACE_RESERVE:
            raise TooLarge(
                f"{shown}: a chunk of {len(data):,} bytes would leave less than "
                f"{FREE_SPACE_RESERVE:,} bytes free on the disk; not written"
            )
        f.write(data)
        f.flush()
        self.received[part] += len(data)
        return self.received[part]

    def close(self) -> None:
        for f in self._files.values():
            if not f.closed:
                os.fsync(f.fileno())
                f.close()
