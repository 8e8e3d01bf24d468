"""Master ingest benchmark, loopback only, bounded: what one conductor absorbs from a fleet.

Synthetic workers speak the real worker protocol — each one a real Locust ``WorkerRunner``
(its own zmq identity, ``client_ready``/``ack``, heartbeats every 0.5 s, Locust's ``stats``
report every 3 s) sending surgeproof's own messages over the same authenticated channel as
``surgeproof worker`` (the fleet-key handshake, then ready, a batch every second on the
wall-clock second, done, each sealed with its session key) — and ship realistic 40-byte records (the
names, kinds, outcomes and latencies of a martial-law run; no HTTP) at rising rates. Against
them runs the real conductor side in its own process: a Locust master runner with surgeproof's
``WorkerFleet`` and ``Collector`` writing a real run directory, and optionally the live
Prometheus tally (``--live``) observing it, as ``surgeproof run --metrics-port`` does.

Per rate step (measured over the step less its first ``--warmup`` seconds):
  offered   records/s the workers shipped (their own count of what they sent);
  absorbed  records/s the master appended to records/<source>.bin (in shard mode: records/s
            whose per-second counts reached it);
  lag       per batch, from the worker's send (the batch's sample ``t_ns``, stamped just before
            the send) to the master having appended and flushed it to the run directory (the
            Collector's observers run after the write): p50, p99 and max over the batches
            shipped in the step; a batch still unwritten at the end counts with lag = end - send;
  CPU       the master process's CPU time over the step / wall time (1.0 = one core busy);
  RSS       the master process's resident memory at the end of the step (max over the step).

    .venv/bin/python benchmarks/load/bench_ingest.py --record
    .venv/bin/python benchmarks/load/bench_ingest.py --rates 50000,200000,400000 --step-s 6
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psutil

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
PY = sys.executable
DEFAULT_RATES = "25000,50000,100000,200000,300000,400000,500000,600000"
#: What a martial-law run's records look like: (name, group, kind, share of records).
NAMES = [
    ("WS connect", "websocket", 1, 0.02),
    ("WS subscribe", "websocket", 2, 0.02),
    ("POST /v1/session", "login", 0, 0.06),
    ("GET /v1/ticker", "quotation", 0, 0.38),
    ("GET /v1/orderbook", "quotation", 0, 0.26),
    ("GET /v1/accounts", "account", 0, 0.04),
    ("POST /v1/orders", "orders", 0, 0.10),
    ("DELETE /v1/order", "orders", 0, 0.04),
    ("WS gap", "websocket", 3, 0.08),
]
#: Outcome shares of HTTP records during a surge: ok, 429, 5xx, timeouts, missed, backlogged.
OUTCOMES = [(0, 0.86), (2, 0.05), (4, 0.04), (5, 0.02), (7, 0.01), (9, 0.02)]
POOL = 1 << 17


def machine_line() -> str:
    mem = psutil.virtual_memory().total / 2**30
    return (
        f"Machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB, "
        f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f} at the start "
        "(other engineers share the machine: compare within a table, not across runs)."
    )


# -- the records ---------------------------------------------------------------------------


def record_pool(seed: int) -> np.ndarray:
    """POOL realistic records with times relative to 0 (shifted to each second when shipped)."""
    from surgeproof.rundir.schema import RECORD_DTYPE, Kind, Outcome

    rng = np.random.default_rng(seed)
    rec = np.zeros(POOL, dtype=RECORD_DTYPE)
    shares = np.array([s for *_, s in NAMES])
    name_id = rng.choice(len(NAMES), POOL, p=shares / shares.sum())
    kind = np.array([k for _, _, k, _ in NAMES])[name_id]
    codes, p = zip(*OUTCOMES, strict=True)
    outcome = rng.choice(np.array(codes), POOL, p=np.array(p) / sum(p))
    outcome[kind != Kind.HTTP] = Outcome.OK
    intended = np.sort(rng.integers(0, 1_000_000_000, POOL))
    lag = rng.exponential(2e6, POOL).astype(np.int64)
    service = (rng.lognormal(np.log(30e6), 1.0, POOL)).astype(np.int64)
    unsent = np.isin(outcome, [Outcome.MISSED, Outcome.BACKLOGGED])
    rec["intended_ns"] = intended
    rec["sent_ns"] = np.where(unsent, 0, intended + lag)
    rec["end_ns"] = np.where(unsent, 0, intended + lag + service)
    rec["name_id"] = name_id
    status = {0: 200, 2: 429, 4: 503, 5: 0, 7: 0, 9: 0}
    rec["status"] = np.vectorize(status.get)(outcome)
    rec["status"][kind == Kind.WS_CONNECT] = 101
    rec["outcome"] = outcome
    rec["kind"] = kind
    rec["user"] = rng.integers(0, 12_000, POOL)
    rec["concurrency"] = 11_250
    return rec


class Batches:
    """Consecutive slices of the pool, moved to the second they are shipped for."""

    def __init__(self, seed: int) -> None:
        self.pool = record_pool(seed)
        self.at = 0

    def take(self, n: int, second_ns: int) -> bytes:
        idx = (self.at + np.arange(n)) % POOL
        self.at = (self.at + n) % POOL
        out = self.pool[idx]
        for col in ("intended_ns", "sent_ns", "end_ns"):
            v = out[col]
            v[v > 0] += second_ns
        return out.tobytes()


# -- the synthetic workers -----------------------------------------------------------------


def workers_main(args) -> int:
    """``count`` synthetic workers in this process, each a Locust WorkerRunner of its own."""
    import gevent
    from locust import User, constant
    from locust.env import Environment
    from locust.event import Events

    from surgeproof.load import messages
    from surgeproof.load.fleet_key import find_fleet_key
    from surgeproof.load.liveness import tune_locust_heartbeat
    from surgeproof.load.record_shard import RecordShard, choose_place
    from surgeproof.load.worker import ShardSender
    from surgeproof.load.worker_channel import WorkerChannel, create_gated_runner

    class Idle(User):
        wait_time = constant(1)

    tune_locust_heartbeat()
    schedule = [(float(r), float(d)) for r, d in (x.split(":") for x in args.schedule.split(","))]
    start_s = args.start_ns / 1e9
    end_s = start_s + sum(d for _, d in schedule)
    batches = Batches(seed=args.seed)
    log = open(args.out, "w")  # noqa: SIM115 - closed at the end
    workers = []

    key = find_fleet_key(None)  # the orchestrator's key, in the environment
    assert key is not None

    def refused(r) -> None:
        raise SystemExit(f"bench_ingest: the master did not prove the fleet key: {r}")

    class Synthetic:
        def __init__(self) -> None:
            env = Environment(user_classes=[Idle], events=Events())
            self.runner = create_gated_runner(env, "127.0.0.1", args.port)
            # The same authenticated channel as ``surgeproof worker``: handshake, sealed messages.
            self.link = WorkerChannel(self.runner, key.secret, refused)
            self.link.install()
            self.me = {"source": messages.source_of(self.runner.client_id)}
            self.ready = False
            self.finished = False
            self.names_sent = False
            self.carry = 0.0
            self.shipped = 0
            self.shard = None
            self.sending = None
            self.sender = ShardSender(self.link, self.me, {"t": time.monotonic() + 1e6})
            self.link.on(messages.SETUP, self.on_setup)
            self.link.on(messages.FINISH, self.on_finish)
            self.link.on(messages.SHARD_ACK, self.sender.on_ack)
            self.link.hello()

        @property
        def source(self) -> str:
            return self.me["source"]

        def on_setup(self, d) -> None:
            self.me["source"] = d["source"]
            place = choose_place(d, args.shard_dir)
            if place is not None:  # the real worker's shard: same class, same messages
                bounds = d.get("tally_buckets_s")
                self.shard = RecordShard(place, self.source, str(d["run_id"]), bounds)
            self.ready = True
            self.link.send(
                messages.READY,
                {
                    "pid": os.getpid(),
                    "host": "bench",
                    "accounts": 0,
                    "shard": place.describe() if place else None,
                },
            )

        def on_finish(self, _d) -> None:
            self.finished = True
            self.ship(0, b"", final=True)
            info = {"shipped": self.shipped}
            if self.shard is not None:
                self.shard.close()
                info["shard"] = self.shard.summary()
            self.link.send(messages.DONE, info)
            if self.shard is not None and not self.shard.place.shared:
                self.sending = gevent.spawn(self.sender.send, self.shard)

        def ship(self, n: int, raw: bytes, final: bool = False) -> None:
            names = {}
            if not self.names_sent:
                names = {i: (n_, g) for i, (n_, g, _k, _s) in enumerate(NAMES)}
                self.names_sent = True
            self.shipped += n
            sample = None
            if not final:
                sample = {
                    "t_ns": time.time_ns(),
                    "source": self.source,
                    "target_users": 540_000,
                    "active_users": 540_000 // args.total_workers,
                    "cpu_percent": 80.0,
                    "late_sends": 0,
                    "missed": 0,
                    "backlogged": 0,
                    "inflight": 900,
                    "sent": n,
                    "errors": n // 10,
                    "phase": "bench",
                    "ws_sessions": 2000,
                }
            if self.shard is not None:
                msg = self.shard.write(raw, names)
            else:
                declared = [[i, n_, g] for i, (n_, g) in names.items()]
                msg = {"raw": raw, "names": declared}
            self.link.send(messages.BATCH, {**msg, "sample": sample})

    for _ in range(args.count):
        workers.append(Synthetic())
    while not all(w.ready for w in workers):
        gevent.sleep(0.05)
    print(json.dumps({"ready": len(workers)}), flush=True)

    def rate_at(t: float) -> float:
        acc = start_s
        for rate, dur in schedule:
            if t < acc + dur:
                return rate
            acc += dur
        return 0.0

    next_t = max(time.time() // 1 + 1, start_s // 1 + 1)
    while time.time() < end_s + 1 and not any(w.finished for w in workers):
        gevent.sleep(max(0.0, next_t - time.time()))
        second_ns = int((next_t - 1) * 1e9)
        per_worker = rate_at(next_t - 0.5) / args.total_workers
        shipped = 0
        for w in workers:
            w.carry += per_worker
            n = int(w.carry)
            w.carry -= n
            w.ship(n, batches.take(n, second_ns) if n else b"")
            shipped += n
        log.write(json.dumps({"t": next_t, "shipped": shipped, "done_s": time.time()}) + "\n")
        log.flush()
        next_t += 1
    # Wait for the master's FINISH (it ends the run), bounded.
    deadline = time.time() + args.finish_wait_s
    while not all(w.finished for w in workers) and time.time() < deadline:
        gevent.sleep(0.1)
    # A real worker stays until its master quits it: keep sending shards until they are sent.
    gevent.joinall([w.sending for w in workers if w.sending], timeout=args.finish_wait_s)
    gevent.sleep(0.5)  # let the last messages leave
    log.write(json.dumps({"totals": {w.source: w.shipped for w in workers}}) + "\n")
    log.close()
    for w in workers:
        w.runner.quit()
    return 0


# -- the master ----------------------------------------------------------------------------


def master_main(args) -> int:
    """The real conductor side: Locust master runner, WorkerFleet, Collector, a run directory."""
    import gevent
    import locust
    from locust import User, constant
    from locust.argument_parser import get_parser
    from locust.env import Environment

    from surgeproof.load.collector import Collector
    from surgeproof.load.fleet_key import find_fleet_key
    from surgeproof.load.liveness import tune_locust_heartbeat
    from surgeproof.load.options import RunOptions
    from surgeproof.load.worker_fleet import WorkerFleet

    class Idle(User):
        wait_time = constant(1)

    tune_locust_heartbeat()
    run_dir = Path(args.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    collector = Collector(run_dir)
    written: list[tuple[int, int, int]] = []  # (written_ns, shipped_ns, records)

    class LagProbe:
        """Observes the collector: called after each batch is appended and flushed."""

        def on_event(self, event) -> None:
            pass

        def on_batch(self, source, raw, names, sample) -> None:
            if sample is not None:
                written.append((time.time_ns(), int(sample["t_ns"]), int(sample["sent"])))

        def on_counts(self, source, records, tally, sample) -> None:
            # In shard mode the records are already on disk (the worker wrote them before it
            # sent this): absorbed = their counts reached the master.
            if sample is not None:
                written.append((time.time_ns(), int(sample["t_ns"]), int(records)))

    if args.live:
        from surgeproof.load.live_metrics import LiveTally

        tally = LiveTally(workers_expected=args.workers)
        collector.observers.append(tally)
        collector.tally_bounds_s = tally.bounds_s
    collector.observers.append(LagProbe())
    options = get_parser(default_config_files=[]).parse_args(["--headless"])
    env = Environment(user_classes=[Idle], parsed_options=options, events=locust.events)
    opts = RunOptions(
        scenario="bench",
        expect_workers=args.workers,
        record_shards=args.mode,
        fleet_key=find_fleet_key(None),  # the orchestrator's key, in the environment
    )
    fleet = WorkerFleet(opts, collector, run_dir / "server" / "workers.log")
    runner = env.create_master_runner("127.0.0.1", fleet.master_port())
    print(json.dumps({"port": runner.master_bind_port}), flush=True)
    setup = {"url": "http://127.0.0.1:9", "timeout_s": 3.0}
    fleet.start(runner, setup, lambda: None)
    print(json.dumps({"ready": len(fleet.seen)}), flush=True)
    stop_at = args.end_ns / 1e9
    while time.time() < stop_at:
        gevent.sleep(0.2)
        fleet.tick(runner)
    t_finish = time.time_ns()
    fleet.finish(runner)
    finished = time.time_ns()
    runner.quit()
    counts = collector.record_counts()
    collector.close()
    np.save(run_dir / "lag.npy", np.array(written, dtype=np.int64).reshape(-1, 3))
    print(
        json.dumps(
            {
                "finished_ns": finished,
                "finish_s": (finished - t_finish) / 1e9,
                "records": sum(counts.values()),
                "sources": counts,
                "missing_shards": len(fleet.meta(counts)["missing_shards"]),
                # Every figure assumes the master took every message: refusals say it did not.
                "refused": fleet.refusals.messages,
            }
        ),
        flush=True,
    )
    return 0


# -- the orchestration ---------------------------------------------------------------------


def _lines(proc: subprocess.Popen, want: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"process ended before saying {want!r}")
        with contextlib.suppress(ValueError):
            d = json.loads(line)
            if want in d:
                return d
    raise RuntimeError(f"no {want!r} within {timeout:.0f}s")


def run_series(args, mode: str, live: bool, shard_dir: bool, work: Path) -> list[dict]:
    """One master, the synthetic fleet, the rising rates; one row per rate."""
    rates = [float(r) for r in args.rates.split(",")]
    run_dir = work / f"run-{mode}{'-live' if live else ''}"
    shutil.rmtree(run_dir, ignore_errors=True)
    shutil.rmtree(work / "shards", ignore_errors=True)
    procs = args.procs
    per_proc = [args.workers // procs + (i < args.workers % procs) for i in range(procs)]
    lead_s = 10.0 + args.workers * 0.15  # connect + setup of every worker before the first step
    start_ns = time.time_ns() + int(lead_s * 1e9)
    end_ns = start_ns + int(len(rates) * args.step_s * 1e9) + int(args.drain_s * 1e9)
    master_cmd = [PY, __file__, "_master", "--run-dir", str(run_dir)]
    master_cmd += ["--workers", str(args.workers), "--end-ns", str(end_ns)]
    master_cmd += ["--mode", mode]
    if live:
        master_cmd.append("--live")
    # Master and synthetic workers prove one fleet key, as a real fleet does.
    env = {**os.environ, "SURGEPROOF_FLEET_KEY": secrets.token_hex(32)}
    master = subprocess.Popen(master_cmd, stdout=subprocess.PIPE, text=True, env=env)
    workers: list[subprocess.Popen] = []
    samples: list[tuple[float, float, int]] = []
    try:
        port = _lines(master, "port", 30)["port"]
        schedule = ",".join(f"{r:g}:{args.step_s:g}" for r in rates)
        for i, count in enumerate(per_proc):
            cmd = [PY, __file__, "_workers", "--port", str(port), "--count", str(count)]
            cmd += ["--total-workers", str(args.workers), "--start-ns", str(start_ns)]
            cmd += ["--schedule", schedule, "--seed", str(i), "--out", str(work / f"w{i}.jsonl")]
            cmd += ["--finish-wait-s", str(args.drain_s + 30)]
            if shard_dir:
                cmd += ["--shard-dir", str(work / "shards")]
            workers.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env))
        for w in workers:
            _lines(w, "ready", lead_s + 30)
        _lines(master, "ready", lead_s + 30)
        mp = psutil.Process(master.pid)
        while master.poll() is None and time.time_ns() < end_ns + 40e9:
            with contextlib.suppress(psutil.Error):
                t = mp.cpu_times()
                samples.append((time.time(), t.user + t.system, mp.memory_info().rss))
            time.sleep(0.25)
        summary = _lines(master, "finished_ns", 60)
        for w in workers:
            w.wait(timeout=60)
    finally:
        for p in [master, *workers]:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
    shipped = []
    for i in range(procs):
        for line in (work / f"w{i}.jsonl").read_text().splitlines():
            d = json.loads(line)
            if "t" in d:
                shipped.append((d["t"], d["shipped"]))
    lag = np.load(run_dir / "lag.npy")
    rows = []
    first = start_ns / 1e9
    for k, rate in enumerate(rates):
        lo = first + k * args.step_s + args.warmup_s
        hi = first + (k + 1) * args.step_s
        span = hi - lo
        offered = sum(n for t, n in shipped if lo <= t < hi) / span
        ship_s = lag[:, 1] / 1e9
        mine = lag[(ship_s >= lo) & (ship_s < hi)]
        absorbed_mask = (lag[:, 0] / 1e9 >= lo) & (lag[:, 0] / 1e9 < hi)
        absorbed = lag[absorbed_mask, 2].sum() / span
        lags = (mine[:, 0] - mine[:, 1]) / 1e9
        sent_in_step = sum(n for t, n in shipped if lo <= t < hi)
        missing = sent_in_step - int(mine[:, 2].sum())
        if missing > 0:  # batches shipped in the step that never reached the run directory
            lags = np.append(lags, summary["finished_ns"] / 1e9 - hi)
        cpu = [s for s in samples if lo <= s[0] <= hi]
        cores = (cpu[-1][1] - cpu[0][1]) / (cpu[-1][0] - cpu[0][0]) if len(cpu) > 1 else 0.0
        rows.append(
            {
                "rate": rate,
                "offered": offered,
                "absorbed": absorbed,
                "lag_p50": float(np.percentile(lags, 50)) if len(lags) else float("nan"),
                "lag_p99": float(np.percentile(lags, 99)) if len(lags) else float("nan"),
                "lag_max": float(lags.max()) if len(lags) else float("nan"),
                "cpu": cores,
                "rss_mib": max((s[2] for s in cpu), default=0) / 2**20,
                "unwritten": max(missing, 0),
            }
        )
    rows.append(
        {
            "total_records": summary["records"],
            "run_dir_bytes": _du(run_dir),
            "finish_s": summary["finish_s"],
            "missing_shards": summary["missing_shards"],
            "refused": summary["refused"],
            "shipped": sum(n for _, n in shipped),
        }
    )
    return rows


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def table(title: str, rows: list[dict]) -> str:
    out = [
        f"**{title}**",
        "",
        "| rate asked (rec/s) | offered (rec/s) | absorbed (rec/s) | lag p50 (s) | lag p99 (s) "
        "| lag max (s) | master CPU (cores) | master RSS (MiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "rate" not in r:
            continue
        out.append(
            f"| {r['rate']:,.0f} | {r['offered']:,.0f} | {r['absorbed']:,.0f} "
            f"| {r['lag_p50']:.3f} | {r['lag_p99']:.3f} | {r['lag_max']:.3f} "
            f"| {r['cpu']:.2f} | {r['rss_mib']:,.0f} |"
        )
    tail = rows[-1]
    out.append("")
    out.append(
        f"{tail['shipped']:,} records shipped, {tail['total_records']:,} in the run directory "
        f"({tail['run_dir_bytes'] / 2**20:,.0f} MiB); the end of the run (FINISH to every "
        f"worker's last batch{', shards gathered' if 'gather' in title else ''}) took "
        f"{tail['finish_s']:.1f} s; shards missing: {tail['missing_shards']}; messages "
        f"refused by the master: {tail['refused']}."
    )
    return "\n".join(out)


SERIES = {
    "master": ("master", False, False, "every record through the master, no live metrics"),
    "master-live": ("master", True, False, "every record through the master, live metrics on"),
    "shards-live": (
        "local",
        True,
        False,
        "workers write their shards in the run directory and send counts, live metrics on",
    ),
    "gather-live": (
        "local",
        True,
        True,
        "workers keep their shards in their own --shard-dir and send counts, live metrics on; "
        "shards gathered over the worker channel at the end",
    ),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="role")
    m = sub.add_parser("_master")
    m.add_argument("--run-dir", required=True)
    m.add_argument("--workers", type=int, required=True)
    m.add_argument("--end-ns", type=int, required=True)
    m.add_argument("--live", action="store_true")
    m.add_argument("--mode", default="master")
    w = sub.add_parser("_workers")
    for name in ("--port", "--count", "--total-workers", "--start-ns", "--seed"):
        w.add_argument(name, type=int, required=True)
    w.add_argument("--schedule", required=True)
    w.add_argument("--out", required=True)
    w.add_argument("--finish-wait-s", type=float, default=60)
    w.add_argument("--shard-dir")
    ap.add_argument("--rates", default=DEFAULT_RATES, help="records/s per step, comma-separated")
    ap.add_argument("--workers", type=int, default=48, help="synthetic workers (zmq identities)")
    ap.add_argument("--procs", type=int, default=4, help="processes the workers are spread over")
    ap.add_argument("--step-s", type=float, default=10.0)
    ap.add_argument("--warmup-s", type=float, default=3.0)
    ap.add_argument("--drain-s", type=float, default=15.0, help="after the last step")
    ap.add_argument("--series", default=",".join(SERIES), help=f"of {', '.join(SERIES)}")
    ap.add_argument("--record", action="store_true", help=f"append the tables to {RESULTS}")
    args = ap.parse_args()
    if args.role == "_master":
        return master_main(args)
    if args.role == "_workers":
        return workers_main(args)
    rates = [float(r) for r in args.rates.split(",")]
    if max(rates) * args.step_s > 50_000_000:
        raise SystemExit("bench_ingest: keep a step under 50M records (disk)")
    started = datetime.now(UTC).isoformat(timespec="seconds")
    head = machine_line()
    sections = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        for key in args.series.split(","):
            mode, live, shard_dir, title = SERIES[key]
            rows = run_series(args, mode, live, shard_dir, Path(tmp))
            text = table(f"{key}: {title}", rows)
            print(text + "\n", flush=True)
            sections.append(text)
    argv = " ".join(sys.argv[1:])
    body = (
        f"\n## Master ingest: synthetic workers at rising rates, {started}\n\n{head}\n\n"
        f"{args.workers} synthetic workers (real Locust WorkerRunners, surgeproof's messages) in "
        f"{args.procs} processes, {args.step_s:g} s per rate, measured over the last "
        f"{args.step_s - args.warmup_s:g} s of each; the master (Locust master runner, "
        "WorkerFleet, Collector, run directory) in its own process on the same 2 cores.\n\n"
        + "\n\n".join(sections)
        + f"\n\nCommand: `python benchmarks/load/bench_ingest.py {argv}`\n"
    )
    if args.record:
        with RESULTS.open("a") as f:
            f.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
