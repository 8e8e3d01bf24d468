"""Quotation throughput of the exchange vs a bare aiohttp hello-world, each pinned to one core.

Both servers run with the same Python and aiohttp, pinned with taskset to core 0; wrk runs on
core 1 (the load generator must not share the core it measures). Loopback only, bounded time.

    python benchmarks/exchange/run.py [--seconds 10] [--connections 50]

Appends a dated section to benchmarks/exchange/RESULTS.md.
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


def _measure(server_cmd: list[str], url: str, health: str, seconds: int, conns: int) -> dict:
    proc = subprocess.Popen(
        [*_pin(0), *server_cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait(health)
        _wrk(url, 2, conns)  # warm-up
        return _wrk(url, seconds, conns)
    finally:
        proc.terminate()
        proc.wait(10)


def _row(name: str, m: dict) -> str:
    return f"| {name} | {m['rps']:.0f} | {m['p50']} | {m['p99']} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
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
    port = _free_port()
    config = ROOT / "scenarios" / "targets" / "unlimited.yaml"
    exchange = _measure(
        [py, "-m", "surgeproof.exchange", "--port", str(port), "--config", str(config)],
        f"http://127.0.0.1:{port}/v1/ticker?markets=KRW-BTC",
        f"http://127.0.0.1:{port}/admin/health",
        args.seconds,
        args.connections,
    )
    ratio = exchange["rps"] / hello["rps"]
    command = (
        f"{sys.executable} benchmarks/exchange/run.py"
        f" --seconds {args.seconds} --connections {args.connections}"
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
{_row("aiohttp hello-world (`benchmarks/exchange/hello.py`)", hello)}
{_row("exchange `/v1/ticker?markets=KRW-BTC` (`scenarios/targets/unlimited.yaml`)", exchange)}

Exchange / hello-world: **{ratio:.0%}** (aim: at least 50%).

Command: `{command}`
(wrk: `{exchange["cmd"]}`)
"""
    results = HERE / "RESULTS.md"
    if not results.exists():
        results.write_text("# Exchange quotation throughput vs aiohttp hello-world\n")
    with results.open("a") as f:
        f.write(section)
    print(
        json.dumps(
            {"hello_rps": hello["rps"], "exchange_rps": exchange["rps"], "ratio": round(ratio, 3)}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
