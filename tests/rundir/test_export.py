"""``surgeproof export``: every record as one typed row, the series beside them, memory bounded."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from surgeproof.cli import main
from surgeproof.rundir.export import (
    ORDER_LEDGER_SCHEMA,
    RECORD_SCHEMA,
    export_run,
    series_tables,
)
from surgeproof.rundir.schema import (
    FLAG_ORDER_SUBMIT,
    FLAG_RETRY,
    RECORD_DTYPE,
    Kind,
    Outcome,
)
from surgeproof.rundir.writer import JsonlLog, RecordFile, write_meta

T0 = 1_733_230_800_000_000_000  # 2024-12-03T22:00:00+09:00
MS = 1_000_000
DOC = Path(__file__).resolve().parents[2] / "src" / "surgeproof" / "rundir" / "EXPORT.md"


def rows(spec: list[tuple]) -> np.ndarray:
    """Records from ``(name_id, outcome, kind, intended_ms, latency_ms, flags, attempt)``."""
    rec = np.zeros(len(spec), dtype=RECORD_DTYPE)
    for i, (name_id, outcome, kind, at_ms, latency_ms, flags, attempt) in enumerate(spec):
        unsent = outcome in (Outcome.MISSED, Outcome.BACKLOGGED)
        rec[i]["intended_ns"] = T0 + at_ms * MS
        rec[i]["sent_ns"] = 0 if unsent else T0 + at_ms * MS + 7
        rec[i]["end_ns"] = 0 if unsent else T0 + at_ms * MS + round(latency_ms * MS)
        rec[i]["name_id"] = name_id
        rec[i]["status"] = 200 if outcome == Outcome.OK else 0
        rec[i]["outcome"] = outcome
        rec[i]["kind"] = kind
        rec[i]["flags"] = flags
        rec[i]["attempt"] = attempt
        rec[i]["user"] = 40 + i
        rec[i]["concurrency"] = 12
    return rec


def small_run(path: Path) -> Path:
    """Two sources whose name ids mean different endpoints; every outcome kind of row."""
    path.mkdir()
    write_meta(path, {"run_id": "small", "status": "complete", "t0_ns": T0})
    a = RecordFile(path, "worker-a")
    a.add_names({0: ("GET /v1/ticker", "quotation"), 1: ("POST /v1/orders", "orders")})
    a.append(
        rows(
            [
                (0, Outcome.OK, Kind.HTTP, 0, 12.5, 0, 0),
                (1, Outcome.SERVER_ERROR, Kind.HTTP, 10, 80.0, FLAG_ORDER_SUBMIT, 0),
                (1, Outcome.OK, Kind.HTTP, 20, 90.0, FLAG_ORDER_SUBMIT | FLAG_RETRY, 1),
                (0, Outcome.MISSED, Kind.HTTP, 1500, 0, 0, 0),
            ]
        )
    )
    b = RecordFile(path, "worker-b")
    b.add_names({0: ("WS connect", "websocket"), 1: ("GET /v1/ticker", "quotation")})
    b.append(
        rows(
            [
                (0, Outcome.OK, Kind.WS_CONNECT, 5, 3.0, 0, 0),
                (1, Outcome.TIMEOUT, Kind.HTTP, 1100, 3000.0, 0, 0),
                (1, Outcome.BACKLOGGED, Kind.HTTP, 1200, 0, 0, 0),
            ]
        )
    )
    a.close()
    b.close()
    events = JsonlLog(path / "events.jsonl")
    events.append({"t_ns": T0, "type": "phase", "name": "shock", "index": 0, "mix": {"x": 1}})
    events.append({"t_ns": T0 + 10, "type": "worker_lost", "source": "worker-b", "users": 3})
    events.append({"t_ns": T0 + 11, "type": "mark", "text": "failover", "via": "endpoint"})
    events.close()
    timeline = JsonlLog(path / "timeline.jsonl")
    timeline.append({"t_ns": T0 + 1, "source": "worker-a", "active_users": 6, "cpu_percent": 9.5})
    timeline.append({"t_ns": T0 + 2, "source": "worker-b", "active_users": 6, "ws_sessions": 2})
    timeline.close()
    return path


def test_every_record_becomes_one_typed_row_across_row_groups(tmp_path):
    run = small_run(tmp_path / "run")
    result = export_run(run, tmp_path / "out", "parquet", chunk=2)
    pf = pq.ParquetFile(result.files["records"])
    assert pf.metadata.num_row_groups == 4  # 2 + 2 from worker-a, 2 + 1 from worker-b
    table = pf.read()
    assert table.schema.equals(RECORD_SCHEMA)  # names and types as documented
    assert result.rows["records"] == table.num_rows == 7
    got = table.to_pylist()
    assert [r["source"] for r in got] == ["worker-a"] * 4 + ["worker-b"] * 3
    assert [r["endpoint"] for r in got] == [
        "GET /v1/ticker", "POST /v1/orders", "POST /v1/orders", "GET /v1/ticker",
        "WS connect", "GET /v1/ticker", "GET /v1/ticker",
    ]  # fmt: skip
    assert [r["group"] for r in got][4:] == ["websocket", "quotation", "quotation"]
    assert [r["outcome"] for r in got] == [
        "ok", "server_error", "ok", "missed", "ok", "timeout", "backlogged",
    ]  # fmt: skip
    assert [r["kind"] for r in got][3:5] == ["http", "ws_connect"]
    first = got[0]
    assert first["intended"] == pa.scalar(T0, pa.timestamp("ns", "UTC")).as_py()
    assert first["latency_ms"] == 12.5 and first["service_ms"] == (12.5 * MS - 7) / 1e6
    missed = got[3]
    assert missed["sent"] is None and missed["end"] is None and missed["latency_ms"] is None
    retry = got[2]
    assert retry["retry"] and retry["order_submit"] and retry["attempt"] == 1
    assert not got[0]["retry"] and got[0]["user"] == 40 and got[0]["concurrency"] == 12
    assert pf.schema_arrow.metadata[b"t0_ns"] == str(T0).encode()


def test_events_and_timeline_keep_every_field(tmp_path):
    run = small_run(tmp_path / "run")
    result = export_run(run, tmp_path / "out", "parquet")
    events = pq.read_table(result.files["events"]).to_pylist()
    assert [(e["type"], e["name"], e["source"]) for e in events] == [
        ("phase", "shock", None),
        ("worker_lost", None, "worker-b"),
        ("mark", "failover", None),
    ]
    assert json.loads(events[0]["fields"]) == {"name": "shock", "index": 0, "mix": {"x": 1}}
    timeline = pq.read_table(result.files["timeline"]).to_pylist()
    assert timeline[0]["cpu_percent"] == 9.5 and timeline[0]["ws_sessions"] is None
    assert timeline[1]["ws_sessions"] == 2


def test_csv_holds_the_same_rows_and_names(tmp_path):
    run = small_run(tmp_path / "run")
    result = export_run(run, tmp_path / "csv", "csv", chunk=3)
    table = pcsv.read_csv(result.files["records"])
    assert table.num_rows == 7
    assert table.column("outcome").to_pylist()[-2:] == ["timeout", "backlogged"]
    assert table.column("endpoint").to_pylist()[1] == "POST /v1/orders"
    assert table.column("latency_ms").to_pylist()[3] is None
    header = result.files["records"].read_text().splitlines()[0]
    assert header.replace('"', "").split(",") == RECORD_SCHEMA.names


def test_series_come_wide_per_window_and_long_per_group():
    ts = {
        "window_s": 1.0,
        "t_s": [0.0, 1.0],
        "start_ns": [T0, T0 + 1_000_000_000],
        "offered_rps": [3.0, 4.0],
        "errors": {"timeout": [0, 1], "rate_limited": [2, 0]},
        "breach": [False, True],
        "server": {"alignment": "words", "requests": [3, None]},
        "groups": {
            "quotation": {
                "count": [2, 1],
                "p99.9_ms": [12.0, None],
                "service_ms": {"p50": [1.0, 2.0], "p99": [1.5, None]},
            },
            "orders": {"count": [1, 0], "p99.9_ms": [None, None]},
        },
    }
    wide, long = series_tables(ts)
    assert wide.column_names == [
        "window_index", "start", "window_s", "t_s", "offered_rps", "errors_timeout",
        "errors_rate_limited", "breach", "server_requests",
    ]  # fmt: skip
    assert wide.column("breach").to_pylist() == [False, True]
    assert wide.column("server_requests").to_pylist() == [3, None]
    assert long.num_rows == 4
    quotation = [r for r in long.to_pylist() if r["group"] == "quotation"]
    assert [r["p99_9_ms"] for r in quotation] == [12.0, None]
    assert [r["service_p99_ms"] for r in quotation] == [1.5, None]
    orders = [r for r in long.to_pylist() if r["group"] == "orders"]
    assert [r["service_p50_ms"] for r in orders] == [None, None]  # absent for orders: null


def big_run(path: Path, n: int) -> Path:
    path.mkdir()
    write_meta(path, {"run_id": path.name, "status": "complete", "t0_ns": T0})
    f = RecordFile(path, "local")
    f.add_names({0: ("GET /v1/ticker", "quotation")})
    rec = np.zeros(n, dtype=RECORD_DTYPE)
    rec["intended_ns"] = T0 + np.arange(n) * MS
    rec["sent_ns"] = rec["intended_ns"] + 10
    rec["end_ns"] = rec["intended_ns"] + 5 * MS
    f.append(rec)
    f.close()
    return path


def test_memory_does_not_grow_with_the_number_of_records(tmp_path):
    """Arrow's and numpy's peaks for 4x the records stay those of one chunk (the reader's own
    name scan works 2^18 records at a time: both runs are past it)."""
    chunk = 1 << 15
    peaks = []
    for n in (8 * chunk, 32 * chunk):
        run = big_run(tmp_path / f"run-{n}", n)
        pool = pa.proxy_memory_pool(pa.default_memory_pool())
        previous = pa.default_memory_pool()
        pa.set_memory_pool(pool)
        tracemalloc.start()
        try:
            result = export_run(run, tmp_path / f"out-{n}", "parquet", chunk=chunk)
            numpy_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            pa.set_memory_pool(previous)
        assert result.rows["records"] == n
        peaks.append((pool.max_memory(), numpy_peak))
    (arrow_small, numpy_small), (arrow_big, numpy_big) = peaks
    assert arrow_big < 1.2 * arrow_small, peaks
    assert numpy_big < 1.2 * numpy_small, peaks
    # and far below holding the records: 1M records are 40 MiB of input
    assert arrow_big + numpy_big < 0.25 * 32 * chunk * RECORD_DTYPE.itemsize, peaks


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["export", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run.json" in err
    run = small_run(tmp_path / "run")
    (tmp_path / "a-file").write_text("x")
    assert main(["export", str(run), "--out", str(tmp_path / "a-file")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_a_record_cut_mid_write_is_left_out_and_said(tmp_path, capsys):
    run = small_run(tmp_path / "run")
    with open(run / "records" / "worker-b.bin", "ab") as fh:
        fh.write(b"\x00" * 13)
    assert main(["export", str(run), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "13 trailing bytes" in out and "7 rows" in out
    assert pq.read_metadata(tmp_path / "out" / "records.parquet").num_rows == 7


def test_the_order_ledger_is_a_table_of_every_order_call_with_its_final_state(tmp_path, capsys):
    """Written when the run has an order journal, in either format, with the same rows."""
    run = small_run(tmp_path / "run")
    assert main(["export", str(run), "--out", str(tmp_path / "none")]) == 0
    assert not (tmp_path / "none" / "order_ledger.parquet").exists()
    journal = JsonlLog(run / "orders" / "worker-a.jsonl")
    base = {
        "user": 41,
        "account": "m1",
        "attempt": 0,
        "intended_ns": T0 + 10 * MS,
        "sent_ns": T0 + 10 * MS + 7,
        "side": "bid",
        "price": "98000000",
        "volume": "0.001",
    }
    journal.append(
        {
            **base,
            "t_ns": T0 + 90 * MS,
            "end_ns": T0 + 90 * MS,
            "action": "limit_order",
            "outcome": "server_error",
            "status": 500,
            "order_id": None,
            "price_seen": 97_950_000.0,
        }
    )
    journal.append({**base, "t_ns": T0 + 110 * MS, "end_ns": T0 + 110 * MS, "attempt": 1,
                    "action": "limit_order", "outcome": "ok", "status": 201, "order_id": "u-1",
                    "price_seen": 97_950_000.0})  # fmt: skip
    journal.close()
    lookups = JsonlLog(run / "reconciliation" / "order_status.jsonl")
    lookups.append({"t_ns": T0 + 9 * 10**9, "order_id": "u-1", "answer": "unknown", "status": 404})
    lookups.close()
    for fmt in ("parquet", "csv"):
        assert main(["export", str(run), "--out", str(tmp_path / fmt), "--format", fmt]) == 0
        assert f"order_ledger.{fmt}  2 rows" in capsys.readouterr().out
    table = pq.read_table(tmp_path / "parquet" / "order_ledger.parquet")
    assert table.schema.equals(ORDER_LEDGER_SCHEMA, check_metadata=False)
    refused, acked = table.to_pylist()
    assert (refused["outcome"], refused["status"], refused["order_id"]) == (
        "server_error", 500, None
    )  # fmt: skip
    assert refused["reconciliation"] is None and refused["price_seen"] == 97_950_000.0
    assert acked["intended"] == pa.scalar(T0 + 10 * MS, pa.timestamp("ns", "UTC")).as_py()
    assert (acked["attempt"], acked["acknowledged"], acked["reconciliation"]) == (
        1, True, "unknown"
    )  # fmt: skip
    csv = pcsv.read_csv(tmp_path / "csv" / "order_ledger.csv")
    assert csv.column_names == ORDER_LEDGER_SCHEMA.names
    assert csv.column("order_id").to_pylist()[1] == "u-1"
    assert csv.column("reconciliation").to_pylist()[1] == "unknown"


# -- a real run ---------------------------------------------------------------------------

SCENARIO = """\
name: export-me
description: A few seconds of mixed traffic to export.
model: open
slos:
  - {group: quotation, p99: 500ms}
