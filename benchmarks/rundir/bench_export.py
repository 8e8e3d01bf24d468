"""``surgeproof export`` on 1M- and 10M-record runs: time and peak memory, beside a pandas peer.

Each contender runs in its own Python process pinned to one core; peak memory is that process's
own peak resident set (``VmHWM``). The run directories come from the tests' queueing model
(``tests/analysis/synthetic.py``), two generator sources, so every contender converts the same
files. The peer does what a notebook would: read every record (``read_records``), build a
DataFrame with the same columns (names as categoricals, times as UTC timestamps, outcome and
kind as names, latency and service time) and ``to_parquet`` it, zstd like the export.

    python benchmarks/rundir/bench_export.py               # 1M and 10M, writes RESULTS.md
    python benchmarks/rundir/bench_export.py --sizes 1e6 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "analysis"))

PRELUDE = """
import json, sys, time
from pathlib import Path
def hwm_kb():
    # VmHWM: this process's own peak RSS (ru_maxrss would carry the parent's over fork/exec).
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
def size(path):
    return sum(p.stat().st_size for p in Path(path).glob("*") if p.is_file())
"""

OURS = (
    PRELUDE
    + """
from surgeproof.rundir.export import export_run
fmt = sys.argv[3]
t = time.perf_counter()
r = export_run(sys.argv[1], sys.argv[2], fmt)
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "maxrss_kb": hwm_kb(), "records": r.rows["records"],
                  "bytes": Path(r.files["records"]).stat().st_size}))
"""
)

PEER = (
    PRELUDE
    + """
import numpy as np, pandas as pd
from surgeproof.rundir.reader import read_records
from surgeproof.rundir.schema import KIND_NAMES, OUTCOME_NAMES
t = time.perf_counter()
rs = read_records(sys.argv[1])
r = rs.records
sources = np.repeat(np.array(list(rs.per_source)), list(rs.per_source.values()))
timed = (r["sent_ns"] > 0) & (r["end_ns"] > 0)
def ts(col):
    return pd.to_datetime(np.where(col > 0, col, np.iinfo(np.int64).min), utc=True)
df = pd.DataFrame({
    "source": pd.Categorical(sources),
    "intended": pd.to_datetime(r["intended_ns"], utc=True),
    "sent": ts(r["sent_ns"]),
    "end": ts(r["end_ns"]),
    "latency_ms": np.where(timed, (r["end_ns"] - r["intended_ns"]) / 1e6, np.nan),
    "service_ms": np.where(timed, (r["end_ns"] - r["sent_ns"]) / 1e6, np.nan),
    "endpoint": pd.Categorical.from_codes(r["name_id"], rs.names),
    "group": pd.Categorical(np.array(rs.groups)[r["name_id"]]),
    "status": r["status"],
    "outcome": pd.Categorical.from_codes(r["outcome"], [OUTCOME_NAMES[i] for i in range(10)]),
    "kind": pd.Categorical.from_codes(r["kind"], [KIND_NAMES[i] for i in range(4)]),
    "attempt": r["attempt"],
    "retry": (r["flags"] & 4) != 0,
    "order_submit": (r["flags"] & 2) != 0,
    "closed_model": (r["flags"] & 1) != 0,
    "flags": r["flags"],
    "user": r["user"],
    "concurrency": r["concurrency"],
})
Path(sys.argv[2]).mkdir(parents=True, exist_ok=True)
out = Path(sys.argv[2]) / "records.parquet"
df.to_parquet(out, compression="zstd", index=False)
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "maxrss_kb": hwm_kb(), "records": int(len(df)),
                  "bytes": out.stat().st_size}))
"""
)

CHECK = """
import json, sys
import pyarrow.parquet as pq
a, b = pq.ParquetFile(sys.argv[1]), pq.ParquetFile(sys.argv[2])
print(json.dumps({"ours": a.metadata.num_rows, "peer": b.metadata.num_rows,
                  "row_groups": a.metadata.num_row_groups}))
