"""Analysis speed and peak memory on runs of many records and on runs of a night's length,
beside a naive pandas peer and DuckDB.

Each measurement runs in its own Python process on one core (peak RSS from getrusage is then
that measurement's own). The run directories come from the tests' queueing model
(``tests/analysis/synthetic.py``), so the data are the same for every contender. Two shapes:
*records* runs (``--sizes``: a 5-level step run a few minutes long, many records a second) and
*night* runs (``--nights RECORDSxWINDOWS``: a surge night of that many one-second windows —
10,800 is the 3-hour night at time scale 1 — rising, peaking and falling over six levels).

The peers compute only the per-second, per-group exact latency percentiles (p50, p90, p95, p99,
p99.9, max): pandas the naive way (load every record, build a DataFrame,
``groupby([window, group]).quantile(...)``), DuckDB with ``quantile_cont`` over the run's
exported ``records.parquet`` (one thread; the export is written before and not timed).
surgeproof computes the whole analysis.json (those percentiles and everything else).

    python benchmarks/analysis/bench_analysis.py            # 1M, 10M and a night; RESULTS.md
    python benchmarks/analysis/bench_analysis.py --sizes 1e6 --nights "" --no-write
    python benchmarks/analysis/bench_analysis.py --before main  # also an earlier analyzer

``--before REV`` measures the analyzer as it was at git revision REV (its ``src/`` exported to a
temporary folder) in the same run, on the same data.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "analysis"))

OURS = """
import json, sys, time
def hwm_kb():
    # VmHWM: this process's own peak RSS. ru_maxrss would not do: Linux carries it across
    # fork/exec, so a child would report its (large) parent's peak.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
from surgeproof.analysis.run import analyze_run, write_analysis
from surgeproof.scenario.model import Slo
t = time.perf_counter()
a = analyze_run(sys.argv[1], slos=[Slo("*", "p99", 500.0), Slo("*", "error_ratio", 0.01)])
write_analysis(sys.argv[1], a)
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "maxrss_kb": hwm_kb(),
                  "records": a["input"]["records"]["total"], "ceiling": a["ceiling"]["statement"]}))
"""

PEER = """
import json, sys, time
def hwm_kb():
    # VmHWM: this process's own peak RSS. ru_maxrss would not do: Linux carries it across
    # fork/exec, so a child would report its (large) parent's peak.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
import numpy as np, pandas as pd
from surgeproof.rundir.reader import read_records
t = time.perf_counter()
rs = read_records(sys.argv[1])
r = rs.records
df = pd.DataFrame({
    "window": (r["intended_ns"] - r["intended_ns"].min()) // 1_000_000_000,
    "group": np.array(rs.groups)[r["name_id"]],
    "latency_ms": (r["end_ns"] - r["intended_ns"]) / 1e6,
})
q = df.groupby(["window", "group"])["latency_ms"].quantile([0.5, 0.9, 0.95, 0.99, 0.999, 1.0])
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "maxrss_kb": hwm_kb(),
                  "records": int(len(r)), "rows": int(len(q))}))
