"""A run directory as open tables (Parquet or CSV), for the notebooks and warehouses teams use.

Records are streamed: each source's memory-mapped file is converted ``CHUNK_RECORDS`` at a time
into an Arrow batch (one Parquet row group) and its pages released, so memory stays bounded
whatever the run's size. The schema is documented in ``EXPORT.md`` beside this module.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from surgeproof.confine import UnsafePath, checked_name, folder
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
from surgeproof.rundir.span import is_ns

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

#: The ``order_ledger`` table: one row per order call of the client-side order journal, with
#: the final state reconciliation found for its order (``analysis.order_status.order_ledger``).
ORDER_LEDGER_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("user", pa.uint32()),
        pa.field("account", pa.string()),
        pa.field("action", pa.string(), nullable=False),
        pa.field("stands_in", pa.string()),
        pa.field("intended", _TS),
        pa.field("sent", _TS),
        pa.field("answered", _TS),
        pa.field("attempt", pa.uint8()),
        pa.field("outcome", pa.string()),
        pa.field("status", pa.int16()),
        pa.field("code", pa.string()),
        pa.field("order_id", pa.string()),
        pa.field("side", pa.string()),
        pa.field("price", pa.string()),
        pa.field("volume", pa.string()),
        pa.field("funds", pa.string()),
        pa.field("price_seen", pa.float64()),
        pa.field("executed_volume", pa.string()),
        pa.field("acknowledged", pa.bool_(), nullable=False),
        pa.field("reconciliation", pa.string()),
        pa.field("reconciliation_reasons", pa.string()),
        pa.field("final_state", pa.string()),
        pa.field("exchange_state", pa.string()),
        pa.field("final_executed_volume", pa.string()),
    ]
)
#: Ledger columns filled from a differently named field of the ledger's rows.
_LEDGER_FROM = {"intended": "intended_ns", "sent": "sent_ns", "answered": "end_ns"}


def order_ledger_table(rows: list[dict[str, Any]]) -> pa.Table:
    """The ``order_ledger`` table of rows as ``analysis.order_status.order_ledger`` gives them
    (each field already checked for its type there)."""
    return pa.table(
        {
            f.name: pa.array([r.get(_LEDGER_FROM.get(f.name, f.name)) for r in rows], f.type)
            for f in ORDER_LEDGER_SCHEMA
        },
        schema=ORDER_LEDGER_SCHEMA,
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

#: Bounds on what analysis.json's ``timeseries`` may ask the export to build: the analysis
#: writes a few dozen columns and seven groups; a crafted file must not turn a few megabytes of
#: JSON into billions of cells (groups x columns x windows).
MAX_SERIES_COLUMNS = 1024
MAX_SERIES_GROUPS = 64
MAX_GROUP_COLUMNS = 64
#: Columns of the timeline table beyond these fields are left out (and said): a crafted
#: timeline with a new field on every line would otherwise make lines x fields cells.
MAX_TIMELINE_COLUMNS = 256


def timeseries_problem(timeseries: Any) -> str | None:
    """Why analysis.json's ``timeseries`` cannot be exported as it is (None when it can): the
    structure ``series_tables`` reads, its window starts Unix ns, and the bounds above."""
    if not isinstance(timeseries, Mapping):
        return "timeseries is not an object"
    start = timeseries.get("start_ns")
    if not isinstance(start, list) or not all(is_ns(v) for v in start):
        return "timeseries.start_ns is not a list of Unix-ns times"
    window_s = timeseries.get("window_s")
    if window_s is not None and not (
        isinstance(window_s, int | float) and not isinstance(window_s, bool) and window_s > 0
    ):
        return "timeseries.window_s is not a positive number"
    if len(timeseries) > MAX_SERIES_COLUMNS:
        return f"timeseries has {len(timeseries):,} fields (at most {MAX_SERIES_COLUMNS:,})"
    groups = timeseries.get("groups") or {}
    if not isinstance(groups, Mapping) or not all(isinstance(c, Mapping) for c in groups.values()):
        return "timeseries.groups is not an object of objects"
    if len(groups) > MAX_SERIES_GROUPS:
        return f"timeseries.groups has {len(groups):,} groups (at most {MAX_SERIES_GROUPS})"
    keys = {k for cols in groups.values() for k, _ in _flat(cols)}
    if len(keys) > MAX_GROUP_COLUMNS:
        return f"timeseries.groups has {len(keys):,} columns (at most {MAX_GROUP_COLUMNS})"
    return None


def series_tables(
    timeseries: Mapping[str, Any], damage: list[str] | None = None
) -> tuple[pa.Table, pa.Table]:
    """analysis.json's ``timeseries`` as a per-window table and a per-window-and-group table.

    Read generically (every per-window list becomes a column), so columns the analysis adds
    appear without a change here. Linear in windows: each column is checked once and then
    copied whole, never looked at again per window. A value that does not fit its column's type
    is exported as null and said in ``damage``.
    """
    start = list(timeseries.get("start_ns") or [])
    n = len(start)
    window_s = timeseries.get("window_s")
    notes = damage if damage is not None else []
    wide: dict[str, list] = {"window_index": list(range(n)), "start": start}
    wide_types: dict[str, pa.DataType] = {"start": _TS, "window_s": pa.float64()}
    wide["window_s"] = [window_s] * n
    for key, value in timeseries.items():
        if key in ("start_ns", "groups", "window_s"):
            continue
        if _per_window(value, n):
            wide[_unique(_column(key), wide)] = value
        elif isinstance(value, Mapping):
            for sub, col in value.items():
                if _per_window(col, n):
                    wide[_unique(f"{_column(key)}_{_column(sub)}", wide)] = col
    groups = timeseries.get("groups") or {}
    flats = {group: dict(_flat(cols)) for group, cols in groups.items()}
    keys: dict[str, None] = {}
    usable: dict[str, dict[str, list]] = {}
    for group, flat in flats.items():
        usable[group] = {k: v for k, v in flat.items() if _per_window(v, n)}
        keys.update(dict.fromkeys(usable[group]))
    long: dict[str, list] = {
        "window_index": list(range(n)) * len(flats),
        "start": start * len(flats),
        "group": [str(g) for g in flats for _ in range(n)],
    }
    nulls = [None] * n
    for k in keys:
        column: list = []
        for group in flats:
            column.extend(usable[group].get(k, nulls))
        long[_unique(k, long)] = column
    return (
        _table(wide, wide_types, "analysis.json timeseries", notes),
        _table(long, {"start": _TS}, "analysis.json timeseries.groups", notes),
    )


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
    """A list of one plain value per window (checked once per column: linear in windows)."""
    return isinstance(value, list) and len(value) == n and not set(map(type, value)) & _NESTED


_NESTED = {list, dict}


def _unique(name: str, taken: Mapping[str, Any]) -> str:
    """``name``, or with ``_`` appended until no column has it (a field called ``time`` or
    ``window_index`` never replaces the column the export itself fills)."""
    while name in taken:
        name += "_"
    return name


def _column(key: str) -> str:
    """A column name SQL accepts unquoted: ``p99.9_ms`` -> ``p99_9_ms``."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in str(key))


