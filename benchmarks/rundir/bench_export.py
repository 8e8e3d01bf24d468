"""``surgeproof export`` on a run of the night's real length and on a run of many records:
time and peak memory, beside a pandas peer on the same files.

A run's cost has two axes: its records and its length (one-second analysis windows). So the
benchmark exports a run as long as the martial-law night at time scale 1 (3 h: 10,800 windows
and more) and one of 10M records, each analysed first (``analysis.json``, as ``surgeproof run``
leaves it), and times the whole command, ``surgeproof export RUN --out DIR``: the records, the
per-window series wide and per group, events and the generator timeline.

Each contender runs in its own Python process pinned to one core; peak memory is that process's
own peak resident set (``VmHWM``). The run directories come from the tests' queueing model
(``tests/analysis/synthetic.py``), two generator sources, so every contender converts the same
files. The peer does what a notebook would: read every record (``read_records``), build a
DataFrame with the same columns (names as categoricals, times as UTC timestamps, outcome and
kind as names, latency and service time) and ``to_parquet`` it, zstd like the export; and the
series from analysis.json as two DataFrames (per window; per window and group) ``to_parquet``.

    python benchmarks/rundir/bench_export.py               # night and 10m, writes RESULTS.md
    python benchmarks/rundir/bench_export.py --runs night --no-write
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
import contextlib, io
from surgeproof.cli import main
fmt = sys.argv[3]
t = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()) as said:
    code = main(["export", sys.argv[1], "--out", sys.argv[2], "--format", fmt])
dt = time.perf_counter() - t
assert code == 0 and "per-window series from analysis.json" in said.getvalue(), said.getvalue()
rows = {line.split()[0].rsplit("/", 1)[-1].split(".")[0]: int(line.split()[1].replace(",", ""))
        for line in said.getvalue().splitlines() if "rows" in line}
print(json.dumps({"seconds": dt, "maxrss_kb": hwm_kb(), "records": rows["records"],
                  "windows": rows["series"], "bytes": size(sys.argv[2])}))
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
del df
ts = json.loads((Path(sys.argv[1]) / "analysis.json").read_text())["timeseries"]
n = len(ts["start_ns"])
def per_window(cols, prefix=""):
    flat = {}
    for k, v in cols.items():
        if isinstance(v, dict):
            flat.update(per_window(v, f"{prefix}{k}_"))
        elif isinstance(v, list) and len(v) == n:
            flat[prefix + k] = v
    return flat
wide = pd.DataFrame(per_window({k: v for k, v in ts.items() if k != "groups"}))
wide.to_parquet(Path(sys.argv[2]) / "series.parquet", compression="zstd", index=False)
frames = []
for group, cols in ts["groups"].items():
    frame = pd.DataFrame(per_window(cols))
    frame.insert(0, "group", group)
    frame.insert(0, "window_index", range(n))
    frames.append(frame)
per_group = pd.concat(frames, ignore_index=True)
per_group.to_parquet(Path(sys.argv[2]) / "series_groups.parquet", compression="zstd", index=False)
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "maxrss_kb": hwm_kb(), "records": int(len(r)),
                  "windows": n, "bytes": size(sys.argv[2])}))
"""
)

CHECK = """
import json, sys
from pathlib import Path
import pyarrow.parquet as pq
ours, peer = Path(sys.argv[1]), Path(sys.argv[2])
rows = {t: [pq.ParquetFile(d / f"{t}.parquet").metadata.num_rows for d in (ours, peer)]
        for t in ("records", "series", "series_groups")}
print(json.dumps(rows))
"""

#: The runs measured: (records, seconds) — a 5-level step run of about ``records`` records
#: spread over ``seconds`` (None: 1,000 to 3,400 users, as long as that takes).
RUNS = {
    "night": (2_000_000, 10_900),  # the martial-law night at time scale 1: 3 h of windows
    "10m": (10_000_000, None),  # many records: ~4,100 s at 12,200 req/s
    "soak": (1_000_000, 43_200),  # 12 h: a staging soak
}


