"""A run directory as open tables (Parquet or CSV), for the notebooks and warehouses teams use.

Records are streamed: each source's memory-mapped file is converted ``CHUNK_RECORDS`` at a time
into an Arrow batch (one Parquet row group) and its pages released, so memory stays bounded
whatever the run's size. The schema is documented in ``EXPORT.md`` beside this module.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from surgeproof.rundir.reader import (
    RecordSources,
    open_record_sources,
    read_events,
    read_meta,
    read_timeline,
)
from surgeproof.rundir.schema import (
    FLAG_CLOSED_MODEL,
    FLAG_ORDER_SUBMIT,
    FLAG_RETRY,
    KIND_NAMES,
    OUTCOME_NAMES,
    SCHEMA_VERSION,
)

#: Bumped when a table's columns change meaning (additive columns do not bump it).
EXPORT_VERSION = 1
FORMATS = ("parquet", "csv")
#: Records per Arrow batch / Parquet row group: ~70 MB of columns at most in flight.
CHUNK_RECORDS = 1 << 20

_TS = pa.timestamp("ns", tz="UTC")


#: The ``records`` table: one row per request or websocket event, in source then file order.
RECORD_SCHEMA = pa.schema(
    [
        pa.field("source", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("intended", _TS, nullable=False),
        pa.field("sent", _TS),
        pa.field("end", _TS),
        pa.field("latency_ms", pa.float64()),
        pa.field("service_ms", pa.float64()),
        pa.field("endpoint", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("group", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("status", pa.int16(), nullable=False),
        pa.field("outcome", pa.dictionary(pa.int8(), pa.string())),
        pa.field("kind", pa.dictionary(pa.int8(), pa.string())),
        pa.field("attempt", pa.uint8(), nullable=False),
        pa.field("retry", pa.bool_(), nullable=False),
        pa.field("order_submit", pa.bool_(), nullable=False),
        pa.field("closed_model", pa.bool_(), nullable=False),
        pa.field("flags", pa.uint8(), nullable=False),
        pa.field("user", pa.uint32(), nullable=False),
        pa.field("concurrency", pa.uint32(), nullable=False),
    ]
)

_OUTCOMES = pa.array([OUTCOME_NAMES[i] for i in range(len(OUTCOME_NAMES))], pa.string())
_KINDS = pa.array([KIND_NAMES[i] for i in range(len(KIND_NAMES))], pa.string())


@dataclass
class Exported:
    """What an export wrote: table name -> file and rows; what the data lacked."""

    files: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    series_from: str | None = None
    damage: list[str] = field(default_factory=list)


class _Endpoints:
    """Run-wide (name, group) indices of the reader -> dictionary indices of names and groups."""

    def __init__(self, opened: RecordSources) -> None:
        self.names = sorted(set(opened.names))
        self.groups = sorted(set(opened.groups))
        by_name = {n: i for i, n in enumerate(self.names)}
        by_group = {g: i for i, g in enumerate(self.groups)}
        self.name_of = np.array([by_name[n] for n in opened.names], dtype=np.int32)
        self.group_of = np.array([by_group[g] for g in opened.groups], dtype=np.int32)
        self.name_values = pa.array(self.names, pa.string())
        self.group_values = pa.array(self.groups, pa.string())


def record_batches(run_dir: Path, chunk: int = CHUNK_RECORDS) -> tuple[Iterator, list[str]]:
    """Arrow batches of every record (``RECORD_SCHEMA``), and the reader's damage notes."""
    opened = open_record_sources(run_dir)
    return _batches(opened, chunk), list(opened.damage)


def _batches(opened: RecordSources, chunk: int) -> Iterator[pa.RecordBatch]:
    endpoints = _Endpoints(opened)
    sources = pa.array([s.name for s in opened.sources], pa.string())
    for si, src in enumerate(opened.sources):
        n = len(src.records)
        for lo in range(0, n, chunk):
            hi = min(lo + chunk, n)
            yield _batch(opened, src, src.records[lo:hi], si, sources, endpoints)
            src.release(lo, hi)