"""


DUCKDB = """
import json, sys, time
def hwm_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
import duckdb
t = time.perf_counter()
con = duckdb.connect()
con.execute("SET threads = 1")
path = sys.argv[1] + "/export/records.parquet"
rows = con.execute(f\"\"\"
WITH r AS (SELECT epoch_ns(intended) AS t, "group" AS g, latency_ms FROM '{path}'
           WHERE latency_ms IS NOT NULL AND kind <> 'ws_gap'
             AND outcome NOT IN ('missed', 'cancelled', 'backlogged', 'invalid_request')),
     z AS (SELECT min(t) AS t0 FROM r)
SELECT (t - t0) // 1000000000 AS window_index, g, count(*) AS n,
       quantile_cont(latency_ms, [0.5, 0.9, 0.95, 0.99, 0.999, 1.0]) AS q
FROM r, z GROUP BY ALL
\"\"\").fetchall()
dt = time.perf_counter() - t
n = sum(r[2] for r in rows)
print(json.dumps({"seconds": dt, "maxrss_kb": hwm_kb(), "records": n, "rows": len(rows)}))
"""


def make_night(path: Path, records: int, windows: int) -> None:
    """A surge night of ``windows`` one-second windows and about ``records`` records: six
    levels rising to a peak and falling (1, 2, 3, 4, 3, 2 parts) against the same model."""
    from synthetic import Level, QueueModel, queue_run

    model = QueueModel(workers=64, service_s=0.02, rate_per_user=1.0, timeout_s=5.0)
    shape = [1, 2, 3, 4, 3, 2]
    span = windows / len(shape)  # settle 5 s + hold, then a 1 s gap, per level
    unit = records / (sum(shape) * (span - 1))
    steps = [Level(max(1, round(u * unit)), hold_s=span - 6, settle_s=5) for u in shape]
    queue_run(path, model, steps, sources=2, gap_s=1.0)


def export_records(run_dir: Path) -> None:
    """The run's records as Parquet, for the DuckDB peer (what a user of DuckDB would query)."""
    subprocess.run(
        [sys.executable, "-m", "surgeproof.cli", "export", str(run_dir), "--format", "parquet"],
        check=True,
        capture_output=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
        timeout=1800,
    )


def make_run(path: Path, records: int) -> None:
    """A step run of about ``records`` records against a 3,200 req/s queueing model."""
    from synthetic import Level, QueueModel, queue_run

    model = QueueModel(workers=64, service_s=0.02, rate_per_user=1.0, timeout_s=5.0)
    users = [1000, 2000, 2800, 3000, 3400]
    span = records / sum(users)
    queue_run(path, model, [Level(u, hold_s=span - 5, settle_s=5) for u in users], sources=2)


def measure(code: str, run_dir: Path, src: Path = ROOT / "src") -> dict:
    env = dict(os.environ, PYTHONPATH=str(src))
    out = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c", code, str(run_dir)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1e6,1e7", help="records runs: record counts")
    ap.add_argument(
        "--nights", default="1e6x10800", help="night runs: RECORDSxWINDOWS, comma-separated"
    )
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--before", metavar="REV", help="also measure the analyzer at git REV")
    ap.add_argument(
        "--repeat", type=int, default=1, help="more runs of each analyzer, in turns (best kept)"
    )
    args = ap.parse_args()
    runs = [("records", int(float(x)), None) for x in args.sizes.split(",") if x]
    for spec in (x for x in args.nights.split(",") if x):
        records, windows = spec.lower().split("x")
        runs.append(("night", int(float(records)), int(float(windows))))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        before_src = export_src(args.before, Path(tmp) / "before") if args.before else None
        for shape, size, windows in runs:
            run_dir = Path(tmp) / f"run-{shape}-{size}"
            t = time.perf_counter()
            if windows is None:
                make_run(run_dir, size)
            else:
                make_night(run_dir, size, windows)
            gen = time.perf_counter() - t
            # The files were just written: flush them first, or the first contender measures the
            # write-back of a few hundred MB. Then each analyzer runs twice, in turns, best kept.
            os.sync()
            ours, before = measure(OURS, run_dir), None
            for _ in range(args.repeat):
                if before_src:
                    before = _best(before, measure(OURS, run_dir, before_src))
                ours = _best(ours, measure(OURS, run_dir))
            peer = measure(PEER, run_dir)
            export_records(run_dir)
            os.sync()
            duck = measure(DUCKDB, run_dir)
            shutil.rmtree(run_dir / "export")
            ours["windows"] = windows_of(run_dir)
            rows.append((shape, gen, ours, peer, duck, before))
            print(
                f"{shape} run, {ours['records']:,} records over {ours['windows']:,} windows: "
                f"surgeproof {ours['seconds']:.1f} s {ours['maxrss_kb'] / 1024:.0f} MiB | "
                f"pandas {peer['seconds']:.1f} s {peer['maxrss_kb'] / 1024:.0f} MiB | "
                f"DuckDB {duck['seconds']:.1f} s {duck['maxrss_kb'] / 1024:.0f} MiB"
                + (
                    f" | before {before['seconds']:.1f} s {before['maxrss_kb'] / 1024:.0f} MiB"
                    if before
                    else ""
                )
                + f" | {ours['ceiling']}",
                flush=True,
            )
            shutil.rmtree(run_dir)
    if not args.no_write:
        write_results(rows, args.before, sys.argv[1:])