def make_run(path: Path, records: int, seconds: float | None = None) -> None:
    """A 5-level step run of about ``records`` records against a queueing model, over
    ``seconds`` when given (users scaled down to fit), analysed (``analysis.json``)."""
    from synthetic import Level, QueueModel, queue_run

    from surgeproof.analysis.run import write_analysis

    model = QueueModel(workers=64, service_s=0.02, rate_per_user=1.0, timeout_s=5.0)
    users = [1000, 2000, 2800, 3000, 3400]
    if seconds is not None:
        scale = records * len(users) / (seconds * sum(users))
        users = [max(1, round(u * scale)) for u in users]
    span = records / sum(users) if seconds is None else seconds / len(users)
    queue_run(path, model, [Level(u, hold_s=span - 5, settle_s=5) for u in users], sources=2)
    write_analysis(path)


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
    ap.add_argument("--runs", default="night,10m", help=f"comma-separated, of {', '.join(RUNS)}")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.runs.split(","):
            records, seconds = RUNS[name]
            run_dir = Path(tmp) / f"run-{name}"
            make_run(run_dir, records, seconds)
            ours = measure(OURS, str(run_dir), str(Path(tmp) / f"ours-{name}"), "parquet")
            csv = measure(OURS, str(run_dir), str(Path(tmp) / f"csv-{name}"), "csv")
            peer = measure(PEER, str(run_dir), str(Path(tmp) / f"peer-{name}"))
            check = measure(CHECK, str(Path(tmp) / f"ours-{name}"), str(Path(tmp) / f"peer-{name}"))
            for table, (a, b) in check.items():
                assert a == b, (table, check)
            assert check["records"][0] == ours["records"] == peer["records"], check
            assert ours["windows"] == peer["windows"], (ours, peer)
            rows.append((name, ours, csv, peer))
            print(
                f"{name}: {ours['records']:,} records over {ours['windows']:,} windows: export "
                f"parquet {ours['seconds']:.1f} s {ours['maxrss_kb'] / 1024:.0f} MiB "
                f"{ours['bytes'] / 2**20:.0f} MiB out | csv {csv['seconds']:.1f} s "
                f"{csv['maxrss_kb'] / 1024:.0f} MiB | pandas peer {peer['seconds']:.1f} s "
                f"{peer['maxrss_kb'] / 1024:.0f} MiB {peer['bytes'] / 2**20:.0f} MiB out",
                flush=True,
            )
            for folder in (f"ours-{name}", f"csv-{name}", f"peer-{name}", f"run-{name}"):
                subprocess.run(["rm", "-rf", str(Path(tmp) / folder)], check=True)
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
        "| run | records | windows (1 s) | surgeproof export --format parquet | records/s |"
        " peak RSS | output | --format csv | records/s | peak RSS | output |"
        " pandas peer (DataFrames, to_parquet) | records/s | peak RSS | output |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, ours, csv, peer in rows:
        lines.append(
            f"| {name} | {ours['records']:,} | {ours['windows']:,} | "
            + cells(ours)
            + " "
            + cells(csv)
            + " "
            + cells(peer)
        )
    lines += [
        "",
        "The data: 5-level step runs against a queueing model, two generator sources, from",
        "`tests/analysis/synthetic.py` (40 B per record), analysed beforehand (`analysis.json`,",
        "as `surgeproof run` leaves a run): `night` is as long as the martial-law night at time",
        "scale 1 (3 h; 1-second analysis windows), `10m` holds 10M records (1,000 to 3,400 users,",
        "12,200 req/s), `soak` is 12 h. The export's time is the whole command, `surgeproof",
        "export RUN --out DIR`: the records table (1M-record row groups, zstd), the per-window",
        "series wide and per group from analysis.json, events and the generator timeline. The",
        "peer reads every record into memory and builds the same columns in a DataFrame before",
        "writing it, so its memory grows with the run; it writes the series as two DataFrames.",
        "",
    ]
    (Path(__file__).parent / "RESULTS.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
