"""Analysis where the record shards lie, at a full-scale panic's size: wall time against the
run's length, the master's memory, each host's memory, and the bytes that crossed.

The run: the full-scale panic (``surgeproof plan`` for Upbit: 831,600 req/s) writes ~10^9
records in 20 minutes. Its records are made as ``benchmarks/load/bench_ingest.py`` makes them
(``record_pool``: the martial-law mix of names, groups, kinds and outcomes), spread evenly over
``--span-s`` seconds of intended times, ``--sources`` generator sources. To keep 10^9 records
(40 GB) feasible on one box, one shard file is written and every other source's file is a hard
link of it (regular files, so the reader takes them; the page cache holds one copy): every
source then holds the same records at the same times. On a real fleet each host reads only its
own shard from its own disk.

The hosts: ``ProcessHosts`` (below) runs each host as its own OS process holding the
``ShardAnswerer`` of one or more sources; requests and answers cross as bytes over pipes, and
``send`` returns at once, so every host works at the same time, as separate machines would. The
master (the measuring process) keeps run.json, events, timeline and the names files only.

Measured: wall time of ``analyze_run(run_dir, hosts=...)`` + ``write_analysis``, the master's
peak resident set (VmHWM), each host's, and the bytes that crossed. At ``--check`` sizes the same
run is also analysed in one place (records in the run directory) and the two analysis.json
compared byte for byte (generated_at_utc set equal, the run directory's path replaced), beside
DuckDB's per-second, per-group exact percentiles over the exported Parquet
(``bench_analysis.py``'s peer, one thread).

    flock /tmp/surgeproof-cpu.lock .venv/bin/python benchmarks/analysis/bench_where.py \\
        --check 1e7 --records 1e9 --record
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "benchmarks" / "load"))
sys.path.insert(0, str(HERE))

from surgeproof.analysis.shard_hosts import (  # noqa: E402
    ShardAnswerer,
    ShardHostError,
    ShardHosts,
    Waiter,
)

RESULTS = HERE / "RESULTS.md"
NS = 1_000_000_000
T0_NS = 1_733_230_800_000_000_000  # 2024-12-03T22:00:00+09:00, the martial-law night
CHUNK = 1 << 22
LEVELS = 10


def hwm_kb() -> int:
    """This process's own peak resident set (VmHWM; ru_maxrss carries over fork/exec)."""
    for line in open("/proc/self/status"):  # noqa: SIM115 - read whole, closed by the GC
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def anon_kb() -> int:
    """This process's anonymous resident memory (not the mapped records' page-cache pages)."""
    for line in open("/proc/self/status"):  # noqa: SIM115
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    return 0


# -- the hosts -----------------------------------------------------------------------------


def _host_main(shards: dict[str, str], requests, answers) -> None:
    """One host: answers the master's requests about its shards, one at a time, in order.

    A reader thread drains the request pipe so the master's writes never wait on this host's
    answer being read (no deadlock when both sides send more than a pipe buffer)."""
    answerers = {s: ShardAnswerer(Path(p)) for s, p in shards.items()}
    inbox: queue.Queue = queue.Queue()

    def read() -> None:
        while True:
            try:
                head = json.loads(requests.recv_bytes())
            except EOFError:
                inbox.put(None)
                return
            inbox.put((head, requests.recv_bytes() if head.get("kind") != "bye" else b""))

    threading.Thread(target=read, daemon=True).start()
    busy = 0.0
    peak_anon = anon_kb()
    while True:
        item = inbox.get()
        if item is None:
            return
        head, payload = item
        if head["kind"] == "bye":
            cpu = os.times()
            stats = {"hwm_kb": hwm_kb(), "anon_kb": peak_anon, "busy_s": busy}
            stats["cpu_s"] = cpu.user + cpu.system
            answers.send_bytes(json.dumps({"id": head["id"], "stats": stats}).encode())
            return
        t = time.perf_counter()
        try:
            out, error = answerers[head["source"]].answer(head["kind"], payload), None
        except ShardHostError as exc:
            out, error = b"", str(exc)
        busy += time.perf_counter() - t
        peak_anon = max(peak_anon, anon_kb())
        answers.send_bytes(json.dumps({"id": head["id"], "error": error}).encode())
        answers.send_bytes(out)


_PER_PASS = ("rounds", "seconds", "request_bytes", "answer_bytes")


