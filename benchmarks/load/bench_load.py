"""Load-generator benchmarks, loopback only, bounded: throughput per generator core and sessions.

throughput  exchange (``unlimited.yaml``) pinned to core 0, each generator pinned to core 1 in
            turn, same run: (a) plain Locust FastHttpUser, (b) surgeproof users with full
            recording, (b') the same users with recording off, (c) wrk.
sessions    concurrent live market-watcher sessions held by ``surgeproof run`` (workers,
            gateways, source addresses) vs plain Locust users holding websocket-client
            connections: sessions held, memory per session on both sides, spawn time.
users       the per-process figures fleet sizing uses (``surgeproof plan``), exchange pinned to
            core 0, generator to core 1: requests/s per core of each behaviour, saturated, with
            as many users as a planned worker holds (plain Locust FastHttpUsers beside it), and
            memory, descriptors and arrival CPU per user for HTTP-only users, market watchers
            holding a websocket, and plain Locust FastHttpUsers holding a keep-alive connection.
failover    a generator worker SIGKILLed mid-run (workers started separately, so noticed by
            heartbeats only): seconds until the target's own per-second request count is back,
            ``surgeproof run --expect-workers`` + ``surgeproof worker`` vs plain Locust
            ``--master`` + ``--worker``, same users, same pace, same exchange.

python benchmarks/load/bench_load.py throughput --record
python benchmarks/load/bench_load.py sessions --sessions 100000 --workers 8 --gateways 8 \
    --ramp 400 --hold 30 --skip-plain --record
python benchmarks/load/bench_load.py failover --record
python benchmarks/load/bench_load.py users --only held --held 10000 --held-rounds 1 \
    --arrive 30 --settle 42 --hold 40 --record
python benchmarks/load/bench_load.py users --only cpu --rounds 1 --seconds 6 --users 2000 \
    --start 1500 --factor 1.35 --record

Each under ``flock /tmp/surgeproof-cpu.lock`` on a shared machine (each of these takes up to
~8 minutes on 2 cores); the commands ``load/fleet_figures.py`` names are the ones to re-run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TARGETS = ROOT / "scenarios" / "targets"
RESULTS = HERE / "RESULTS.md"
PY = sys.executable
MAX_SESSIONS = 120_000


def machine_line() -> str:
    mem = psutil.virtual_memory().total / 2**30
    return (
        f"Machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB, "
        f"Python {platform.python_version()}; load average {os.getloadavg()[0]:.2f} at the start "
        "(other engineers share the machine: compare within a table, not across runs)."
    )


def start_exchange(config: Path, cpus: str | None, *extra: str) -> tuple[subprocess.Popen, dict]:
    cmd = [PY, "-m", "surgeproof.exchange", "--json", "--config", str(config), *extra]
    if cpus:
        cmd = ["taskset", "-c", cpus, *cmd]
    ex = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    return ex, json.loads(ex.stdout.readline())


def child_cpu(run) -> tuple[float, float]:
    """(wall s, CPU s of the children) of ``run()``."""
    r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    run()
    r1, t1 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    return t1 - t0, (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)


# -- throughput ------------------------------------------------------------------------------


def plain_locust(url: str, users: int, seconds: int) -> dict:
    """Plain Locust on one pinned core, measured over the same steady window as ours."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "window.json"
        cmd = ["taskset", "-c", "1", PY, "-m", "locust", "-f", str(HERE / "plain_http.py")]
        # The 2 s warm-up is not measured, as in surge_http.py: run that much longer.
        cmd += ["--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds + 2}s"]
        cmd += ["-H", url, "--only-summary", "--loglevel", "ERROR"]
        env = {**os.environ, "PLAIN_HTTP_REPORT": str(report)}
        subprocess.run(cmd, capture_output=True, timeout=120, env=env)
        return json.loads(report.read_text())


#: Offered rate for the recording-cost rows: below what one core sends, so nothing is backlogged
#: and on/off differ only in the CPU each request costs (0.2 calls/s × 750 × 20 users).
COST_INTENSITY = 750.0


def surge_users(
    url: str,
    users: int,
    seconds: int,
    recording: str,
    intensity: float | None = None,
    root: Path = ROOT,
) -> dict:
    """surgeproof's users as the checkout at ``root`` has them (``--before``: an older commit)."""
    script = root / "benchmarks" / "load" / "surge_http.py"
    cmd = ["taskset", "-c", "1", PY, str(script), url, str(users), str(seconds), recording]
    if intensity is not None:
        cmd.append(str(intensity))
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def checkout(commit: str | None):
    """A detached worktree of ``commit`` for the 'before' rows (None: no such rows)."""
    if commit is None:
        yield None
        return
    tmp = Path(tempfile.mkdtemp(prefix="bench-before-"))
    where = tmp / "tree"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(where), commit],
        check=True,
    )
    try:
        yield where
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(where)])
        shutil.rmtree(tmp, ignore_errors=True)


