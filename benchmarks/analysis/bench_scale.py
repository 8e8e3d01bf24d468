"""Analysis at scale: a step search's judge per level on a growing run, and the whole analysis
of a 100M-record run in one and in several processes, beside the analyzer before (git REV).

    python benchmarks/analysis/bench_scale.py --records 1e8 --levels 14 --before main
    python benchmarks/analysis/bench_scale.py --records 1e6 --levels 4 --no-write   # a smoke run
    python benchmarks/analysis/bench_scale.py --records 1e7 --seconds 10800 --before main

``--seconds`` gives the run the night's length instead (10,800 one-second windows = the 3-hour
night at time scale 1): every level lasts as long, and each user calls less often so that the
run still holds ``--records`` records (the model's capacity scales with it, so the same levels
pass and fail).

One synthetic run directory is written level by level into a temporary folder (``--tmp``,
deleted at the end: 100M records are 4 GB). After each level is written, each judge — ours,
keeping its index between levels as the step search does, and the one at ``--before`` — judges
that level in its own long-lived process, pinned to one core, and says how long it took. Then
the finished run is analysed whole (``analyze_run`` + ``write_analysis``) in a fresh process
per contender and job count: wall time, CPU time of the process and its workers, peak memory
(the largest process's VmHWM and the sum of every process's proportional set size, sampled),
and the analysis.json is checked to be the same for every job count.

The data: ``--levels`` levels of equal record counts, users rising from 2,000 to 30,000 at 1
call/s each against a fluid FIFO model of 16,000 calls/s (below it, exponential service times
of 20 ms mean; above it the queue grows with the excess until calls time out at 5 s), two
generator sources, four endpoints in three groups, records written in completion order.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "analysis"))
sys.path.insert(0, str(ROOT / "benchmarks" / "analysis"))

NS = 1_000_000_000
CAPACITY_RPS = 16_000.0
SERVICE_S = 0.02
TIMEOUT_S = 5.0
SETTLE_S = 5
SOURCES = 2
#: Records generated per step (bounds the generator's memory).
STEP = 1 << 22

JUDGE = r"""
import json, sys, time
from pathlib import Path
from surgeproof.load.judge import level_judge
from surgeproof.scenario.model import Slo
def hwm_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
judge = level_judge(Path(sys.argv[1]), (Slo("*", "p99", 500.0), Slo("*", "error_ratio", 0.01)))
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    ask = json.loads(line)
    t = time.perf_counter()
    j = judge(ask["start"], ask["end"], ask["users"], ask["label"])
    dt = time.perf_counter() - t
    print(json.dumps({"seconds": dt, "verdict": j.verdict, "reason": j.reasons[0],
                      "hwm_kb": hwm_kb()}), flush=True)
"""

ANALYZE = r"""
import json, sys, time, resource
from surgeproof.analysis.run import analyze_run, write_analysis
from surgeproof.scenario.model import Slo
def hwm_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
kw = json.loads(sys.argv[3])
t = time.perf_counter()
a = analyze_run(sys.argv[1], slos=[Slo("*", "p99", 500.0), Slo("*", "error_ratio", 0.01)], **kw)
write_analysis(sys.argv[1], a, out=sys.argv[2])
dt = time.perf_counter() - t
print(json.dumps({"seconds": dt, "hwm_kb": hwm_kb(), "records": a["input"]["records"]["total"],
                  "ceiling": a["ceiling"]["statement"]}))