def windows_of(run_dir: Path) -> int:
    """The per-second windows of the analysis just written."""
    doc = json.loads((run_dir / "analysis.json").read_text())
    return len(doc["timeseries"]["start_ns"])


def _best(a: dict | None, b: dict) -> dict:
    """The faster of two measurements of one analyzer (peak memory: the higher)."""
    if a is None:
        return b
    best = dict(a if a["seconds"] <= b["seconds"] else b)
    best["maxrss_kb"] = max(a["maxrss_kb"], b["maxrss_kb"])
    return best


def export_src(rev: str, dest: Path) -> Path:
    """The package source at git revision ``rev``, exported (read-only use of the repository)."""
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "src"


def write_results(rows: list, before_rev: str | None, argv: list[str]) -> None:
    """Rewrite RESULTS.md's first section (the sections of bench_scale.py after it stay)."""
    import duckdb
    import numpy
    import pandas

    def cells(m: dict, records: int) -> str:
        # records/s of the run's records, whatever share of them a contender reads
        return (
            f"{m['seconds']:.1f} s | {records / m['seconds']:,.0f} | "
            f"{m['maxrss_kb'] / 1024:,.0f} MiB |"
        )

    head = (
        "| run | records | windows | surgeproof analyze (whole analysis.json) | records/s |"
        " peak RSS | pandas groupby-quantile (percentiles only) | records/s | peak RSS |"
        " DuckDB quantile_cont (percentiles only) | records/s | peak RSS |"
    )
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    if before_rev:
        head += f" surgeproof before (`{before_rev}`) | records/s | peak RSS |"
        rule += "---:|---:|---:|"
    command = " ".join(["python benchmarks/analysis/bench_analysis.py", *argv])
    lines = [
        "# Analysis benchmark",
        "",
        f"`{command}` under the shared heavy lock (each contender in its own process, pinned to",
        "one core with `taskset -c 0`; peak memory = that process's own peak resident set,",
        "`VmHWM`, which includes resident pages of the memory-mapped input and ~77 MiB of Python,",
        "numpy, pandas and scipy; all contenders measured in the same run on the same files).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work, "
        f"Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"pandas {pandas.__version__}, DuckDB {duckdb.__version__}. "
        f"Date: {time.strftime('%Y-%m-%d')}.",
        "",
        head,
        rule,
    ]
    for shape, _gen, ours, peer, duck, before in rows:
        n = ours["records"]
        line = f"| {shape} | {n:,} | {ours['windows']:,} | " + cells(ours, n)
        line += " " + cells(peer, n) + " " + cells(duck, n)
        if before:
            line += " " + cells(before, n)
        lines.append(line)
    lines += [
        "",
        "The data: *records* runs are a 5-level step run (1,000 to 3,400 users against a 3,200",
        "req/s queueing model, two generator sources, a few minutes long); *night* runs are a",
        "surge night of that many one-second windows (10,800 = the 3-hour night at time scale",
        "1), six levels rising to a peak and falling, against the same model. Both from",
        "`tests/analysis/synthetic.py`; 40-byte records. surgeproof's time covers reading the",
        "records (chunked passes over the memory-mapped files), judging every level, the",
        "per-second series with exact per-group latency and service-time percentiles,",
        "per-endpoint statistics, USL fit, incidents and writing analysis.json. The peers compute",
        "only the per-second, per-group exact latency percentiles: pandas the naive way (whole",
        "records array, DataFrame, groupby-quantile), DuckDB over the run's exported",
        "`records.parquet` with `quantile_cont` on one thread (the export is not timed).",
        "",
    ]
    path = Path(__file__).parent / "RESULTS.md"
    old = path.read_text() if path.exists() else ""
    rest = old[old.index("\n## ") :] if "\n## " in old else ""
    path.write_text("\n".join(lines) + rest)


if __name__ == "__main__":
    main()