def wrk(url: str, seconds: int) -> dict:
    if shutil.which("wrk") is None:
        # A missing peer is said, never recorded as 0 req/s.
        raise SystemExit("bench_load: wrk is not installed (Debian: apt-get install wrk)")
    cmd = ["taskset", "-c", "1", "wrk", "-t1", "-c50", f"-d{seconds}s", url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    if m is None:
        raise SystemExit(f"bench_load: wrk gave no figure: {(out.stdout + out.stderr)[-300:]}")
    return {"req_s": float(m.group(1))}


def throughput_round(url: str, args: argparse.Namespace, old: Path | None, offered: float):
    """One round of every generator, one after another on the same pinned core."""
    users, seconds = args.users, args.seconds
    rows = [("plain Locust FastHttpUser", plain_locust(url, users, seconds))]
    rows.append(("surgeproof users, recording on", surge_users(url, users, seconds, "on")))
    if old is not None:
        r = surge_users(url, users, seconds, "on", root=old)
        rows.append((f"surgeproof users at {args.before}, recording on", r))
    rows.append(("surgeproof users, recording off", surge_users(url, users, seconds, "off")))
    rows.append(("wrk -t1 -c50", wrk(url + "/v1/ticker?markets=KRW-BTC", seconds)))
    for rec in ("on", "off"):
        r = surge_users(url, users, seconds, rec, COST_INTENSITY)
        rows.append((f"surgeproof users at {offered:,.0f} req/s, recording {rec}", r))
    return rows


def throughput(args: argparse.Namespace) -> str:
    if shutil.which("wrk") is None:
        raise SystemExit("bench_load: wrk is not installed (Debian: apt-get install wrk)")
    started = datetime.now(UTC).isoformat(timespec="seconds")
    lines = [f"## Requests/s per generator core, {started}", "", machine_line(), ""]
    ex, info = start_exchange(TARGETS / "unlimited.yaml", "0")
    url = info["url"]
    rows = []
    offered = 0.2 * COST_INTENSITY * args.users
    try:
        with checkout(args.before) as old:
            for _round in range(args.rounds):
                rows += throughput_round(url, args, old, offered)
    finally:
        ex.terminate()
        ex.wait(timeout=10)
    lines += [
        f"Exchange `scenarios/targets/unlimited.yaml` pinned to core 0; each generator pinned to "
        f"core 1 in turn; {args.users} users, {args.seconds} s each, {args.rounds} round(s), "
        "`GET /v1/ticker?markets=KRW-BTC`.",
        "",
        "| generator | req/s | generator CPU (cores) | req/s per generator core |",
        "|---|---|---|---|",
    ]
    for name, r in rows:
        cpu = r.get("cpu")
        per = r.get("req_s_per_core")
        lines.append(
            f"| {name} | {r['req_s']:,.0f} | {'-' if cpu is None else f'{cpu:.2f}'} | "
            f"{'-' if per is None else f'{per:,.0f}'} |"
        )

    def mean_per_core(prefix: str, rec: str) -> float:
        per = [r["req_s_per_core"] for n, r in rows if n == f"{prefix}, recording {rec}"]
        return sum(per) / len(per)

    cost = 1 - mean_per_core(f"surgeproof users at {offered:,.0f} req/s", "on") / mean_per_core(
        f"surgeproof users at {offered:,.0f} req/s", "off"
    )
    saturated = 1 - mean_per_core("surgeproof users", "on") / mean_per_core(
        "surgeproof users", "off"
    )
    lines += [
        "",
        f"Recording cost (CPU per request at the same {offered:,.0f} req/s offered, on vs off, "
        f"mean of rounds): **{cost:.1%}**. At saturation (every call the generator could not "
        "send is recorded too, as backlogged or missed, so there are more records than requests): "
        f"{saturated:.1%}.",
    ]
    lines += ["", f"Command: `{' '.join(['python', *sys.argv[0:1], *sys.argv[1:]])}`", ""]
    return "\n".join(lines)


# -- sessions ---------------------------------------------------------------------------------

WATCHERS = """\
name: watchers-{n}
description: {n} market watchers arrive and hold their subscriptions.
model: open
slos:
  - {{group: "*", error_ratio: 1%}}
timeline:
  - phase: arrive
    duration: {ramp}s
    users: {n}
    ramp: {ramp}s
    mix: {{market_watcher: 1.0}}
    intensity: 0.02
    steady: false
  - phase: hold
    duration: {hold}s
    users: {n}
    mix: {{market_watcher: 1.0}}
    intensity: 0.02
"""


def tree_rss(procs: list[psutil.Process]) -> int:
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def classify(root: psutil.Process) -> dict[str, list[psutil.Process]]:
    out: dict[str, list[psutil.Process]] = {"exchange": [], "generator": [], "conductor": [root]}
    for k in root.children(recursive=True):
        try:
            cmd = " ".join(k.cmdline())
        except psutil.Error:
            continue
        if "surgeproof.exchange" in cmd:
            out["exchange"].append(k)
        elif "worker" in cmd or "locust" in cmd:
            out["generator"].append(k)
    return out


def sessions_target(gateways: int, tmp: Path) -> Path:
    """``sessions.yaml`` with ``gateways`` websocket gateways (each holds < its open-file limit)."""
    import yaml

    config = yaml.safe_load((TARGETS / "sessions.yaml").read_text())
    if config["ws_gateways"] == gateways:
        return TARGETS / "sessions.yaml"
    config["ws_gateways"] = gateways
    path = tmp / f"sessions-{gateways}-gateways.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def started(run_dir: Path) -> bool:
    """Whether the run in ``run_dir`` has its t0 (run.json says 0 before)."""
    try:
        return bool(json.loads((run_dir / "run.json").read_text()).get("t0_ns"))
    except (OSError, ValueError):
        return False


def surgeproof_sessions(
    n: int, workers: int, ramp: int, hold: int, target: Path, tmp: Path
) -> dict:
    scen = tmp / f"watchers-{n}.yaml"
    scen.write_text(WATCHERS.format(n=n, ramp=ramp, hold=hold))
    cmd = [PY, "-m", "surgeproof.cli", "run", str(scen), "--workers", str(workers)]
    cmd += ["--target-config", str(target), "--reports-dir", str(tmp)]
    cmd += ["--run-id", f"s{n}", "--max-duration", str(ramp + hold + 30), "--progress-every", "10"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    root = psutil.Process(proc.pid)
    base: dict[str, int] = {}
    peak = {"exchange": 0, "generator": 0}
    t_start = time.monotonic()
    while proc.poll() is None and time.monotonic() - t_start < ramp + hold + 200:
        parts = classify(root)
        if not base and started(tmp / f"s{n}"):
            # The run's t0: every worker has joined, taken its setup (target, dialect,
            # accounts) and is about to get its first users. Earlier, a worker still importing
            # would make its own start-up look like memory per session.
            base = {k: tree_rss(v) for k, v in parts.items() if k != "conductor"}
        for k in peak:
            peak[k] = max(peak[k], tree_rss(parts[k]))
        time.sleep(1.0)
    out = proc.communicate(timeout=120)[0]
    if not (tmp / f"s{n}" / "run.json").exists():
        # A run refused before it started leaves no run directory: say why, not a traceback.
        raise SystemExit(
            f"bench_load: surgeproof run made no run (exit {proc.returncode}):\n{out[-1500:]}"
        )
    return {"base": base, "peak": peak, "run_dir": tmp / f"s{n}", "out": out}


def sessions_result(n: int, res: dict) -> dict:
    import numpy as np

    from surgeproof.rundir.reader import read_records
    from surgeproof.rundir.schema import Kind, Outcome

    run_dir = res["run_dir"]
    meta = json.loads((run_dir / "run.json").read_text())
    rs = read_records(run_dir)
    r = rs.records
    src = np.repeat(np.arange(len(rs.per_source)), list(rs.per_source.values()))
    key = src.astype(np.int64) << 32 | r["user"].astype(np.int64)
    ok = r["outcome"] == Outcome.OK
    sub = (r["kind"] == Kind.WS_FIRST_MESSAGE) & ok
    ws = np.isin(r["kind"], [Kind.WS_CONNECT, Kind.WS_FIRST_MESSAGE, Kind.WS_GAP])
    failed = r[ws & ~ok]
    pairs = zip(failed["kind"].tolist(), failed["outcome"].tolist(), strict=True)
    errors = {
        f"{Kind(k).name.lower()} {Outcome(o).name.lower()}": n
        for (k, o), n in sorted(Counter(pairs).items())
    }
    seconds = [json.loads(x) for x in (run_dir / "server" / "metrics.jsonl").read_text().split()]
    held = max((s.get("ws_connections", 0) for s in seconds), default=0)
    t0 = meta["t0_ns"]
    last_sub = (r["end_ns"][sub].max() - t0) / 1e9 if sub.any() else None
    gaps = np.unique(key[(r["kind"] == Kind.WS_GAP) & ok])
    sessions = len(np.unique(key[sub]))
    gen = (res["peak"]["generator"] - res["base"].get("generator", 0)) / max(sessions, 1)
    exch = (res["peak"]["exchange"] - res["base"].get("exchange", 0)) / max(sessions, 1)
    return {
        "asked": n,
        "subscribed": sessions,
        "watched": len(gaps),
        "held_server": held,
        "spawn_s": last_sub,
        "gen_kb": gen / 1024,
        "exch_kb": exch / 1024,
        "errors": errors,
        "status": meta["status"],
    }


def plain_sessions(n: int, processes: int, ramp: int, hold: int, target: Path) -> dict:
    """Plain Locust (``--processes``) users holding websocket-client connections, one source IP."""
    ex, info = start_exchange(target, None)
    errs_note: list[str] = []
    try:
        ex_proc = psutil.Process(ex.pid)
        ex_all = [ex_proc, *ex_proc.children(recursive=True)]
        ex_base = tree_rss(ex_all)
        cmd = [PY, "-m", "locust", "-f", str(HERE / "plain_ws.py"), "--headless"]
        cmd += ["-u", str(n), "-r", str(max(1, n // ramp)), "-t", f"{ramp + hold}s"]
        cmd += ["-H", info["url"], "--processes", str(processes), "--only-summary"]
        env = {**os.environ, "WS_URL": info["ws_url"]}
        # Its own session: plain Locust's --processes children are killed with it if it hangs.
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )
        root = psutil.Process(proc.pid)
        time.sleep(3.0)
        gen_base = tree_rss([root, *root.children(recursive=True)])
        held, gen_peak, ex_peak, t_all = 0, 0, 0, None
        t0 = time.monotonic()
        while proc.poll() is None and time.monotonic() - t0 < ramp + hold + 60:
            m = json.loads(
                subprocess.run(
                    ["curl", "-s", info["url"] + "/admin/metrics"], capture_output=True, text=True
                ).stdout
                or "{}"
            )
            now = sum(g.get("connections", 0) for g in m.get("gateways", []))
            held = max(held, now)
            if t_all is None and now >= n:
                t_all = time.monotonic() - t0
            gen_peak = max(gen_peak, tree_rss([root, *root.children(recursive=True)]))
            ex_peak = max(ex_peak, tree_rss(ex_all))
            time.sleep(1.0)
        try:
            out = proc.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            # Observed: users blocked in ws.recv() keep plain Locust from stopping at -t.
            os.killpg(proc.pid, signal.SIGKILL)
            out = proc.communicate()[0] + "\n(did not stop by itself at -t; killed)"
            errs_note.append("did not stop at -t (killed)")
    finally:
        ex.terminate()
        ex.wait(timeout=20)
    errs = sorted(set(re.findall(r"(\w*Error[\w ]*|Errno \d+[^'\n]*)", out)))[:4] + errs_note
    return {
        "asked": n,
        "held_server": held,
        "spawn_s": t_all,
        "gen_kb": (gen_peak - gen_base) / max(held, 1) / 1024,
        "exch_kb": (ex_peak - ex_base) / max(held, 1) / 1024,
        "errors": errs,
    }


def sessions(args: argparse.Namespace) -> str:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    lines = [f"## Concurrent live websocket sessions, {started}", "", machine_line(), ""]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        target = sessions_target(args.gateways, Path(tmp))
        for n in args.sessions:
            n = min(n, MAX_SESSIONS)
            res = surgeproof_sessions(n, args.workers, args.ramp, args.hold, target, Path(tmp))
            r = sessions_result(n, res)
            rows.append(("surgeproof run", args.workers, r))
            print(json.dumps(r), flush=True)
            if not args.skip_plain:
                p = plain_sessions(n, args.workers, args.ramp, args.hold, target)
                rows.append(("plain Locust + websocket-client", args.workers, p))
                print(json.dumps(p), flush=True)
            shutil.rmtree(res["run_dir"], ignore_errors=True)
    lines += [
        "Target: the embedded exchange, `scenarios/targets/sessions.yaml` "
        f"({args.gateways} websocket gateways, ticker every 3 s), on the same 2 cores as the "
        f"generator. Arrivals over {args.ramp} s, hold {args.hold} s. Live = subscribed and at "
        "least one closed gap interval (surgeproof records); held = the exchange's own count of "
        "open websockets.",
        "",
        "| generator | processes | asked | held (exchange) | subscribed / watched | "
        "all open after s | generator KB/session | exchange KB/session | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, procs, r in rows:
        live = f"{r['subscribed']:,} / {r['watched']:,}" if "subscribed" in r else "-"
        spawn = "-" if r["spawn_s"] is None else f"{r['spawn_s']:.1f}"
        lines.append(
            f"| {name} | {procs} | {r['asked']:,} | {r['held_server']:,} | {live} | {spawn} | "
            f"{r['gen_kb']:.1f} | {r['exch_kb']:.1f} | {r['errors'] or '-'} |"
        )
    lines += ["", f"Command: `python {' '.join(sys.argv)}`", ""]
    return "\n".join(lines)


# -- users: the per-process figures of fleet sizing --------------------------------------------

#: Behaviours measured one by one (a mix costs the share-weighted sum: checked with the night's
#: panic-selling mix in the same run).
FLEET_BEHAVIOURS = ("market_watcher", "app_user", "panic_seller", "api_bot", "retrying_client")
PANIC_MIX = "market_watcher:0.35,panic_seller:0.3,app_user:0.15,retrying_client:0.15,api_bot:0.05"
#: Calls per second of each behaviour at intensity 1 (load/users/*.py rate_per_s).
RATE_PER_S = {
    "market_watcher": 0.2,
    "app_user": 0.5,
    "panic_seller": 1.0,
    "api_bot": 5.0,
    "retrying_client": 0.5,
}


def mix_rate(mix: str) -> float:
    parts = [p.split(":") for p in mix.split(",")]
    total = sum(float(v) for _k, v in parts)
    return sum(RATE_PER_S[k] * float(v) for k, v in parts) / total


def pinned(script: str, *argv: object) -> dict:
    cmd = ["taskset", "-c", "1", PY, str(HERE / script), *map(str, argv)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"bench_load: {script} failed: {out.stderr[-1500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def mean_of(rows: list[tuple[str, dict]], name: str, key: str = "req_s_per_core") -> float:
    values = [r[key] for n, r in rows if n == name and r.get(key)]
    return sum(values) / len(values) if values else float("nan")


#: A level is sustained when nearly every due call went out, none waited for the exchange, and
#: the core was not yet full.
SUSTAINED_SENT = 0.97
SUSTAINED_CPU = 0.95


def sustained(run, start: float, factor: float, levels: int = 16) -> dict:
    """Step the offered rate up by ``factor`` until one core no longer sends it on schedule;
    the last level it sustained, with the first it did not (``failed``)."""
    best: dict | None = None
    offered = start
    for _ in range(levels):
        r = {**run(offered), "offered": offered}
        backlogged = r.get("backlogged", 0) / max(r.get("seconds", 1), 1)
        held = (
            r["req_s"] >= SUSTAINED_SENT * offered
            and backlogged <= 0.01 * offered
            and r["hold_cpu"] < SUSTAINED_CPU
        )
        if not held:
            return {**(best or r), "failed": r, "sustained": best is not None}
        best = r
        offered *= factor
    return {**best, "failed": None, "sustained": True}


def cpu_rows_round(url: str, args: argparse.Namespace) -> list[tuple[str, dict]]:
    """One round: the highest offered rate one core sustains, for each behaviour and the panic
    mix with as many users as a planned worker holds and plain Locust with as many; then 20
    users saturated, as in the throughput benchmark."""
    n, secs = args.users, args.seconds
    rows = []
    for mix in (*(f"{b}:1" for b in FLEET_BEHAVIOURS), PANIC_MIX):
        name = mix.split(":")[0] if mix.count(":") == 1 else "panic-selling mix"

        def run(offered: float, mix: str = mix) -> dict:
            intensity = offered / (n * mix_rate(mix))
            r = pinned("surge_users.py", url, "-", n, mix, intensity, 0, secs)
            return {**r, "seconds": secs}

        rows.append((name, sustained(run, args.start, args.factor)))
    rows.append(
        (
            "plain Locust",
            sustained(
                lambda offered: pinned("plain_users.py", url, n, n / offered, 1, secs),
                args.start,
                args.factor,
            ),
        )
    )
    rows.append(("market_watcher, 20 users, saturated", surge_users(url, 20, secs, "on")))
    rows.append(("plain Locust, 20 users, saturated", plain_locust(url, 20, secs)))
    for name, r in rows:
        print(json.dumps({"row": name, **r}), flush=True)
    return rows


#: The held users (memory, descriptors and CPU per user), each calling about every 40 s: the
#: signed app user, the plain-Locust peer's own call made by a surgeproof user (like for like),
#: a market watcher holding its websocket, and the peer itself.
HELD_ROWS = (
    ("surgeproof app_user (HTTP only, signed calls)", "surge_users.py", "app_user:1", 0.05),
    ("surgeproof ticker_poller (the peer's call)", "surge_users.py", "ticker_poller:1", 0.125),
    ("surgeproof market_watcher (websocket)", "surge_users.py", "market_watcher:1", 0.02),
    ("plain Locust FastHttpUser (keep-alive)", "plain_users.py", None, 40.0),
)


def held_rows(args: argparse.Namespace) -> list[tuple[str, dict]]:
    """Every held row, round after round, the order reversed every other round."""
    ex, info = start_exchange(TARGETS / "sessions.yaml", "0")
    url, ws = info["url"], info["ws_url"]
    rows: list[tuple[str, dict]] = []
    try:
        for i in range(args.held_rounds):
            for name, script, mix, pace in HELD_ROWS if i % 2 == 0 else HELD_ROWS[::-1]:
                if mix is None:
                    head: tuple = (url, args.held, pace)
                else:
                    head = (url, ws if "websocket" in name else "-", args.held, mix, pace)
                r = pinned(script, *head, args.arrive, args.hold, args.settle)
                rows.append((name, r))
                print(json.dumps({"row": name, "round": i + 1, **r}), flush=True)
    finally:
        ex.terminate()
        ex.wait(timeout=20)
    return rows


def held_section(args: argparse.Namespace, rows: list[tuple[str, dict]]) -> list[str]:
    lines = [
        f"Held users: exchange `scenarios/targets/sessions.yaml` (4 websocket gateways, ticker "
        f"every 3 s) pinned to core 0, each generator process pinned to core 1 in turn. "
        f"{args.held:,} users arrive over {args.arrive} s in one process, settle {args.settle} s "
        f"(every user's first call made: its login, its connection) and are measured for "
        f"{args.hold} s; HTTP users call about every 40 s (surgeproof: on the open-model "
        "schedule, jittered ±50%; plain Locust: `constant_pacing(40)`, so a 40-s window holds "
        "exactly one call of each plain user, whenever it arrived), watchers poll every "
        "250 s and hold their websocket. Per user = (peak - before the users) / users held; "
        "arrival CPU = CPU seconds while they arrived / users; CPU while held includes their "
        f"calls. {args.held_rounds} round(s), the order reversed every other round.",
        "",
        "| round | generator | users held | process before users MB | KB per user | descriptors "
        "per user | arrival CPU ms per user | req/s while held | CPU while held, cores per "
        "10,000 | CPU µs per call |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    per_round = len(HELD_ROWS)
    for i, (name, r) in enumerate(rows):
        arrival = 1000 * r["arrive_cpu_s"] / max(r["users"], 1)
        upkeep = r["hold_cpu"] * 10_000 / max(r["users"], 1)
        per_call = 1e6 * r["hold_cpu"] / r["req_s"] if r["req_s"] else float("nan")
        lines.append(
            f"| {i // per_round + 1} | {name} | {r['users']:,} | {r['base_mb']:.1f} | "
            f"{r['kb_per_user']:.1f} | "
            f"{r['fds_per_user']:.2f} | {arrival:.2f} | {r['req_s']:,.0f} | {upkeep:.3f} | "
            f"{per_call:,.0f} |"
        )
    plain = HELD_ROWS[-1][0]

    def upkeep_of(name: str) -> list[float]:
        return [r["hold_cpu"] * 10_000 / max(r["users"], 1) for n, r in rows if n == name]

    base = upkeep_of(plain)
    lines += ["", "CPU while held, cores per 10,000 users, each round against plain Locust's:", ""]
    for name, *_ in HELD_ROWS[:-1]:
        ours = upkeep_of(name)
        pairs = ", ".join(f"{o:.3f} vs {p:.3f}" for o, p in zip(ours, base, strict=True))
        ratio = (sum(ours) / len(ours)) / (sum(base) / len(base))
        lines.append(f"* {name}: {pairs} — **{ratio:.2f}×** plain Locust's on the means")
    return lines


def users(args: argparse.Namespace) -> str:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    title = {
        None: "Fleet figures: CPU per request, memory and descriptors per user",
        "cpu": "Fleet figures: CPU per request",
        "held": "Held users: memory, descriptors and CPU per user",
    }[args.only]
    lines = [f"## {title}, {started}", "", machine_line(), ""]
    if args.only != "held":
        lines += cpu_section(args)
    if args.only != "cpu":
        lines += held_section(args, held_rows(args))
    lines += ["", f"Command: `python {' '.join(sys.argv)}`", ""]
    return "\n".join(lines)


def cpu_section(args: argparse.Namespace) -> list[str]:
    n = args.users
    cpu_rows: list[tuple[str, dict]] = []
    ex, info = start_exchange(TARGETS / "unlimited.yaml", "0")
    try:
        for _round in range(args.rounds):
            cpu_rows += cpu_rows_round(info["url"], args)
    finally:
        ex.terminate()
        ex.wait(timeout=20)
    lines = [
        "Exchange pinned to core 0, each generator pinned to core 1 in turn, full recording "
        "(drained every second, as a worker ships it).",
        "",
        f"Requests per core: exchange `scenarios/targets/unlimited.yaml`. {n:,} users of one "
        "behaviour (or the night's panic-selling mix) in one process, about as many as a "
        f"planned worker holds; the offered rate starts at {args.start:,.0f} calls/s and "
        f"rises x{args.factor:g} per level ({args.seconds} s measured each, after the users "
        f"arrived) until one core no longer sustains it (under {SUSTAINED_SENT:.0%} of due "
        "calls sent, calls backlogged behind the exchange, or the core "
        f"{SUSTAINED_CPU:.0%} busy); the row gives the last level sustained: req/s per core = "
        "calls sent / CPU seconds of the generator process. Plain Locust FastHttpUsers (as many, "
        "`constant_pacing` at the offered rate) GET the ticker the same way; then 20 users "
        "saturated, surgeproof's ticker poller (`surge_http.py`) and plain Locust, as in the "
        f"throughput benchmark. {args.rounds} round(s).",
        "",
        "| generator | "
        + " | ".join(f"round {i + 1}" for i in range(args.rounds))
        + " | mean req/s per core | CPU per call vs ticker poll |",
        "|---|" + "---|" * (args.rounds + 2),
    ]
    names = list(dict.fromkeys(name for name, _ in cpu_rows))
    ticker = mean_of(cpu_rows, "market_watcher")
    for name in names:
        per_round = [r for nm, r in cpu_rows if nm == name]
        cells = []
        for r in per_round:
            per = r.get("req_s_per_core")
            shown = f"{per:,.0f}" if per else "-"
            if "offered" in r:
                mark = "" if r["sustained"] else " not sustained at the first level"
                shown += f" ({r['req_s']:,.0f} sent at {r['hold_cpu']:.2f} CPU{mark})"
            else:
                shown += f" ({r['req_s']:,.0f} sent)"
            cells.append(shown)
        mean = mean_of(cpu_rows, name)
        rel = "-" if "20 users" in name or name.startswith("plain") else f"{ticker / mean:.2f}x"
        label = name if name.startswith("plain") else f"surgeproof {name}"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | **{mean:,.0f}** | {rel} |")
    parts = [p.split(":") for p in PANIC_MIX.split(",")]
    weight = {k: float(v) * RATE_PER_S[k] for k, v in parts}
    predicted = sum(weight.values()) / sum(w / mean_of(cpu_rows, k) for k, w in weight.items())
    lines += [
        "",
        f"The panic-selling mix measured {mean_of(cpu_rows, 'panic-selling mix'):,.0f} req/s per "
        f"core; predicted from the behaviours' own figures (weighted by their share of calls): "
        f"{predicted:,.0f}.",
        "",
    ]
    return lines


# -- failover ---------------------------------------------------------------------------------

POLLERS = """\
name: pollers-{n}
description: {n} users polling quotations at a steady pace, for the failover benchmark.
model: open
timeline:
  - phase: hold
    duration: {seconds}s
    users: {n}
    ramp: 2s
    mix: {{market_watcher: 1.0}}
    intensity: 10
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_rate(url: str) -> dict[int, int]:
    """The exchange's own requests per second (unix second → count), its whole memory."""
    import urllib.request

    with urllib.request.urlopen(url + "/admin/metrics", timeout=10) as r:
        seconds = json.loads(r.read())["seconds"]
    return {int(s["t"]): int(s["requests"]) for s in seconds}


def recovery_s(rate: dict[int, int], killed: float, end: float, share: float = 0.9) -> dict:
    """Seconds from the kill until the rate holds ``share`` of its pre-kill median for 3 s."""
    import statistics

    before = [rate.get(t, 0) for t in range(int(killed) - 6, int(killed) - 1)]
    base = statistics.median(before)
    after = list(range(int(killed) + 1, int(end) - 1))
    low = min((rate.get(t, 0) for t in after[:5]), default=0)
    for i, t in enumerate(after):
        if all(rate.get(u, 0) >= share * base for u in after[i : i + 3]) and len(after[i:]) >= 3:
            return {"base_rps": base, "low_rps": low, "recovered_s": t - killed}
    return {"base_rps": base, "low_rps": low, "recovered_s": None}


def run_t0(run_dir: Path, within_s: float) -> float:
    """The run's t0 (unix s) once the master has started it (run.json has t0_ns 0 before)."""
    deadline = time.time() + within_s
    while time.time() < deadline:
        with contextlib.suppress(OSError, ValueError, KeyError):
            t0 = json.loads((run_dir / "run.json").read_text())["t0_ns"]
            if t0:
                return t0 / 1e9
        time.sleep(0.1)
    raise SystemExit(f"{run_dir}: the run did not start within {within_s:.0f} s")


def kill_one_and_wait(workers: list[subprocess.Popen], kill_at: float, until: float) -> float:
    while time.time() < kill_at:
        time.sleep(0.05)
    workers[0].send_signal(signal.SIGKILL)
    killed = time.time()
    while time.time() < until and any(w.poll() is None for w in workers[1:]):
        time.sleep(0.2)
    return killed


def surgeproof_failover(url: str, n: int, workers: int, seconds: int, kill_after: int, tmp: Path):
    scen = tmp / "pollers.yaml"
    scen.write_text(POLLERS.format(n=n, seconds=seconds))
    port = free_port()
    # Master and workers started apart share a fleet key (in the environment, never argv).
    env = {**os.environ, "SURGEPROOF_FLEET_KEY": secrets.token_hex(32)}
    master = subprocess.Popen(
        [
            PY,
            "-m",
            "surgeproof.cli",
            "run",
            str(scen),
            "--target",
            url,
            "--expect-workers",
            str(workers),
            "--master-port",
            str(port),
            "--reports-dir",
            str(tmp),
            "--run-id",
            "f",
            "--max-duration",
            str(seconds + 60),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
    )
    procs = [
        subprocess.Popen(
            [
                PY,
                "-m",
                "surgeproof.cli",
                "worker",
                "--master",
                "127.0.0.1",
                "--master-port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
        for _ in range(workers)
    ]
    try:
        t0 = run_t0(tmp / "f", within_s=120)
        killed = kill_one_and_wait(procs, t0 + kill_after, t0 + seconds + 30)
        err = master.communicate(timeout=seconds + 90)[1]
    finally:
        for p in [master, *procs]:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
    ev = [json.loads(x) for x in (tmp / "f" / "events.jsonl").read_text().splitlines()]
    rebalanced = [e["t_ns"] / 1e9 - killed for e in ev if e.get("type") == "rebalanced"]
    return (
        killed,
        t0 + seconds,
        {
            "rebalanced_s": rebalanced[0] if rebalanced else None,
            "exit": master.returncode,
            "stderr": err[-300:],
        },
    )


def plain_failover(url: str, n: int, workers: int, seconds: int, kill_after: int):
    port = free_port()
    base = [PY, "-m", "locust", "-f", str(HERE / "plain_failover.py"), "-H", url]
    master = subprocess.Popen(
        [
            *base,
            "--master",
            "--headless",
            "--master-bind-port",
            str(port),
            "-u",
            str(n),
            "-r",
            str(n // 2),
            "-t",
            f"{seconds}s",
            "--expect-workers",
            str(workers),
            "--only-summary",
            "--loglevel",
            "ERROR",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    procs = [
        subprocess.Popen(
            [*base, "--worker", "--master-port", str(port), "--loglevel", "ERROR"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(workers)
    ]
    try:
        started = time.time() + 2  # --expect-workers met almost at once; 2 s ramp
        killed = kill_one_and_wait(procs, started + kill_after, started + seconds + 30)
        master.wait(timeout=seconds + 120)
    finally:
        for p in [master, *procs]:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
    return killed, started + seconds, {"rebalanced_s": None, "exit": master.returncode}


def failover(args: argparse.Namespace) -> str:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    lines = [
        f"## Failover: a generator worker SIGKILLed mid-run, {started}",
        "",
        machine_line(),
        "",
    ]
    rows = []
    for name, run in (("surgeproof", "sp"), ("plain Locust", "plain")):
        ex, info = start_exchange(TARGETS / "unlimited.yaml", None)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                if run == "sp":
                    killed, end, extra = surgeproof_failover(
                        info["url"],
                        args.users,
                        args.workers,
                        args.seconds,
                        args.kill_after,
                        Path(tmp),
                    )
                else:
                    killed, end, extra = plain_failover(
                        info["url"], args.users, args.workers, args.seconds, args.kill_after
                    )
            rate = server_rate(info["url"])
        finally:
            ex.terminate()
            ex.wait(timeout=20)
        r = {**recovery_s(rate, killed, end), **extra}
        rows.append((name, r))
        print(json.dumps({"generator": name, **r}), flush=True)
    lines += [
        f"{args.users} users at 2 req/s each over {args.workers} worker processes started "
        f"separately (so only heartbeats tell the master a worker is gone), one SIGKILLed "
        f"{args.kill_after} s in, run {args.seconds} s; target `scenarios/targets/unlimited.yaml`."
        " Recovered = seconds from the kill until the exchange's own per-second request count "
        "holds 90% of its pre-kill median for 3 s in a row.",
        "",
        "| generator | requests/s before | lowest after the kill | recovered after s | "
        "master's rebalance event after s |",
        "|---|---|---|---|---|",
    ]
    for name, r in rows:
        rec = "not within the run" if r["recovered_s"] is None else f"{r['recovered_s']:.1f}"
        reb = "-" if r["rebalanced_s"] is None else f"{r['rebalanced_s']:.1f}"
        lines.append(f"| {name} | {r['base_rps']:,.0f} | {r['low_rps']:,.0f} | {rec} | {reb} |")
    lines += ["", f"Command: `python {' '.join(sys.argv)}`", ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    t = sub.add_parser("throughput")
    t.add_argument("--users", type=int, default=20)
    t.add_argument("--seconds", type=int, default=8)
    t.add_argument("--rounds", type=int, default=2)
    t.add_argument("--record", action="store_true")
    t.add_argument("--before", metavar="COMMIT", help="also the users as COMMIT had them")
    s = sub.add_parser("sessions")
    s.add_argument("--sessions", type=int, nargs="+", default=[2000])
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--gateways", type=int, default=4, help="the exchange's websocket gateways")
    s.add_argument("--ramp", type=int, default=30)
    s.add_argument("--hold", type=int, default=30)
    s.add_argument("--skip-plain", action="store_true")
    s.add_argument("--record", action="store_true")
    u = sub.add_parser("users")
    u.add_argument("--users", type=int, default=2000, help="users per CPU-per-request row")
    u.add_argument("--start", type=float, default=800.0, help="first offered calls/s per row")
    u.add_argument("--factor", type=float, default=1.25, help="offered rate step per level")
    u.add_argument("--seconds", type=int, default=10)
    u.add_argument("--rounds", type=int, default=3)
    u.add_argument("--held", type=int, default=10_000, help="users in the held rows")
    u.add_argument("--held-rounds", type=int, default=1, help="rounds of the held rows")
    u.add_argument("--arrive", type=int, default=40, help="held users arrive over this (s)")
    u.add_argument("--settle", type=int, default=42, help="before the held window (s)")
    u.add_argument("--hold", type=int, default=40, help="the held window (s)")
    u.add_argument("--only", choices=("cpu", "held"), help="one of the two sections only")
    u.add_argument("--record", action="store_true")
    f = sub.add_parser("failover")
    f.add_argument("--users", type=int, default=60)
    f.add_argument("--workers", type=int, default=3)
    f.add_argument("--seconds", type=int, default=90)
    f.add_argument("--kill-after", type=int, default=15)
    f.add_argument("--record", action="store_true")
    args = ap.parse_args()
    commands = {
        "throughput": throughput,
        "sessions": sessions,
        "users": users,
        "failover": failover,
    }
    text = commands[args.what](args)
    print(text)
    if args.record:
        with RESULTS.open("a") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
