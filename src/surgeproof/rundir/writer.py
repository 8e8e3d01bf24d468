"""Append-only writers for a run directory (the load side's edge)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from surgeproof.rundir.schema import (
    NAMES_SUFFIX,
    RECORD_DTYPE,
    RECORDS_DIR,
    RECORDS_SUFFIX,
    RUN_META,
    SCHEMA_VERSION,
)


def write_meta(run_dir: Path, meta: dict[str, Any]) -> None:
    """Atomically replace ``run.json`` so a reader never sees half a file."""
    meta = {"schema_version": SCHEMA_VERSION, **meta}
    tmp = run_dir / (RUN_META + ".tmp")
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, run_dir / RUN_META)


class JsonlLog:
    """One JSON object per line, flushed per line: a crash loses at most the line being written."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the run
        self._lock = threading.Lock()

    def append(self, obj: dict[str, Any]) -> None:
        line = json.dumps(obj, separators=(",", ":"), default=str) + "\n"
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
        rec_dir = run_dir / RECORDS_DIR
        rec_dir.mkdir(parents=True, exist_ok=True)
        self.source = source
        self._data = open(rec_dir / f"{source}{RECORDS_SUFFIX}", "ab")  # noqa: SIM115
        self._names = JsonlLog(rec_dir / f"{source}{NAMES_SUFFIX}")
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
    try:
        size = (Path(run_dir) / RECORDS_DIR / f"{source}{RECORDS_SUFFIX}").stat().st_size
    except FileNotFoundError:
        return 0
    return size // RECORD_DTYPE.itemsize


def seal_records(run_dir: Path, source: str) -> int:
    """Cut a record file that its writer left mid-record (a SIGKILLed worker) to whole records;
    the number of bytes cut (readers would drop them too, and call it damage)."""
    path = Path(run_dir) / RECORDS_DIR / f"{source}{RECORDS_SUFFIX}"
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return 0
    cut = size % RECORD_DTYPE.itemsize
    if cut:
        os.truncate(path, size - cut)
    return cut


class ShardInbox:
    """A worker's record shard arriving in chunks at the end of a run (``surgeproof gather``
    over the worker channel): written in order, each part (``records``, ``names``) from 0."""

    def __init__(self, run_dir: Path, source: str) -> None:
        rec_dir = Path(run_dir) / RECORDS_DIR
        rec_dir.mkdir(parents=True, exist_ok=True)
        self.paths = {
            "records": rec_dir / f"{source}{RECORDS_SUFFIX}",
            "names": rec_dir / f"{source}{NAMES_SUFFIX}",
        }
        self._files: dict[str, Any] = {}
        self.received = {"records": 0, "names": 0}

    def write(self, part: str, offset: int, data: bytes) -> int:
        """Append ``data`` at ``offset`` of ``part``; a chunk out of order is refused (its
        sender resends from what ``received`` says). Returns the bytes of ``part`` held."""
        if part not in self.paths:
            raise ValueError(f"unknown shard part {part!r}")
        if offset != self.received[part]:
            return self.received[part]
        f = self._files.get(part)
        if f is None:
            f = self._files[part] = open(self.paths[part], "wb")  # noqa: SIM115 - closed below
        f.write(data)
        f.flush()
        self.received[part] += len(data)
        return self.received[part]

    def close(self) -> None:
        for f in self._files.values():
            if not f.closed:
                os.fsync(f.fileno())
                f.close()