timeline:
  - phase: mixed
    duration: 4s
    users: 10
    ramp: 1s
    mix: {market_watcher: 0.4, app_user: 0.4, api_bot: 0.2}
"""


@pytest.mark.slow
def test_a_real_run_exports_what_analyze_counted_and_its_p99_recomputes(tmp_path, capsys):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO)

    def cli(*args: str) -> subprocess.CompletedProcess:
        out = subprocess.run(
            [sys.executable, "-m", "surgeproof.cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stderr[-2000:]
        return out

    cli("run", str(scenario), "--reports-dir", str(tmp_path), "--run-id", "r", "--timeout", "3")
    run_dir = tmp_path / "r"
    # analyze and export need no Locust: in this process, as a notebook would run them
    assert main(["analyze", str(run_dir), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["export", str(run_dir)]) == 0
    assert "series from analysis.json" in capsys.readouterr().out
    analysis = json.loads((run_dir / "analysis.json").read_text())
    records = pq.read_table(run_dir / "export" / "records.parquet")
    counted = analysis["input"]["records"]
    assert records.num_rows == counted["total"]
    per_source = records.group_by("source").aggregate([("source", "count")]).to_pylist()
    assert {r["source"]: r["source_count"] for r in per_source} == counted["per_source"]

    # p99 of the busiest group's busiest window, recomputed with numpy from the timestamps.
    ts = analysis["timeseries"]
    group = max((g for g in ts["groups"] if g != "*"), key=lambda g: sum(ts["groups"][g]["count"]))
    window = int(np.argmax(ts["groups"][group]["count"]))
    r = records.to_pandas()
    timed = r[
        (r["kind"] != "ws_gap")
        & ~r["outcome"].isin(["missed", "cancelled", "backlogged"])
        & (r["group"] == group)
    ]
    intended = timed["intended"].astype("int64").to_numpy()
    end = timed["end"].astype("int64").to_numpy()
    wns = round(ts["window_s"] * 1e9)
    w = np.clip((intended - ts["start_ns"][0]) // wns, 0, len(ts["start_ns"]) - 1)
    latency_ms = (end[w == window] - intended[w == window]) / 1e6
    assert np.percentile(latency_ms, 99) == ts["groups"][group]["p99_ms"][window]
    series = pq.read_table(run_dir / "export" / "series_groups.parquet").to_pylist()
    [row] = [s for s in series if s["group"] == group and s["window_index"] == window]
    assert row["p99_ms"] == ts["groups"][group]["p99_ms"][window]

    # The documented examples give the same p99 for every quotation window: pandas exactly,
    # DuckDB up to float rounding.
    import duckdb

    want = {i: v for i, v in enumerate(ts["groups"]["quotation"]["p99_ms"]) if v is not None}
    doc = DOC.read_text().replace("reports/RUN", str(run_dir))
    sql = re.search(r"```sql\n(.*?)```", doc, re.S).group(1)
    got = {w: p99 for w, _n, p99 in duckdb.sql(sql).fetchall()}
    assert got.keys() == want.keys()
    assert all(got[i] == pytest.approx(want[i], rel=1e-12) for i in want)
    namespace: dict = {}
    exec(re.search(r"```python\n(.*?)```", doc, re.S).group(1), namespace)
    assert namespace["p99_ms"].to_dict() == want


class Counted(list):
    """A per-window list that counts every value Python code visits in it."""

    visits = 0

    def __iter__(self):
        Counted.visits += len(self)
        return super().__iter__()

    def __getitem__(self, i):
        Counted.visits += len(range(len(self))[i]) if isinstance(i, slice) else 1
        return super().__getitem__(i)


def analysis_like_timeseries(n: int) -> dict:
    """What analysis.json's ``timeseries`` holds for ``n`` windows: a few dozen per-window
    columns and six endpoint groups (plus ``*``), each list counting its visits."""

    def col(v):
        return Counted([v] * n)

    group = {
        "count": col(3), "error_ratio": col(0.0), "p50_ms": col(1.0), "p99_ms": col(2.0),
        "p99.9_ms": col(None), "max_ms": col(3.0), "service_ms": {"p50": col(0.5), "p99": col(1)},
    }  # fmt: skip
    return {
        "window_s": 1.0,
        "start_ns": Counted(T0 + i * 1_000_000_000 for i in range(n)),
        "t_s": col(0.0), "offered_users": col(5), "active_users": col(5), "offered_rps": col(4.0),
        "achieved_rps": col(4.0), "error_ratio": col(0.0), "breach": col(False),
        "errors": {cause: col(0) for cause in ("timeout", "rate_limited", "server_error")},
        "groups": {g: dict(group) for g in ("*", "login", "quotation", "orders", "account", "ws")},
    }  # fmt: skip


def test_exporting_4x_the_windows_costs_at_most_4x_the_per_window_work(tmp_path):
    """A count, not a clock: every value of every per-window column visited from Python while
    the series tables are built and written. A check of each column per window (quadratic in
    the run's length: 10,800 one-second windows made a night unexportable) multiplies it by 16."""
    run = small_run(tmp_path / "run")
    work = {}
    for n in (500, 2_000):
        Counted.visits = 0
        ts = analysis_like_timeseries(n)
        result = export_run(run, tmp_path / f"out-{n}", "parquet", timeseries=ts, series_from="t")
        assert result.rows["series"] == n and result.rows["series_groups"] == 6 * n
        work[n] = Counted.visits
    assert work[500] >= 500 * 30  # every column's values were looked at...
    assert work[2_000] <= 4.2 * work[500], work  # ...and no more often with more windows