class ProcessHosts(ShardHosts):
    """Each host an OS process (multiprocessing, spawn) holding the answerers of its sources;
    requests and answers cross as bytes over pipes, and ``send`` never waits for an answer."""

    def __init__(self, shards: Mapping[str, Path], hosts: int) -> None:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.sources = tuple(shards)
        names = sorted(shards)
        self.host_of = {s: i % hosts for i, s in enumerate(names)}
        self._pipes = []
        self._procs = []
        for h in range(hosts):
            mine = {s: str(shards[s]) for s in names if self.host_of[s] == h}
            req_r, req_w = ctx.Pipe(duplex=False)
            ans_r, ans_w = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_host_main, args=(mine, req_r, ans_w), daemon=True)
            proc.start()
            req_r.close()
            ans_w.close()
            self._procs.append(proc)
            self._pipes.append((req_w, ans_r))
        self._next = 0
        self._stash: list[dict[int, tuple[dict, bytes]]] = [{} for _ in range(hosts)]
        self._lock = threading.Lock()
        self.per_pass: dict[str, dict] = {}
        self.sent = {"requests": 0, "request_bytes": 0, "answers": 0, "answer_bytes": 0}

    def run_round(self, scan, p, blocks, first) -> None:
        """A round, as the master runs it, with what it cost counted per pass."""
        before = dict(self.sent)
        t = time.perf_counter()
        super().run_round(scan, p, blocks, first)
        row = self.per_pass.setdefault(type(p).__name__, dict.fromkeys(_PER_PASS, 0))
        row["rounds"] += 1
        row["seconds"] += time.perf_counter() - t
        row["request_bytes"] += self.sent["request_bytes"] - before["request_bytes"]
        row["answer_bytes"] += self.sent["answer_bytes"] - before["answer_bytes"]

    def send(self, source: str, kind: str, payload: bytes) -> Waiter:
        h = self.host_of[source]
        with self._lock:
            self._next += 1
            rid = self._next
        req_w, _ = self._pipes[h]
        req_w.send_bytes(json.dumps({"id": rid, "source": source, "kind": kind}).encode())
        req_w.send_bytes(payload)
        self.sent["requests"] += 1
        self.sent["request_bytes"] += len(payload)
        return lambda: self._wait(h, rid)

    def _wait(self, h: int, rid: int) -> bytes:
        stash = self._stash[h]
        _, ans_r = self._pipes[h]
        while rid not in stash:
            try:
                head = json.loads(ans_r.recv_bytes())
                body = ans_r.recv_bytes()
            except EOFError:
                raise ShardHostError(f"host {h} ended without answering") from None
            stash[head["id"]] = (head, body)
        head, body = stash.pop(rid)
        if head["error"] is not None:
            raise ShardHostError(head["error"])
        self.sent["answers"] += 1
        self.sent["answer_bytes"] += len(body)
        return body

    def close(self) -> list[dict]:
        """Each host's own figures (peak memory, CPU), and the hosts ended."""
        stats = []
        for (req_w, ans_r), proc in zip(self._pipes, self._procs, strict=True):
            req_w.send_bytes(json.dumps({"id": 0, "kind": "bye"}).encode())
            stats.append(json.loads(ans_r.recv_bytes())["stats"])
            proc.join(timeout=30)
            req_w.close()
            ans_r.close()
        return stats


# -- the run -------------------------------------------------------------------------------


