"""A WebSocket gateway process (``python -m surgeproof.exchange.gateway``, started by the core).

It serves the dialect's websocket path (``/websocket/v1``; Coinone's ``/``) on a listening
socket it inherits from the core (one of N SO_REUSEPORT sockets on the same port, so the kernel
spreads connections over the gateways),
asks the core to admit every upgrade (global connection cap, connect rate limit, metrics), and
fans out the market data the core sends over the channel. It exits when the core goes: the
channel reaches EOF, and on Linux the kernel also sends SIGTERM when the parent dies. It ignores
SIGINT: Ctrl-C reaches the whole process group, and the core, not the terminal, stops its
gateways (one that left first would look to the core like a crash to recover from).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import os
import signal
import socket
import sys

from aiohttp import web

from surgeproof.exchange.fdlimit import connection_budget, raise_fd_limit
from surgeproof.exchange.gateway_channel import Channel
from surgeproof.exchange.wsfanout import MAX_REQUEST_BYTES, Fanout, Subscriber, run_session
from surgeproof.exchange.wsprotocol import WsProtocol

JSON = "application/json; charset=utf-8"
#: Backlog of the inherited listener: a reconnect storm arrives thousands at a time.
BACKLOG = 4096
STATS_EVERY_S = 0.5
_PR_SET_PDEATHSIG = 1


def _error(status: int, name: str, message: str) -> web.Response:
    body = json.dumps({"error": {"name": name, "message": message}}).encode()
    return web.Response(status=status, body=body, headers={"Content-Type": JSON})


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel for SIGTERM when the parent dies (Linux); exit if it already has."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent_pid:
        sys.exit(0)


class Gateway:
    """One gateway: its subscribers, the latest message of every stream, pending admissions."""

    def __init__(
        self,
        gid: int,
        listener: socket.socket,
        channel_sock: socket.socket,
        markets,
        protocol: WsProtocol,
    ):
        self.gid = gid
        self.listener = listener
        self.channel_sock = channel_sock
        self.markets = set(markets)
        self.protocol = protocol
        self.fanout = Fanout(protocol)
        self.latest: dict[tuple[str, str], dict] = {}
        self.grants: dict[int, asyncio.Future[dict]] = {}
        self.pending = 0
        self.fd_limit = raise_fd_limit()
        self.budget = connection_budget(self.fd_limit)
        self._rid = 0
        self._stop = asyncio.Event()
        self.channel: Channel | None = None

    # -- the channel -----------------------------------------------------------------------

    def _send(self, message: dict) -> None:
        if self.channel is not None:
            self.channel.send(message)

    async def _read_channel(self) -> None:
        assert self.channel is not None
        while True:
            msg = await self.channel.receive()
            if msg is None or msg.get("op") == "stop":
                break
            op = msg.get("op")
            if op == "md":
                key = (msg["kind"], msg["code"])
                self.latest[key] = msg["msg"]
                if msg.get("realtime", True):
                    self.fanout.publish(key[0], key[1], msg["msg"])
            elif op == "grant":
                fut = self.grants.pop(msg["rid"], None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
                elif msg.get("status") == 101:
                    # Granted after the client gave up: hand the slot back.
                    self._send({"op": "failed", "rid": msg["rid"], "outcome": "client_errors"})
        self._stop.set()

    async def _report(self) -> None:
        while True:
            await asyncio.sleep(STATS_EVERY_S)
            self._send(
                {
                    "op": "stats",
                    "connections": self.fanout.connections,
                    "sent": self.fanout.sent,
                    "dropped": self.fanout.dropped,
                }
            )

    # -- the handlers ----------------------------------------------------------------------

    def _snapshot(self, kind: str, code: str) -> dict | None:
        return self.latest.get((kind, code))

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        self._rid += 1
        rid = self._rid
        fut: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        self.grants[rid] = fut
        full = self.fanout.connections + self.pending >= self.budget
        self.pending += 1
        try:
            self._send(
                {
                    "op": "admit",
                    "rid": rid,
                    "ip": request.remote,
                    "client": request.headers.get("X-Client-Id"),
                    "full": full,
                }
            )
            try:
                grant = await fut
            finally:
                self.grants.pop(rid, None)
            if grant["status"] != 101:
                return web.Response(
                    status=grant["status"],
                    body=grant.get("body", "").encode(),
                    headers=grant.get("headers") or {"Content-Type": JSON},
                )
            ws = web.WebSocketResponse(
                heartbeat=None, max_msg_size=MAX_REQUEST_BYTES, compress=False
            )
            if not ws.can_prepare(request).ok:
                self._send({"op": "failed", "rid": rid, "outcome": "client_errors"})
                return _error(400, "WRONG_FORMAT", "expected a WebSocket upgrade")
            sub = Subscriber(request.transport)
            try:
                await ws.prepare(request)
            except BaseException:
                self._send({"op": "failed", "rid": rid, "outcome": "client_errors"})
                raise
        finally:
            self.pending -= 1
        self.fanout.add(sub)
        self._send({"op": "opened", "rid": rid})
        try:
            await run_session(ws, sub, self.fanout, self.markets, self._snapshot)
        finally:
            self.fanout.remove(sub)
            self._send({"op": "closed", "rid": rid})
        return ws

    async def not_found(self, request: web.Request) -> web.Response:
        return _error(404, "not_found", f"this port serves {self.protocol.path} only")

    # -- life ------------------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self._stop.set)
        self.channel = await Channel.open(self.channel_sock)
        app = web.Application()
        app.router.add_get(self.protocol.path, self.websocket, allow_head=False)
        app.router.add_route("*", "/{tail:.*}", self.not_found)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        await web.SockSite(runner, self.listener, backlog=BACKLOG).start()
        self._send(
            {
                "op": "hello",
                "id": self.gid,
                "pid": os.getpid(),
                "fd_limit": self.fd_limit,
                "budget": self.budget,
            }
        )
        tasks = [loop.create_task(self._read_channel()), loop.create_task(self._report())]
        try:
            await self._stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            # Drop the subscribers at once rather than closing 20k websockets politely.
            for sub in list(self.fanout.subscribers):
                if sub.transport is not None:
                    sub.transport.abort()  # type: ignore[attr-defined]
            await runner.cleanup()
            self.channel.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point of a gateway process (arguments are set by the core, not by people)."""
    parser = argparse.ArgumentParser(prog="python -m surgeproof.exchange.gateway")
    parser.add_argument("--id", type=int, required=True)
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--channel-fd", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, required=True)
    parser.add_argument("--markets", required=True, help="comma-separated market codes")
    parser.add_argument("--dialect", default="upbit", help="the API the exchange speaks")
    parser.add_argument("--ws-ping-timeout-s", type=float, default=0.0)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(args.parent_pid)
    listener = socket.socket(fileno=args.listen_fd)
    channel_sock = socket.socket(fileno=args.channel_fd)
    from surgeproof.exchange.dialects import get_dialect

    protocol = get_dialect(args.dialect).websocket(args.ws_ping_timeout_s)
    gateway = Gateway(args.id, listener, channel_sock, args.markets.split(","), protocol)
    asyncio.run(gateway.run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
