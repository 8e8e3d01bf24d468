"""Readers for a run directory: tolerant of a run cut short, strict about what they cannot trust."""

from __future__ import annotations

import json
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


def read_records(run_dir: Path) -> RecordSet:
    """Concatenate every source's records; a partial trailing record is dropped and reported."""
    rec_dir = Path(run_dir) / RECORDS_DIR
    arrays: list[np.ndarray] = []
    names: list[str] = []
    groups: list[str] = []
    index: dict[tuple[str, str], int] = {}
    per_source: dict[str, int] = {}
    damage: list[str] = []
    for data_path in sorted(rec_dir.glob(f"*{RECORDS_SUFFIX}")) if rec_dir.is_dir() else []:
        source = data_path.name[: -len(RECORDS_SUFFIX)]
        size = data_path.stat().st_size
        whole, rem = divmod(size, RECORD_DTYPE.itemsize)
        if rem:
            damage.append(f"{data_path.name}: {rem} trailing bytes of a cut-off record dropped")
        arr = np.fromfile(data_path, dtype=RECORD_DTYPE, count=whole)
        name_rows, name_damage = read_jsonl(rec_dir / f"{source}{NAMES_SUFFIX}")
        damage.extend(name_damage)
        local = np.full(max([r["id"] for r in name_rows], default=-1) + 2, -1, dtype=np.int64)
        for row in name_rows:
            key = (str(row["name"]), str(row.get("group", "other")))
            if key not in index:
                index[key] = len(names)
                names.append(key[0])
                groups.append(key[1])
            local[int(row["id"])] = index[key]
        if len(arr):
            ids = arr["name_id"].astype(np.int64)
            unknown = (ids >= len(local) - 1) | (local[np.minimum(ids, len(local) - 1)] < 0)
            if unknown.any():
                key = ("<unnamed>", "other")
                if key not in index:
                    index[key] = len(names)
                    names.append(key[0])
                    groups.append(key[1])
                n_unknown = int(unknown.sum())
                damage.append(f"{data_path.name}: {n_unknown} records with undeclared names")
                mapped = np.where(unknown, index[key], local[np.minimum(ids, len(local) - 1)])
            else:
                mapped = local[ids]
            arr = arr.copy()
            arr["name_id"] = mapped.astype(np.uint16)
        arrays.append(arr)
        per_source[source] = len(arr)
    records = np.concatenate(arrays) if arrays else np.empty(0, dtype=RECORD_DTYPE)
    return RecordSet(records, names, groups, per_source, damage)


def read_events(run_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Run events (phases, steady-state windows, worker loss, aborts) in file order."""
    return read_jsonl(Path(run_dir) / EVENTS)


def read_timeline(run_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Per-second generator samples (offered and active users, generator CPU) per source."""
    return read_jsonl(Path(run_dir) / TIMELINE)


def read_server_metrics(run_dir: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Per-second metrics the embedded exchange reported about itself (empty for real targets)."""
    return read_jsonl(Path(run_dir) / SERVER_METRICS)