def events_table(events: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Run events: time, type, the name/label (a mark's text) and source when there is one, the
    rest as JSON."""
    cols: dict[str, list] = {"time": [], "type": [], "name": [], "source": [], "fields": []}
    for e in events:
        rest = {k: v for k, v in e.items() if k not in ("t_ns", "type")}
        cols["time"].append(e.get("t_ns"))
        cols["type"].append(str(e.get("type")))
        label = rest.get("name", rest.get("label", rest.get("text")))
        cols["name"].append(None if label is None else str(label))
        cols["source"].append(None if rest.get("source") is None else str(rest["source"]))
        cols["fields"].append(json.dumps(rest, sort_keys=True, separators=(",", ":")))
    types = {"time": _TS, "type": pa.string(), "name": pa.string(), "source": pa.string(),
             "fields": pa.string()}  # fmt: skip
    return _table(cols, types, "events.jsonl", [])


def timeline_table(rows: Iterable[Mapping[str, Any]], damage: list[str] | None = None) -> pa.Table:
    """Per-second generator samples: ``time`` (from t_ns), ``source`` and every sampled field
    (the first ``MAX_TIMELINE_COLUMNS``); a value that does not fit its column is null, said in
    ``damage``."""
    notes = damage if damage is not None else []
    rows = list(rows)
    keys: dict[str, None] = {}
    dropped: set[str] = set()
    for r in rows:
        for k in r:
            if k in keys or k in dropped:
                continue
            if len(keys) < MAX_TIMELINE_COLUMNS:
                keys[k] = None
            else:
                dropped.add(k)
    if dropped:
        notes.append(
            f"timeline.jsonl: {len(dropped):,} field(s) beyond the first "
            f"{MAX_TIMELINE_COLUMNS} left out"
        )
    cols: dict[str, list] = {"time": [r.get("t_ns") for r in rows]}
    for k in keys:
        if k != "t_ns":
            cols[_unique(_column(k), cols)] = [r.get(k) for r in rows]
    return _table(cols, {"time": _TS}, "timeline.jsonl", notes)


def _table(
    cols: dict[str, list], types: Mapping[str, pa.DataType], where: str, damage: list[str]
) -> pa.Table:
    arrays = {}
    for name, values in cols.items():
        if name in types:
            arrays[name] = pa.array(values, types[name])
            continue
        arrays[name] = _typed(values, f"{where}: {name}", damage)
    return pa.table(arrays)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _typed(values: list, where: str, damage: list[str]) -> pa.Array:
    """One column of JSON values as one Arrow type: the type its values share; when they do not,
    numbers (if most are numbers; the rest null, said in ``damage``) or text (anything else as
    its JSON, nothing lost)."""
    try:
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        arr = None
    if arr is not None and not (pa.types.is_struct(arr.type) or pa.types.is_list(arr.type)):
        if pa.types.is_null(arr.type):
            arr = arr.cast(pa.float64())  # a column with no value yet keeps a numeric type
        return arr
    present = [v for v in values if v is not None]
    numbers = sum(isinstance(v, int | float) and not isinstance(v, bool) for v in present)
    if arr is None and numbers * 2 > len(present):
        kept = [
            v if isinstance(v, int | float) and not isinstance(v, bool) else None for v in values
        ]
        damage.append(
            f"{where}: {len(present) - numbers:,} value(s) that are not numbers exported as null"
        )
        return pa.array(kept, pa.float64())
    if arr is None:
        damage.append(f"{where}: values of several types, exported as text (JSON)")
    return pa.array(
        [v if v is None or isinstance(v, str) else json.dumps(v, sort_keys=True) for v in values],
        pa.string(),
    )


# -- writing --------------------------------------------------------------------------------


def export_run(
    run_dir: str | Path,
    out_dir: str | Path,
    fmt: str = "parquet",
    *,
    timeseries: Mapping[str, Any] | None = None,
    series_from: str | None = None,
    order_ledger: list[dict[str, Any]] | None = None,
    chunk: int = CHUNK_RECORDS,
) -> Exported:
    """Write ``records``, ``events``, ``timeline`` (and ``series``, ``series_groups`` when
    ``timeseries`` is given, ``order_ledger`` when ``order_ledger`` rows are) of ``run_dir``
    into ``out_dir`` as ``<table>.<fmt>``.

    All or nothing: every table is read and built (the records streamed) into fresh temporary
    files in ``out_dir`` first, and only when all are written are they renamed over their final
    names; an error leaves ``out_dir`` as it was. ``out_dir`` below ``run_dir`` (the default
    ``RUN_DIR/export``) is walked without following a link; no file is written through one."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
    run_dir = Path(run_dir)
    meta = read_meta(run_dir)
    result = Exported(series_from=series_from)
    provenance = {
        "surgeproof_export_version": str(EXPORT_VERSION),
        "run_dir_schema_version": str(SCHEMA_VERSION),
        "run_id": str(meta.get("run_id") or run_dir.name),
        "run_status": str(meta.get("status")),
        "t0_ns": str(meta.get("t0_ns") or ""),
    }
    # The small tables first: whatever is wrong with them is found before a byte is written.
    events, ev_damage = read_events(run_dir)
    timeline, tl_damage = read_timeline(run_dir)
    result.damage.extend(ev_damage + tl_damage)
    tables = {
        "events": events_table(events),
        "timeline": timeline_table(timeline, result.damage),
    }
    series_provenance = provenance
    if timeseries is not None:
        windows, per_group = series_tables(timeseries, result.damage)
        tables["series"], tables["series_groups"] = windows, per_group
        series_provenance = {
            **provenance,
            "series_from": str(series_from),
            "window_s": str(timeseries.get("window_s")),
        }
    if order_ledger is not None:
        tables["order_ledger"] = order_ledger_table(order_ledger)
    batches, damage = record_batches(run_dir, chunk)
    result.damage[:0] = damage
    root, rel = _out_folder(run_dir, Path(out_dir))
    with _Staged(root, rel) as staged:
        with staged.file(f"records.{fmt}") as f:
            result.rows["records"] = _write(f, RECORD_SCHEMA, batches, fmt, provenance)
        for name, table in tables.items():
            meta_for = provenance if name in ("events", "timeline") else series_provenance
            with staged.file(f"{name}.{fmt}") as f:
                result.rows[name] = _write(f, table.schema, table.to_batches(), fmt, meta_for)
        staged.commit()
    out = Path(out_dir)
    result.files = {name: out / f"{name}.{fmt}" for name in ("records", *tables)}
    return result


def _out_folder(run_dir: Path, out: Path) -> tuple[Path, list[str]]:
    """The folder to write into as (trusted root, components walked without following links):
    below the run directory, the run directory and the way down from it; elsewhere, the folder
    the user named (made if missing)."""
    try:
        rel = out.relative_to(run_dir)
    except ValueError:
        rel = None
    if rel is not None and ".." not in rel.parts:
        return run_dir, list(rel.parts)
    out.mkdir(parents=True, exist_ok=True)
    return out, []


class _Staged:
    """Files written under temporary names in one folder, renamed into place together."""

    def __init__(self, root: Path, rel: list[str]) -> None:
        self._folder = folder(root, rel, "export --out", make_dirs=True)
        self.root = root
        self.rel = rel
        self.staged: list[tuple[str, str]] = []  # (temporary, final)

    def __enter__(self) -> _Staged:
        self.fd = self._folder.__enter__()
        return self

    @contextlib.contextmanager
    def file(self, final: str) -> Iterator[Any]:
        checked_name(final, "export table")
        self._check(final)
        tmp = f"{final}.{secrets.token_hex(6)}.tmp"
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644,
            dir_fd=self.fd,
        )  # fmt: skip
        self.staged.append((tmp, final))
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())

    def _check(self, final: str) -> None:
        try:
            st = os.stat(final, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if not stat.S_ISREG(st.st_mode):
            shown = os.path.join(str(self.root), *self.rel, final)
            kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
            raise UnsafePath(f"export --out: {shown} is {kind}; it is not replaced")

    def commit(self) -> None:
        for _, final in self.staged:
            self._check(final)
        for tmp, final in self.staged:
            os.rename(tmp, final, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        self.staged = []

    def __exit__(self, *exc: object) -> None:
        try:
            for tmp, _ in self.staged:  # not committed: the export failed, leave nothing
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=self.fd)
        finally:
            self._folder.__exit__(*exc)


def _write(
    sink: Any,
    schema: pa.Schema,
    batches: Iterable[pa.RecordBatch],
    fmt: str,
    provenance: Mapping[str, str],
) -> int:
    """Stream ``batches`` into the open file ``sink``; the rows written."""
    rows = 0
    if fmt == "parquet":
        import pyarrow.parquet as pq

        schema = schema.with_metadata({**(schema.metadata or {}), **provenance})
        with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
            for b in batches:
                writer.write_batch(b)
                rows += b.num_rows
    else:
        import pyarrow.csv as pcsv

        with pcsv.CSVWriter(sink, schema) as writer:
            for b in batches:
                writer.write_batch(b)
                rows += b.num_rows
    return rows