def write_shard(path: Path, records: int, span_s: int, seed: int = 0) -> None:
    """``records`` of the martial-law mix (bench_ingest's pool) spread evenly over ``span_s``
    seconds of intended times, in time order as the recorder writes them."""
    from bench_ingest import POOL, record_pool

    pool = record_pool(seed)
    with open(path, "wb") as f:
        for lo in range(0, records, CHUNK):
            idx = np.arange(lo, min(lo + CHUNK, records), dtype=np.int64)
            out = pool[idx % POOL]
            second_ns = T0_NS + (idx * span_s // records) * NS
            for col in ("intended_ns", "sent_ns", "end_ns"):
                v = out[col]
                out[col] = np.where(v > 0, v + second_ns, 0)
            out.tofile(f)


def write_run(run_dir: Path, sources: list[str], span_s: int) -> None:
    """The run directory the master keeps (run.json, events, timeline, names): ten rising
    levels over the span, a timeline row a second per source."""
    from bench_ingest import NAMES

    from surgeproof.rundir.schema import NAMES_SUFFIX, RECORDS_DIR
    from surgeproof.rundir.writer import JsonlLog, write_meta

    (run_dir / RECORDS_DIR).mkdir(parents=True)
    for s in sources:
        names = JsonlLog(run_dir / RECORDS_DIR / f"{s}{NAMES_SUFFIX}", run_dir)
        for i, (name, group, _kind, _share) in enumerate(NAMES):
            names.append({"id": i, "name": name, "group": group})
        names.close()
    end_ns = T0_NS + span_s * NS
    events = JsonlLog(run_dir / "events.jsonl")
    events.append({"t_ns": T0_NS, "type": "run_start"})
    step = span_s // LEVELS
    for k in range(LEVELS):
        users = 54_000 * (k + 1)
        events.append(
            {
                "t_ns": T0_NS + (k + 1) * step * NS,
                "type": "level",
                "start_ns": T0_NS + (k * step + 5) * NS,
                "end_ns": T0_NS + (k + 1) * step * NS,
                "target_users": users,
                "label": f"level-{k + 1}",
            }
        )
    events.append({"t_ns": end_ns, "type": "run_end", "status": "complete"})
    events.close()
    timeline = JsonlLog(run_dir / "timeline.jsonl")
    for sec in range(span_s):
        users = 54_000 * (min(sec // step, LEVELS - 1) + 1)
        for s in sources:
            timeline.append(
                {
                    "t_ns": T0_NS + sec * NS + NS // 2,
                    "source": s,
                    "target_users": users,
                    "active_users": users / len(sources),
                    "cpu_percent": 60.0,
                    "late_sends": 0,
                    "missed": 0,
                    "inflight": 900,
                }
            )
    timeline.close()
    started = datetime.fromtimestamp(T0_NS / NS, UTC)
    ended = datetime.fromtimestamp(end_ns / NS, UTC)
    write_meta(
        run_dir,
        {
            "run_id": "bench-where",
            "status": "complete",
            "partial_reason": None,
            "t0_ns": T0_NS,
            "started_at_utc": started.isoformat(),
            "ended_at_utc": ended.isoformat(),
            "scenario_name": "martial-law-2024-12-03",
            "profile_name": None,
            "load_model": "open",
            "scale": {"time_scale": 1.0, "user_scale": 1.0, "assumption": "full scale"},
            "target": {"url": "http://127.0.0.1:1", "embedded": True, "config": {}},
            "workers": {"expected": len(sources), "seen": sources, "lost": []},
        },
    )


def make(work: Path, records: int, sources: int, span_s: int) -> tuple[Path, Path, list[str]]:
    """The master's run directory and the hosts' shard folder (one file, hard-linked)."""
    from surgeproof.rundir.schema import RECORDS_DIR, RECORDS_SUFFIX

    names = [f"worker-{i:02d}" for i in range(sources)]
    per = records // sources
    run_dir, host_dir = work / "run", work / "hosts"
    (host_dir / RECORDS_DIR).mkdir(parents=True)
    first = host_dir / RECORDS_DIR / f"{names[0]}{RECORDS_SUFFIX}"
    write_shard(first, per, span_s)
    for s in names[1:]:
        os.link(first, host_dir / RECORDS_DIR / f"{s}{RECORDS_SUFFIX}")
    write_run(run_dir, names, span_s)
    return run_dir, host_dir, names


# -- the measurements (each in its own process: its VmHWM is its own) ----------------------


def measure_main(args) -> int:
    from surgeproof.analysis.run import analyze_run, write_analysis
    from surgeproof.analysis.shard_hosts import shard_paths

    run_dir = Path(args.run_dir)
    hosts = None
    if args.host_dir:
        sources = args.sources.split(",")
        hosts = ProcessHosts(shard_paths(Path(args.host_dir), sources), args.hosts)
    t = time.perf_counter()
    doc = analyze_run(run_dir, hosts=hosts, memory=args.memory, jobs=args.jobs)
    write_analysis(run_dir, doc)
    wall = time.perf_counter() - t
    cpu = os.times()
    out = {
        "seconds": wall,
        "hwm_kb": hwm_kb(),
        "cpu_s": cpu.user + cpu.system,
        "records": doc["input"]["records"]["total"],
        "windows": len(doc["timeseries"]["start_ns"]),
    }
    if hosts is not None:
        out["sent"] = hosts.sent
        out["per_pass"] = hosts.per_pass
        out["hosts"] = hosts.close()
    print(json.dumps(out), flush=True)
    return 0


def measure(run_dir: Path, memory: int, jobs: str, host_dir=None, sources=(), hosts=2) -> dict:
    cmd = [sys.executable, __file__, "_measure", "--run-dir", str(run_dir)]
    cmd += ["--memory", str(memory), "--jobs", jobs]
    if host_dir is not None:
        cmd += ["--host-dir", str(host_dir), "--sources", ",".join(sources)]
        cmd += ["--hosts", str(hosts)]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, timeout=7200)
    return json.loads(out.stdout.strip().splitlines()[-1])


def normalised(run_dir: Path) -> str:
    """analysis.json with its time of writing and its run directory's path made equal."""
    doc = json.loads((run_dir / "analysis.json").read_text())
    doc["generated_at_utc"] = "-"
    return json.dumps(doc, sort_keys=True, indent=1).replace(str(run_dir), "RUN")


def one_size(args, work: Path, records: int, check: bool) -> dict:
    """Make a run of ``records``, analyse it where its shards lie (and, if ``check``, in one
    place and with DuckDB); delete it."""
    from surgeproof.rundir.schema import RECORDS_DIR

    t = time.perf_counter()
    run_dir, host_dir, sources = make(work, records, args.sources, args.span_s)
    made = time.perf_counter() - t
    shard_bytes = (host_dir / RECORDS_DIR / f"{sources[0]}.bin").stat().st_size
    os.sync()
    row = {"records": records, "make_s": made, "shard_bytes": shard_bytes * len(sources)}
    row["memory"] = args.memory
    row["where"] = measure(run_dir, args.memory, "auto", host_dir, sources, args.hosts)
    print(f"{records:,} where the shards lie: {json.dumps(row['where'])}", flush=True)
    if check:
        here = work / "here"
        shutil.copytree(run_dir, here)
        (here / "analysis.json").unlink()
        for s in sources:
            name = f"{s}.bin"
            os.link(host_dir / RECORDS_DIR / name, here / RECORDS_DIR / name)
        row["here"] = measure(here, args.memory, "auto")
        print(f"{records:,} in one place: {json.dumps(row['here'])}", flush=True)
        row["identical"] = normalised(here) == normalised(run_dir)
        print(f"analysis.json byte-identical: {row['identical']}", flush=True)
        if args.duckdb:
            from bench_analysis import DUCKDB, export_records
            from bench_analysis import measure as measure_peer

            t = time.perf_counter()
            export_records(here)
            row["export_s"] = time.perf_counter() - t
            os.sync()
            row["duckdb"] = measure_peer(DUCKDB, here)
            print(f"DuckDB: {json.dumps(row['duckdb'])}", flush=True)
        shutil.rmtree(here)
    shutil.rmtree(run_dir)
    shutil.rmtree(host_dir)
    return row


def machine_line() -> str:
    from bench_ingest import machine_line as line

    return line()


def section(rows: list[dict], args, head: str) -> str:
    def mib(kb: int) -> str:
        return f"{kb / 1024:,.0f} MiB"

    out = [
        f"\n## Analysis where the shards lie (issue 23 item 3), {args.date}\n",
        head,
        "",
        f"`{args.command}` under the shared heavy lock. The run: records made as "
        "`benchmarks/load/bench_ingest.py` makes them (the martial-law mix of names, groups, "
        f"kinds and outcomes), {args.sources} generator sources, intended times spread evenly "
        f"over {args.span_s:,} s (the full-scale panic's 20 minutes: `surgeproof plan` for Upbit "
        "says 831,600 req/s, ~10^9 records), ten rising levels. One shard file is written and "
        "every other source's file is a hard link of it (so the page cache holds one copy and "
        "every source holds the same records at the same times); on a real fleet each host "
        "reads only its own shard from its own disk. Hosts: "
        f"{args.hosts} OS processes (multiprocessing, spawn), each holding the "
        "`ShardAnswerer`s of its sources, requests and answers crossing as bytes over pipes; "
        "the master keeps run.json, events, timeline and the names files only. "
        "`--memory` is the analysis memory (default 1 GiB). Host and master run on the same 2 "
        "cores, so the hosts' work is what 2 cores do, not what a fleet of hosts would.",
        "Host peak RSS includes the resident pages of its mapped shard files (the same "
        "hard-linked file mapped once per source); anon is its own memory, sampled after "
        "each answer.",
        "",
        "| records | `--memory` | span | where the shards lie: wall (analyze + write) | vs span "
        "| master peak RSS | hosts' peak RSS (each; anon) | host CPU (sum) | crossed (requests / "
        "answers) | one place: wall | one place: peak RSS | byte-identical | DuckDB "
        "quantile_cont (percentiles only, 1 thread) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        w = r["where"]
        hosts = ", ".join(f"{mib(h['hwm_kb'])} ({mib(h['anon_kb'])})" for h in w["hosts"])
        host_cpu = sum(h["cpu_s"] for h in w["hosts"])
        sent = w["sent"]
        crossed = (
            f"{sent['requests']:,} / {sent['answers']:,}: "
            f"{sent['request_bytes'] / 2**20:,.1f} / {sent['answer_bytes'] / 2**20:,.1f} MiB"
        )
        here, duck = r.get("here"), r.get("duckdb")
        one = ["-", "-", "-"]
        if here:
            same = "yes" if r["identical"] else "**no**"
            one = [f"{here['seconds']:,.1f} s", mib(here["hwm_kb"]), same]
        peer = f"{duck['seconds']:,.1f} s, {mib(duck['maxrss_kb'])}" if duck else "-"
        out.append(
            f"| {w['records']:,} | {r['memory'] / 2**20:,.0f} MiB | {args.span_s:,} s "
            f"| {w['seconds']:,.1f} s "
            f"| {w['seconds'] / args.span_s:.2f}x | {mib(w['hwm_kb'])} | {hosts} "
            f"| {host_cpu:,.0f} s | {crossed} | {' | '.join(one)} | {peer} |"
        )
    for r in rows:
        per = r["where"].get("per_pass")
        if not per:
            continue
        busy = sorted(per.items(), key=lambda kv: -kv[1]["seconds"])[:3]
        out.append(
            f"\nRounds at {r['records']:,} records (`--memory` {r['memory'] / 2**20:,.0f} MiB; "
            f"each round asks each of the {args.sources} sources): "
            + "; ".join(
                f"{name} {v['rounds']:,} rounds, {v['seconds']:,.0f} s, "
                f"{v['request_bytes'] / 2**20:,.0f} MiB asked, "
                f"{v['answer_bytes'] / 2**20:,.0f} MiB answered"
                for name, v in busy
            )
            + "."
        )
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="role")
    m = sub.add_parser("_measure")
    m.add_argument("--run-dir", required=True)
    m.add_argument("--host-dir")
    m.add_argument("--sources", default="")
    m.add_argument("--hosts", type=int, default=2)
    m.add_argument("--memory", type=int, default=1 << 30)
    m.add_argument("--jobs", default="auto")
    ap.add_argument("--check", default="1e7", help="sizes also analysed in one place")
    ap.add_argument("--records", default="1e9", help="sizes analysed only where they lie")
    ap.add_argument("--sources", type=int, default=10, help="generator sources (shards)")
    ap.add_argument("--hosts", type=int, default=2, help="host processes the shards lie on")
    ap.add_argument("--span-s", type=int, default=1200, help="the run's length (intended times)")
    ap.add_argument("--memory", type=int, default=1 << 30, help="analysis memory (bytes)")
    ap.add_argument("--no-duckdb", dest="duckdb", action="store_false")
    ap.add_argument("--work", default=None, help="folder for the temporary run (/tmp/bwhere-*)")
    ap.add_argument("--record", action="store_true", help=f"append the table to {RESULTS}")
    args = ap.parse_args()
    if args.role == "_measure":
        return measure_main(args)
    head = machine_line()
    print(head, flush=True)
    args.date = time.strftime("%Y-%m-%d")
    args.command = " ".join(["python benchmarks/analysis/bench_where.py", *sys.argv[1:]])
    sizes = [(int(float(x)), True) for x in args.check.split(",") if x]
    sizes += [(int(float(x)), False) for x in args.records.split(",") if x]
    rows = []
    work = Path(tempfile.mkdtemp(prefix="bwhere-", dir=args.work))
    try:
        for records, check in sizes:
            rows.append(one_size(args, work, records, check))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = section(rows, args, head)
    print(text)
    if args.record:
        with RESULTS.open("a") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