"""


def level_users(levels: int) -> list[int]:
    return [int(u) for u in np.linspace(2_000, 30_000, levels).round(-2)]


def write_level(
    files, names_done, rng, t_ns: int, users: int, n: int, per_user: float = 1.0
) -> int:
    """Append one level of ``n`` records starting at ``t_ns``, each user calling ``per_user``
    times a second (the model's capacity scaled alike); returns the level's end (ns)."""
    from synthetic import ENDPOINTS

    from surgeproof.rundir.schema import RECORD_DTYPE, Kind, Outcome

    rate = users * per_user
    capacity = CAPACITY_RPS * per_user
    span_s = n / rate
    excess = max(rate - capacity, 0.0) / capacity
    flags = np.array([f for _, _, f in ENDPOINTS], dtype=np.uint8)
    pending = []
    for lo in range(0, n, STEP):
        k = min(STEP, n - lo)
        i = np.arange(lo, lo + k, dtype=np.int64)
        intended = t_ns + (i * (NS / rate)).astype(np.int64)
        sent = intended + 200_000 + rng.integers(0, 100_000, k)
        # Fluid FIFO queue: the backlog grows with the excess rate since the level began.
        wait = (intended - t_ns) * excess
        svc = rng.exponential(SERVICE_S * NS, k).astype(np.int64) + 1
        ends = sent + wait.astype(np.int64) + svc
        timed_out = ends - sent > TIMEOUT_S * NS
        rec = np.zeros(k, dtype=RECORD_DTYPE)
        rec["intended_ns"] = intended
        rec["sent_ns"] = sent
        rec["end_ns"] = np.where(timed_out, sent + int(TIMEOUT_S * NS), ends)
        rec["outcome"] = np.where(timed_out, Outcome.TIMEOUT, Outcome.OK)
        rec["status"] = np.where(timed_out, 0, 200)
        ep = i % len(ENDPOINTS)
        rec["name_id"] = ep
        rec["flags"] = flags[ep]
        rec["kind"] = Kind.HTTP
        rec["user"] = i % users
        rec["concurrency"] = users
        pending.append(rec)
        # Completion order within what has been generated, as the recorder writes.
        if sum(len(p) for p in pending) >= STEP or lo + k == n:
            batch = np.concatenate(pending)
            batch = batch[np.argsort(batch["end_ns"], kind="stable")]
            for s, f in enumerate(files):
                f.append(batch[s::SOURCES])
            pending = []
    return t_ns + int(span_s * NS)


class Judge:
    """One contender's judge in its own process, fed one level at a time."""

    def __init__(self, run_dir: Path, src: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(src))
        self.proc = subprocess.Popen(
            ["taskset", "-c", "0", sys.executable, "-c", JUDGE, str(run_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        json.loads(self.proc.stdout.readline())

    def __call__(self, start: int, end: int, users: int, label: str) -> dict:
        ask = {"start": start, "end": end, "users": users, "label": label}
        self.proc.stdin.write(json.dumps(ask) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def grow_and_judge(
    run_dir: Path, records: int, levels: int, contenders: dict[str, Path], seconds: float = 0.0
):
    """Write the run level by level; after each, every contender judges it. ``seconds``: the
    run's length (levels of equal length), else levels of equal record counts at 1 call/s."""
    from synthetic import ENDPOINTS, T0_NS, _meta

    from surgeproof.rundir.writer import JsonlLog, RecordFile, write_meta

    run_dir.mkdir(parents=True)
    rng = np.random.default_rng(13)
    write_meta(run_dir, _meta("running", 1.0, "open"))
    events = JsonlLog(run_dir / "events.jsonl")
    timeline = JsonlLog(run_dir / "timeline.jsonl")
    events.append({"t_ns": T0_NS, "type": "run_start"})
    files = [RecordFile(run_dir, f"worker-{s}") for s in range(SOURCES)]
    for f in files:
        f.add_names({i: (n, g) for i, (n, g, _) in enumerate(ENDPOINTS)})
    judges = {name: Judge(run_dir, src) for name, src in contenders.items()}
    rows, t, gen_s, written = [], T0_NS, 0.0, 0
    users_of = level_users(levels)
    per_level = records // levels
    # Each level then lasts seconds/levels, less the 1 s gap between levels.
    span = seconds / levels - 1 if seconds else 0.0
    per_user = records / (sum(users_of) * span) if seconds else 1.0
    for li, users in enumerate(users_of):
        g = time.perf_counter()
        n = round(users * per_user * span) if seconds else per_level
        end = write_level(files, None, rng, t, users, n, per_user)
        # A sample every second and one at the level's end (its data are flushed by then).
        for at in [*range(t + NS // 2, end, NS), end]:
            for s in range(SOURCES):
                timeline.append(
                    {"t_ns": at, "source": f"worker-{s}",
                     "target_users": users, "active_users": users / SOURCES,
                     "cpu_percent": 40.0, "late_sends": 0, "missed": 0, "inflight": 0}
                )  # fmt: skip
        start = t + SETTLE_S * NS
        label = f"level-{li + 1}"
        events.append({"t_ns": end, "type": "level", "start_ns": start, "end_ns": end,
                       "target_users": users, "label": label})  # fmt: skip
        gen_s += time.perf_counter() - g
        written += n
        row = {"level": li + 1, "users": users, "records_so_far": written}
        for name, judge in judges.items():
            row[name] = judge(start, end, users, label)
        rows.append(row)
        print(json.dumps(row), flush=True)
        t = end + NS
    for j in judges.values():
        j.close()
    for f in files:
        f.close()
    events.append({"t_ns": t, "type": "run_end", "status": "complete"})
    events.close()
    timeline.close()
    write_meta(run_dir, _meta("complete", 1.0, "open"))
    return rows, gen_s


def _tree_pss_kb(pid: int) -> int:
    """Proportional set size of ``pid`` and every descendant (shared file pages split)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def analyze(run_dir: Path, src: Path, jobs: int | None, out: Path) -> dict:
    """One whole analysis in a fresh process (and its workers), measured."""
    import resource

    kw = {} if jobs is None else {"jobs": jobs}
    cores = "0" if (jobs or 1) == 1 else ",".join(str(c) for c in range(min(jobs, os.cpu_count())))
    env = dict(os.environ, PYTHONPATH=str(src))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(
        ["taskset", "-c", cores, sys.executable, "-c", ANALYZE, str(run_dir), str(out),
         json.dumps(kw)],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_pss_kb(proc.pid))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = proc.communicate(timeout=3600)
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"analysis failed ({proc.returncode})")
    m = json.loads(stdout.strip().splitlines()[-1])
    m["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    m["pss_kb"] = peak[0]
    m["jobs"] = jobs or 1
    return m


def _same_document(a: Path, b: Path) -> bool:
    da, db = json.loads(a.read_text()), json.loads(b.read_text())
    da["generated_at_utc"] = db["generated_at_utc"] = None
    return da == db


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", default="1e8")
    ap.add_argument("--levels", type=int, default=14)
    ap.add_argument(
        "--seconds", type=float, default=0.0, help="the run's length (10800: the 3-hour night)"
    )
    ap.add_argument("--jobs", default="1,2", help="job counts for the whole analysis")
    ap.add_argument("--before", metavar="REV", help="also measure the analyzer at git REV")
    ap.add_argument("--tmp", help="folder for the temporary run (default: the system's)")
    ap.add_argument("--no-analyze", action="store_true")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    records = int(float(args.records))
    from bench_analysis import export_src

    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        contenders = {"ours": ROOT / "src"}
        if args.before:
            contenders["before"] = export_src(args.before, Path(tmp) / "before")
        run_dir = Path(tmp) / "run"
        rows, gen_s = grow_and_judge(run_dir, records, args.levels, contenders, args.seconds)
        windows = _windows(run_dir)
        os.sync()
        analyses = []
        if not args.no_analyze:
            first = None
            for jobs in (int(j) for j in args.jobs.split(",")):
                out = Path(tmp) / f"analysis-{jobs}.json"
                m = analyze(run_dir, ROOT / "src", jobs, out)
                first = first or out
                m["same_as_first"] = _same_document(first, out)
                analyses.append(("ours", m))
                print(json.dumps(m), flush=True)
            if args.before:
                m = analyze(run_dir, contenders["before"], None, Path(tmp) / "analysis-b.json")
                analyses.append(("before", m))
                print(json.dumps(m), flush=True)
        size_gb = sum(f.stat().st_size for f in (run_dir / "records").glob("*.bin")) / 1e9
    if not args.no_write:
        write_results(args, rows, analyses, gen_s, size_gb, windows)


def _windows(run_dir: Path) -> int:
    """One-second windows from the run's first intended send to its last answer."""
    from surgeproof.rundir.reader import open_record_sources

    first, last = None, None
    for src in open_record_sources(run_dir).sources:
        for lo in range(0, len(src.mapped), STEP):
            part = src.mapped[lo : lo + STEP]
            a, b = int(part["intended_ns"].min()), int(part["end_ns"].max())
            first = a if first is None else min(first, a)
            last = b if last is None else max(last, b)
    return 0 if first is None else (last - first) // NS + 1


def write_results(args, rows, analyses, gen_s, size_gb, windows) -> None:
    import numpy

    records = rows[-1]["records_so_far"]
    cmd = f"python benchmarks/analysis/bench_scale.py --records {args.records} --levels " + (
        f"{args.levels}"
        + (f" --seconds {args.seconds:g}" if args.seconds else "")
        + f" --jobs {args.jobs}"
        + (f" --before {args.before}" if args.before else "")
    )
    names = [k for k in ("ours", "before") if k in rows[0]]
    lines = [
        "",
        f"## At scale: {records:,} records over {windows:,} one-second windows"
        f" ({time.strftime('%Y-%m-%d')})",
        "",
        f"`{cmd}` under the shared heavy lock. Machine: {platform.machine()}, "
        f"{os.cpu_count()} cores **shared with other work** (the lead's and other helpers' "
        f"jobs ran beside it: figures across cores are what 2 shared cores gave), Python "
        f"{platform.python_version()}, numpy {numpy.__version__}. The run: {size_gb:.1f} GB of "
        f"records written level by level into a temporary folder (deleted after), "
        f"generated in {gen_s:.0f} s.",
        "",
        "### Step-search judge per level (each judge in its own process on one core; ours "
        "keeps its index between levels as `surgeproof run`'s search does)",
        "",
        "| level | users | records in the run | "
        + " | ".join(f"{n} judge" for n in names)
        + " | verdict |",
        "|---:|---:|---:|" + "---:|" * len(names) + "---|",
    ]
    for r in rows:
        cells = " | ".join(f"{r[n]['seconds']:.2f} s" for n in names)
        lines.append(
            f"| {r['level']} | {r['users']:,} | {r['records_so_far']:,} | {cells} | "
            f"{r['ours']['verdict']}: {r['ours']['reason'][:60]} |"
        )
    for n in names:
        first, last = rows[0][n]["seconds"], rows[-1][n]["seconds"]
        lines.append(
            f"\n{n}: last level {last:.2f} s vs first {first:.2f} s ({last / first:.1f}x); "
            f"peak RSS {rows[-1][n]['hwm_kb'] / 1024:,.0f} MiB."
        )
    if analyses:
        lines += [
            "",
            "### Whole analysis of the finished run (a fresh process per row; workers on as many "
            "cores as jobs)",
            "",
            "| analyzer | jobs | wall | records/s | CPU s | records per CPU-second | peak RSS "
            "(largest process) | peak PSS (all processes) | analysis.json as jobs=1 |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for who, m in analyses:
            same = "—" if who == "before" else ("same" if m["same_as_first"] else "DIFFERENT")
            lines.append(
                f"| {who} | {m['jobs']} | {m['seconds']:.1f} s | {m['records'] / m['seconds']:,.0f}"
                f" | {m['cpu_s']:.1f} | {m['records'] / m['cpu_s']:,.0f} | "
                f"{m['hwm_kb'] / 1024:,.0f} MiB | {m['pss_kb'] / 1024:,.0f} MiB | {same} |"
            )
    with open(Path(__file__).parent / "RESULTS.md", "a") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
