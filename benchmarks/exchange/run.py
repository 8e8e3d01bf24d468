"""Quotation throughput of the exchange vs a bare aiohttp hello-world, each pinned to one core.

Both servers run with the same Python and aiohttp, pinned with taskset to core 0; wrk runs on
core 1 (the load generator must not share the core it measures). Loopback only, bounded time.

    python benchmarks/exchange/run.py [--seconds 10] [--connections 50] [--baseline REV]
        [--dialect upbit|bithumb|coinone]

``--baseline REV`` also measures the exchange as it was at git revision REV (its ``src/``
exported to a temporary directory), in the same run, so a change is judged against its own
before, not against a figure from another day. Appends a dated section to
benchmarks/exchange/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pin(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") else []


def _wait(url: str, timeout: float = 10.0) -> None:
    import urllib.request

    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server at {url} did not come up")


def _wrk(url: str, seconds: int, connections: int) -> dict:
    cmd = [*_pin(1), "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {p: re.search(rf"\s{p}%\s+([\d.]+\w+)", out).group(1) for p in ("50", "99")}
    return {"rps": rps, "p50": lat["50"], "p99": lat["99"], "cmd": " ".join(cmd), "raw": out}


def _measure(
    server_cmd: list[str], url: str, health: str, seconds: int, conns: int, env=None
) -> dict:
    proc = subprocess.Popen(
        [*_pin(0), *server_cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    try:
        _wait(health)
        _wrk(url, 2, conns)  # warm-up
        return _wrk(url, seconds, conns)
    finally:
        proc.terminate()
        proc.wait(10)


def _row(name: str, m: dict) -> str:
    rounds = m.get("rounds")
    shown = f"{m['rps']:.0f}" + (f" (rounds: {', '.join(map(str, rounds))})" if rounds else "")
    return f"| {name} | {shown} | {m['p50']} | {m['p99']} |"


def _median(runs: list[dict]) -> dict:
    """The run with the median req/s (its latencies come with it)."""
    return dict(sorted(runs, key=lambda m: m["rps"])[len(runs) // 2])


TICKER_PATHS = {
    "upbit": "/v1/ticker?markets=KRW-BTC",
    "bithumb": "/v1/ticker?markets=KRW-BTC",
    "coinone": "/public/v2/ticker_new/KRW/BTC",
}


def _export(rev: str, into: Path) -> Path:
    """``src/`` of git revision ``rev`` unpacked under ``into``; its path."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def _exchange(py: str, config: Path, seconds: int, conns: int, path: str, extra=(), env=None):
    port = _free_port()
    return _measure(
        [py, "-m", "surgeproof.exchange", "--port", str(port), "--config", str(config), *extra],
        f"http://127.0.0.1:{port}{path}",
        f"http://127.0.0.1:{port}/admin/health",
        seconds,
        conns,
        env=env,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--baseline", metavar="REV", help="also measure git revision REV")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="with --baseline: alternate this tree and REV this many times (medians reported)",
    )
    parser.add_argument("--dialect", choices=sorted(TICKER_PATHS), default="upbit")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("benchmark: wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    py = sys.executable
    port = _free_port()
    hello = _measure(
        [py, str(HERE / "hello.py"), str(port)],
        f"http://127.0.0.1:{port}/",
        f"http://127.0.0.1:{port}/",
        args.seconds,
        args.connections,
    )
    config = ROOT / "scenarios" / "targets" / "unlimited.yaml"
    path = TICKER_PATHS[args.dialect]
    dialect = ["--dialect", args.dialect] if args.dialect != "upbit" else []
    baseline = None
    if not args.baseline:
        exchange = _exchange(py, config, args.seconds, args.connections, path, dialect)
    else:
        # Alternate the two so that the machine's other load falls on both alike.
        ours, theirs = [], []
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "PYTHONPATH": str(_export(args.baseline, Path(tmp)))}
            for i in range(max(args.rounds, 1)):
                # Who goes first swaps every round: neither gets the quieter half every time.
                pair = [(ours, None), (theirs, env)]
                for runs, run_env in pair if i % 2 == 0 else pair[::-1]:
                    runs.append(
                        _exchange(
                            py, config, args.seconds, args.connections, path, dialect, env=run_env
                        )
                    )
        exchange, baseline = _median(ours), _median(theirs)
        exchange["rounds"] = [round(m["rps"]) for m in ours]
        baseline["rounds"] = [round(m["rps"]) for m in theirs]
    ratio = exchange["rps"] / hello["rps"]
    command = (
        f"{sys.executable} benchmarks/exchange/run.py"
        f" --seconds {args.seconds} --connections {args.connections}"
        + (f" --baseline {args.baseline} --rounds {args.rounds}" if args.baseline else "")
        + (f" --dialect {args.dialect}" if args.dialect != "upbit" else "")
    )
    label = f"exchange `{path}` (`scenarios/targets/unlimited.yaml`, {args.dialect})"
    rows = [
        _row("aiohttp hello-world (`benchmarks/exchange/hello.py`)", hello),
        _row(label, exchange),
    ]
    verdict = ""
    if baseline is not None:
        rows.append(_row(f"exchange at `{args.baseline}`, same path", baseline))
        change = exchange["rps"] / baseline["rps"] - 1.0
        verdict = (
            f"\nThis tree against `{args.baseline}` (median of {args.rounds} alternating rounds "
            f"each): **{change:+.1%}** req/s.\n"
        )
    load = os.getloadavg()
    section = f"""
## {dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}

Machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} cores, Python
{platform.python_version()}, aiohttp {__import__("aiohttp").__version__}; load average before the
run {load[0]:.2f} (other engineers share this machine: figures are noisy, compare the ratio).
Servers pinned to core 0, wrk to core 1; {args.connections} connections, {args.seconds} s each
after a 2 s warm-up.

| server | req/s | p50 | p99 |
|---|---|---|---|
{chr(10).join(rows)}

Exchange / hello-world: **{ratio:.0%}** (aim: at least 50%).
{verdict}
Command: `{command}`
(wrk: `{exchange["cmd"]}`)
"""
    results = HERE / "RESULTS.md"
    if not results.exists():
        results.write_text("# Exchange quotation throughput vs aiohttp hello-world\n")
    with results.open("a") as f:
        f.write(section)
    summary = {"hello_rps": hello["rps"], "exchange_rps": exchange["rps"], "ratio": round(ratio, 3)}
    if baseline is not None:
        summary["baseline_rps"] = baseline["rps"]
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