def _batch(opened, src, rec: np.ndarray, si: int, sources, endpoints) -> pa.RecordBatch:
    n = len(rec)
    intended = rec["intended_ns"]
    sent = rec["sent_ns"]
    end = rec["end_ns"]
    timed = (sent > 0) & (end > 0)
    # The same int64 -> float64 division the analysis does, so percentiles agree bit for bit.
    latency = np.where(timed, (end - intended) / 1e6, np.nan)
    service = np.where(timed, (end - sent) / 1e6, np.nan)
    gid = opened.global_ids(src, rec["name_id"])
    flags = rec["flags"]
    outcome = rec["outcome"]
    kind = rec["kind"]
    columns = [
        pa.DictionaryArray.from_arrays(pa.array(np.full(n, si, np.int32)), sources),
        pa.array(intended, _TS),
        pa.array(sent, _TS, mask=sent == 0),
        pa.array(end, _TS, mask=end == 0),
        pa.array(latency, pa.float64(), mask=~timed),
        pa.array(service, pa.float64(), mask=~timed),
        pa.DictionaryArray.from_arrays(pa.array(endpoints.name_of[gid]), endpoints.name_values),
        pa.DictionaryArray.from_arrays(pa.array(endpoints.group_of[gid]), endpoints.group_values),
        pa.array(rec["status"], pa.int16()),
        _coded(outcome, _OUTCOMES),
        _coded(kind, _KINDS),
        pa.array(rec["attempt"], pa.uint8()),
        pa.array((flags & FLAG_RETRY) != 0),
        pa.array((flags & FLAG_ORDER_SUBMIT) != 0),
        pa.array((flags & FLAG_CLOSED_MODEL) != 0),
        pa.array(flags, pa.uint8()),
        pa.array(rec["user"], pa.uint32()),
        pa.array(rec["concurrency"], pa.uint32()),
    ]
    return pa.RecordBatch.from_arrays(columns, schema=RECORD_SCHEMA)


def _coded(codes: np.ndarray, names: pa.Array) -> pa.DictionaryArray:
    """Codes as their names; a code this version does not know is null (never a wrong name)."""
    unknown = codes >= len(names)
    indices = pa.array(np.where(unknown, 0, codes).astype(np.int8), mask=unknown)
    return pa.DictionaryArray.from_arrays(indices, names)


# -- derived and small tables ---------------------------------------------------------------


def series_tables(timeseries: Mapping[str, Any]) -> tuple[pa.Table, pa.Table]:
    """analysis.json's ``timeseries`` as a per-window table and a per-window-and-group table.

    Read generically (every per-window list becomes a column), so columns the analysis adds
    appear without a change here.
    """
    start = list(timeseries.get("start_ns") or [])
    n = len(start)
    window_s = timeseries.get("window_s")
    wide: dict[str, list] = {"window_index": list(range(n)), "start": start}
    wide_types: dict[str, pa.DataType] = {"start": _TS, "window_s": pa.float64()}
    wide["window_s"] = [window_s] * n
    for key, value in timeseries.items():
        if key in ("start_ns", "groups", "window_s"):
            continue
        if _per_window(value, n):
            wide[_column(key)] = value
        elif isinstance(value, Mapping):
            for sub, col in value.items():
                if _per_window(col, n):
                    wide[f"{_column(key)}_{_column(sub)}"] = col
    long: dict[str, list] = {"window_index": [], "start": [], "group": []}
    groups = timeseries.get("groups") or {}
    keys: list[str] = []
    for cols in groups.values():
        for key, value in _flat(cols):
            if _per_window(value, n) and key not in keys:
                keys.append(key)
    long.update({k: [] for k in keys})
    for group, cols in groups.items():
        flat = dict(_flat(cols))
        for w in range(n):
            long["window_index"].append(w)
            long["start"].append(start[w])
            long["group"].append(group)
            for k in keys:
                col = flat.get(k)
                long[k].append(col[w] if _per_window(col, n) else None)
    return _table(wide, wide_types), _table(long, {"start": _TS})


def _flat(cols: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """A group's columns with nested ones (``service_ms: {p50: [...]}``) as ``service_p50_ms``."""
    for key, value in cols.items():
        if isinstance(value, Mapping):
            stem = key[: -len("_ms")] if key.endswith("_ms") else key
            unit = "_ms" if key.endswith("_ms") else ""
            for sub, col in value.items():
                yield f"{_column(stem)}_{_column(sub)}{unit}", col
        else:
            yield _column(key), value


def _per_window(value: Any, n: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) == n
        and not any(isinstance(v, list | dict) for v in value)
    )


