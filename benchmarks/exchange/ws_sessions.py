"""How many concurrent live WebSocket sessions the exchange holds on this machine.

Starts ``surgeproof exchange`` (unlimited config, N gateway processes), then client processes
that each open their share of sessions in batches from their own 127.0.0.x source address
(each process stays under the 20,000 open-file limit, each source address under the ~28,000
ephemeral ports), subscribe every session to a ticker, and hold. A session counts as *live*
only if it received at least one REALTIME message during the hold window. Memory per session
is the exchange processes' RSS after opening minus before, divided by the sessions open.

Loopback only, bounded in sessions (<= 60,000) and time (every phase has a deadline).

    /work/venv/bin/python benchmarks/exchange/ws_sessions.py --sessions 10000 25000 50000 \
        --gateways 4 --record
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import math
import os
import platform
import resource
import select
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CONFIG = ROOT / "scenarios" / "targets" / "unlimited.yaml"
RESULTS = HERE / "RESULTS.md"
MAX_SESSIONS = 60_000
PER_CLIENT = 12_500  # sessions per client process (and per source address)
MARKETS = ("KRW-BTC", "KRW-ETH", "KRW-XRP")


# -- the client side (a child process: ``ws_sessions.py --client ...``) ----------------------


class Session(asyncio.Protocol):
    """A minimal WebSocket client: upgrade, subscribe, count REALTIME messages."""

    def __init__(self, host: str, port: int, market: str, done: asyncio.Future) -> None:
        self.request = (
            f"GET /websocket/v1 HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n\r\n"
        ).encode()
        self.subscribe = json.dumps(
            [{"ticket": "bench"}, {"type": "ticker", "codes": [market]}, {"format": "SIMPLE"}]
        ).encode()
        self.done = done  # set with None once upgraded, or with the refusal
        self.buf = b""
        self.upgraded = False
        self.realtime = 0
        self.closed = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def _frame(self, payload: bytes) -> bytes:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return bytes((0x81, 0x80 | len(payload))) + mask + masked  # payload < 126 bytes

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = self.buf.split(b" ", 2)[1].decode() if b" " in self.buf else "?"
            if status != "101":
                if not self.done.done():
                    self.done.set_result(f"http_{status}")
                self.transport.close()
                return
            self.upgraded = True
            self.buf = self.buf[end + 4 :]
            self.transport.write(self._frame(self.subscribe))
            if not self.done.done():
                self.done.set_result(None)
        while len(self.buf) >= 2:
            n = self.buf[1] & 0x7F
            head = 2
            if n == 126:
                if len(self.buf) < 4:
                    return
                n, head = int.from_bytes(self.buf[2:4], "big"), 4
            elif n == 127:
                if len(self.buf) < 10:
                    return
                n, head = int.from_bytes(self.buf[2:10], "big"), 10
            if len(self.buf) < head + n:
                return
            payload = self.buf[head : head + n]
            self.buf = self.buf[head + n :]
            if b'"REALTIME"' in payload:
                self.realtime += 1

    def connection_lost(self, exc) -> None:
        self.closed = True
        if not self.done.done():
            self.done.set_result(type(exc).__name__ if exc else "closed_before_upgrade")


async def client_main(args: argparse.Namespace) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    loop = asyncio.get_running_loop()
    sessions: list[Session] = []
    failures: dict[str, int] = {}
    start = time.monotonic()
    deadline = start + args.open_timeout
    for first in range(0, args.count, args.batch):
        if time.monotonic() > deadline:
            failures["open_deadline"] = args.count - first
            break
        batch = []
        for i in range(first, min(first + args.batch, args.count)):
            done = loop.create_future()
            s = Session(args.host, args.port, MARKETS[i % len(MARKETS)], done)
            batch.append((s, done))

        async def one(s: Session, done: asyncio.Future) -> str | None:
            try:
                await loop.create_connection(
                    lambda s=s: s, args.host, args.port, local_addr=(args.source, 0)
                )
                return await asyncio.wait_for(done, 30)
            except (OSError, TimeoutError) as exc:
                return getattr(exc, "strerror", None) or type(exc).__name__

        results = await asyncio.gather(*(one(s, d) for s, d in batch))
        for (s, _), err in zip(batch, results, strict=True):
            if err is None:
                sessions.append(s)
            else:
                failures[err] = failures.get(err, 0) + 1
    opened_s = time.monotonic() - start
    print(json.dumps({"phase": "opened", "open": len(sessions), "open_s": opened_s}), flush=True)
    # Wait for the parent's word to start the hold window (bounded).
    line = await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.readline), 600)
    if line.strip() != "hold":
        return
    for s in sessions:
        s.realtime = 0
    await asyncio.sleep(args.hold)
    live = sum(1 for s in sessions if s.realtime > 0 and not s.closed)
    report = {
        "phase": "held",
        "open": len(sessions),
        "live": live,
        "closed_by_server": sum(1 for s in sessions if s.closed),
        "messages": sum(s.realtime for s in sessions),
        "failures": failures,
        "open_s": opened_s,
        "rss": psutil.Process().memory_info().rss,
    }
    print(json.dumps(report), flush=True)
    for s in sessions:
        if s.transport is not None:
            s.transport.abort()


# -- the driver ------------------------------------------------------------------------------


def _rss(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += psutil.Process(pid).memory_info().rss
    return total


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _read_json_line(proc: subprocess.Popen, timeout: float) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if not line:
                return None
            try:
                return json.loads(line)
            except ValueError:
                continue
        elif proc.poll() is not None:
            return None
    return None


def measure(sessions: int, gateways: int, ticker_ms: int, hold_s: float, batch: int) -> dict:
    """Open ``sessions`` sessions, hold them, and return what happened."""
    py = sys.executable
    exchange = subprocess.Popen(
        [
            py,
            "-m",
            "surgeproof.exchange",
            "--json",
            "--config",
            str(CONFIG),
            "--ws-gateways",
            str(gateways),
            "--ticker-interval-ms",
            str(ticker_ms),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    clients: list[subprocess.Popen] = []
    try:
        info = _read_json_line(exchange, 60)
        if info is None:
            raise SystemExit("the exchange did not start")
        ws = info["ws_url"].split("//", 1)[1].split("/", 1)[0]
        host, port = ws.rsplit(":", 1)
        pids = [info["pid"]] + [g["pid"] for g in info["gateways"]]
        time.sleep(2.0)
        rss_before = _rss(pids)
        n_clients = max(2, math.ceil(sessions / PER_CLIENT))
        shares = [sessions // n_clients + (i < sessions % n_clients) for i in range(n_clients)]
        t0 = time.monotonic()
        for i, share in enumerate(shares):
            clients.append(
                subprocess.Popen(
                    [
                        py,
                        __file__,
                        "--client",
                        "--host",
                        host,
                        "--port",
                        port,
                        "--count",
                        str(share),
                        "--source",
                        f"127.0.0.{10 + i}",
                        "--batch",
                        str(batch),
                        "--hold",
                        str(hold_s),
                    ],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        opened = [_read_json_line(c, 400) or {"open": 0, "open_s": None} for c in clients]
        spawn_s = time.monotonic() - t0
        time.sleep(2.0)  # let the gateways settle their buffers before measuring memory
        rss_after = _rss(pids)
        metrics = json.load(urllib.request.urlopen(info["url"] + "/admin/metrics", timeout=30))
        cpu_before = _cpu(pids)
        for c in clients:
            c.stdin.write("hold\n")
            c.stdin.flush()
        held = [_read_json_line(c, hold_s + 120) or {} for c in clients]
        cpu_hold = _cpu(pids) - cpu_before
        open_total = sum(o.get("open", 0) for o in opened)
        failures: dict[str, int] = {}
        for h in held:
            for k, v in h.get("failures", {}).items():
                failures[k] = failures.get(k, 0) + v
        return {
            "sessions": sessions,
            "gateways": gateways,
            "ticker_ms": ticker_ms,
            "open": open_total,
            "live": sum(h.get("live", 0) for h in held),
            "closed_by_server": sum(h.get("closed_by_server", 0) for h in held),
            "messages": sum(h.get("messages", 0) for h in held),
            "failures": failures,
            "spawn_s": round(spawn_s, 1),
            "hold_s": hold_s,
            "exchange_rss_mb_before": round(rss_before / 2**20, 1),
            "exchange_rss_mb_after": round(rss_after / 2**20, 1),
            "exchange_kb_per_session": round(
                (rss_after - rss_before) / 1024 / max(open_total, 1), 1
            ),
            "client_kb_per_session": round(
                sum(h.get("rss", 0) for h in held) / 1024 / max(open_total, 1), 1
            ),
            "exchange_cpu_pct_in_hold": round(100 * cpu_hold / hold_s, 1),
            "per_gateway": [g["connections"] for g in metrics.get("gateways", [])],
            "server_ws_connections": metrics["seconds"][-1]["ws_connections"],
        }
    finally:
        for c in clients:
            if c.poll() is None:
                c.kill()
            c.wait(10)
        exchange.send_signal(signal.SIGTERM)
        try:
            exchange.wait(30)
        except subprocess.TimeoutExpired:
            exchange.kill()
            exchange.wait(5)


def _row(r: dict) -> str:
    stopped = ", ".join(f"{k}: {v}" for k, v in sorted(r["failures"].items())) or "-"
    return (
        f"| {r['sessions']:,} | {r['gateways']} | {r['open']:,} | {r['live']:,} | "
        f"{r['spawn_s']} | {r['exchange_kb_per_session']} | {r['client_kb_per_session']} | "
        f"{r['exchange_cpu_pct_in_hold']} | {'/'.join(map(str, r['per_gateway'])) or '-'} | "
        f"{stopped} |"
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--count", type=int, help=argparse.SUPPRESS)
    p.add_argument("--source", default="127.0.0.1", help=argparse.SUPPRESS)
    p.add_argument("--open-timeout", type=float, default=300.0, help=argparse.SUPPRESS)
    p.add_argument("--sessions", type=int, nargs="+", default=[10_000])
    p.add_argument("--gateways", type=int, default=4)
    p.add_argument("--ticker-interval-ms", type=int, default=2000)
    p.add_argument("--hold", type=float, default=10.0, help="hold window, seconds")
    p.add_argument("--batch", type=int, default=500, help="sessions opened at once per client")
    p.add_argument("--record", action="store_true", help="append the table to RESULTS.md")
    args = p.parse_args()
    if args.client:
        if not args.host.startswith("127.") or not args.source.startswith("127."):
            raise SystemExit("loopback only")
        asyncio.run(client_main(args))
        return 0
    if any(not 0 < n <= MAX_SESSIONS for n in args.sessions):
        raise SystemExit(f"--sessions must be in 1..{MAX_SESSIONS}")
    if not 0 < args.hold <= 120:
        raise SystemExit("--hold must be in (0, 120] seconds")
    rows = []
    for n in args.sessions:
        r = measure(n, args.gateways, args.ticker_interval_ms, args.hold, args.batch)
        print(json.dumps(r), flush=True)
        rows.append(r)
    load = os.getloadavg()[0]
    header = (
        "| sessions asked | gateways | open | live (>=1 update in hold) | spawn s | "
        "exchange KB/session | client KB/session | exchange CPU % in hold | per gateway | "
        "failures |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    table = header + "\n" + "\n".join(_row(r) for r in rows)
    print(table)
    if args.record:
        cmd = " ".join(
            ["/work/venv/bin/python", "benchmarks/exchange/ws_sessions.py", *sys.argv[1:]]
        )
        text = (
            f"\n## WebSocket sessions held, {datetime.now(UTC).isoformat(timespec='seconds')}\n\n"
            f"Machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} cores, "
            f"{psutil.virtual_memory().total // 2**30} GiB; open-file hard limit "
            f"{resource.getrlimit(resource.RLIMIT_NOFILE)[1]} per process; load average "
            f"{load:.2f} at the end (other engineers share the machine). Exchange: "
            f"`scenarios/targets/unlimited.yaml`, ticker every {args.ticker_interval_ms} ms, "
            f"hold window {args.hold:g} s; clients: {PER_CLIENT:,} sessions per process, each "
            f"process from its own 127.0.0.x, batches of {args.batch}.\n\n"
            f"{table}\n\nCommand: `{cmd}`\n"
        )
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