"""


def make_run(path: Path, records: int) -> None:
    """A 5-level step run of about ``records`` records against a 3,200 req/s queueing model."""
    from synthetic import Level, QueueModel, queue_run

    model = QueueModel(workers=64, service_s=0.02, rate_per_user=1.0, timeout_s=5.0)
    users = [1000, 2000, 2800, 3000, 3400]
    span = records / sum(users)
    queue_run(path, model, [Level(u, hold_s=span - 5, settle_s=5) for u in users], sources=2)


def measure(code: str, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c", code, *args],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1e6,1e7")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(float(s)) for s in args.sizes.split(",")):
            run_dir = Path(tmp) / f"run-{size}"
            make_run(run_dir, size)
            ours = measure(OURS, str(run_dir), str(Path(tmp) / f"ours-{size}"), "parquet")
            csv = measure(OURS, str(run_dir), str(Path(tmp) / f"csv-{size}"), "csv")
            peer = measure(PEER, str(run_dir), str(Path(tmp) / f"peer-{size}"))
            check = measure(
                CHECK,
                str(Path(tmp) / f"ours-{size}" / "records.parquet"),
                str(Path(tmp) / f"peer-{size}" / "records.parquet"),
            )
            assert check["ours"] == check["peer"] == ours["records"], check
            rows.append((ours, csv, peer))
            print(
                f"{ours['records']:,} records: export parquet {ours['seconds']:.1f} s "
                f"{ours['maxrss_kb'] / 1024:.0f} MiB {ours['bytes'] / 2**20:.0f} MiB out | csv "
                f"{csv['seconds']:.1f} s {csv['maxrss_kb'] / 1024:.0f} MiB | pandas peer "
                f"{peer['seconds']:.1f} s {peer['maxrss_kb'] / 1024:.0f} MiB "
                f"{peer['bytes'] / 2**20:.0f} MiB out",
                flush=True,
            )
            for name in (f"ours-{size}", f"csv-{size}", f"peer-{size}", f"run-{size}"):
                subprocess.run(["rm", "-rf", str(Path(tmp) / name)], check=True)
    if not args.no_write:
        write_results(rows)


def write_results(rows: list) -> None:
    import numpy
    import pandas
    import pyarrow

    def cells(m: dict) -> str:
        return (
            f"{m['seconds']:.1f} s | {m['records'] / m['seconds']:,.0f} | "
            f"{m['maxrss_kb'] / 1024:,.0f} MiB | {m['bytes'] / 2**20:,.0f} MiB |"
        )

    lines = [
        "# Export benchmark",
        "",
        "`python benchmarks/rundir/bench_export.py` (each contender in its own process, pinned",
        "to one core with `taskset -c 0`; peak memory = that process's own peak resident set,",
        "`VmHWM`, which includes resident pages of the memory-mapped input and the interpreter",
        "with numpy, pandas and pyarrow; all contenders measured in the same run on the same",
        "files; the two Parquet outputs checked to hold the same number of rows).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work, "
        f"Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"pandas {pandas.__version__}, pyarrow {pyarrow.__version__}. "
        f"Date: {time.strftime('%Y-%m-%d')}.",
        "",
        "| records | surgeproof export --format parquet | records/s | peak RSS | output |"
        " --format csv | records/s | peak RSS | output |"
        " pandas peer (DataFrame, to_parquet) | records/s | peak RSS | output |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for ours, csv, peer in rows:
        lines.append(
            f"| {ours['records']:,} | " + cells(ours) + " " + cells(csv) + " " + cells(peer)
        )
    lines += [
        "",
        "The data: a 5-level step run (1,000 to 3,400 users against a 3,200 req/s queueing model,",
        "two generator sources) from `tests/analysis/synthetic.py`; the input is 40 B per record.",
        "The export's time covers the records table (1M-record row groups, zstd) plus the events",
        "and timeline tables; no per-window series (that is the analysis's time: see",
        "`benchmarks/analysis/RESULTS.md`). The peer reads every record into memory and builds",
        "the same columns in a DataFrame before writing it, so its memory grows with the run.",
        "",
    ]
    (Path(__file__).parent / "RESULTS.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