def _column(key: str) -> str:
    """A column name SQL accepts unquoted: ``p99.9_ms`` -> ``p99_9_ms``."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in str(key))


def events_table(events: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Run events: time, type, the name/label and source when there is one, the rest as JSON."""
    cols: dict[str, list] = {"time": [], "type": [], "name": [], "source": [], "fields": []}
    for e in events:
        rest = {k: v for k, v in e.items() if k not in ("t_ns", "type")}
        cols["time"].append(e.get("t_ns"))
        cols["type"].append(str(e.get("type")))
        label = rest.get("name", rest.get("label"))
        cols["name"].append(None if label is None else str(label))
        cols["source"].append(None if rest.get("source") is None else str(rest["source"]))
        cols["fields"].append(json.dumps(rest, sort_keys=True, separators=(",", ":")))
    return _table(cols, {"time": _TS, "type": pa.string(), "name": pa.string(),
                         "source": pa.string(), "fields": pa.string()})  # fmt: skip


def timeline_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Per-second generator samples: ``time`` (from t_ns), ``source`` and every sampled field."""
    rows = list(rows)
    keys: list[str] = []
    for r in rows:
        keys.extend(k for k in r if k not in keys)
    cols: dict[str, list] = {"time": [r.get("t_ns") for r in rows]}
    for k in keys:
        if k != "t_ns":
            cols[_column(k)] = [r.get(k) for r in rows]
    return _table(cols, {"time": _TS})


def _table(cols: dict[str, list], types: Mapping[str, pa.DataType]) -> pa.Table:
    arrays = {}
    for name, values in cols.items():
        if name in types:
            arrays[name] = pa.array(values, types[name])
            continue
        arr = pa.array(values, from_pandas=True)
        if pa.types.is_null(arr.type):
            arr = arr.cast(pa.float64())  # a column with no value yet keeps a numeric type
        arrays[name] = arr
    return pa.table(arrays)


# -- writing --------------------------------------------------------------------------------


def export_run(
    run_dir: str | Path,
    out_dir: str | Path,
    fmt: str = "parquet",
    *,
    timeseries: Mapping[str, Any] | None = None,
    series_from: str | None = None,
    chunk: int = CHUNK_RECORDS,
) -> Exported:
    """Write ``records``, ``events``, ``timeline`` (and ``series``, ``series_groups`` when
    ``timeseries`` is given) of ``run_dir`` into ``out_dir`` as ``<table>.<fmt>``."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
    run_dir = Path(run_dir)
    meta = read_meta(run_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = Exported(series_from=series_from)
    provenance = {
        "surgeproof_export_version": str(EXPORT_VERSION),
        "run_dir_schema_version": str(SCHEMA_VERSION),
        "run_id": str(meta.get("run_id") or run_dir.name),
        "run_status": str(meta.get("status")),
        "t0_ns": str(meta.get("t0_ns") or ""),
    }
    batches, damage = record_batches(run_dir, chunk)
    result.damage.extend(damage)
    result.rows["records"] = _write(out / f"records.{fmt}", RECORD_SCHEMA, batches, fmt, provenance)
    result.files["records"] = out / f"records.{fmt}"
    events, ev_damage = read_events(run_dir)
    timeline, tl_damage = read_timeline(run_dir)
    result.damage.extend(ev_damage + tl_damage)
    tables = {"events": events_table(events), "timeline": timeline_table(timeline)}
    if timeseries is not None:
        windows, per_group = series_tables(timeseries)
        tables["series"], tables["series_groups"] = windows, per_group
        provenance = {
            **provenance,
            "series_from": str(series_from),
            "window_s": str(timeseries.get("window_s")),
        }
    for name, table in tables.items():
        path = out / f"{name}.{fmt}"
        result.rows[name] = _write(path, table.schema, table.to_batches(), fmt, provenance)
        result.files[name] = path
    return result


def _write(
    path: Path,
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    fmt: str,
    provenance: Mapping[str, str],
) -> int:
    """Stream ``batches`` into ``path`` (via a temporary file: a reader never sees half of it)."""
    tmp = path.with_name(path.name + ".tmp")
    rows = 0
    if fmt == "parquet":
        import pyarrow.parquet as pq

        schema = schema.with_metadata({**(schema.metadata or {}), **provenance})
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for b in batches:
                writer.write_batch(b)
                rows += b.num_rows
    else:
        import pyarrow.csv as pcsv

        with pcsv.CSVWriter(tmp, schema) as writer:
            for b in batches:
                writer.write_batch(b)
                rows += b.num_rows
    os.replace(tmp, path)
    return rows
