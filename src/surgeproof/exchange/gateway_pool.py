"""The core's side of the WebSocket gateways: start them, admit their connections, feed them.

N listening sockets are bound to one port with SO_REUSEPORT and each is handed to one gateway
process, so clients keep a single ``ws_url`` and the kernel spreads connections by address
hash. Every upgrade is admitted here, in the core, so ``max_ws_connections``, the
``websocket-connect`` rate limit, stalls and the per-second metrics stay global and exact no
matter which gateway a connection lands on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import subprocess
import sys
import time

from surgeproof.exchange.errors import ApiError, ConfigError
from surgeproof.exchange.gateway_channel import Channel, encode
from surgeproof.exchange.metrics import Metrics, SecondStats
from surgeproof.exchange.state import ExchangeState

log = logging.getLogger("surgeproof.exchange")
JSON = "application/json; charset=utf-8"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
BACKLOG = 4096


def reuseport_listeners(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` listening sockets on one (host, port); port 0 picks a free one for all."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(family, socket.SOCK_STREAM)
            socks.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            s.bind((host, port))
            port = s.getsockname()[1]
            s.listen(BACKLOG)
    except OSError as exc:
        for s in socks:
            s.close()
        where = f"{host}:{port}"
        raise ConfigError(f"cannot listen for websockets on {where}: {exc.strerror}") from None
    return socks


def _outcome(status: int) -> str:
    return {503: "shed_503", 429: "rate_limited_429", 418: "blocked_418"}.get(
        status, "server_errors" if status >= 500 else "client_errors"
    )


class GatewayLink:
    """One gateway process as the core sees it."""

    def __init__(self, gid: int, process: subprocess.Popen, channel: Channel) -> None:
        self.gid = gid
        self.process = process
        self.channel = channel
        self.pid = process.pid
        self.alive = True
        self.ready: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        self.fd_limit = 0
        self.budget = 0
        self.live = 0  # open connections
        self.reserved = 0  # granted, upgrade not finished
        self.pending: dict[int, SecondStats] = {}
        self.connects = 0
        self.sent = 0
        self.dropped = 0
        # What sample() has already booked into per-second metrics.
        self.booked = {"connects": 0, "sent": 0, "dropped": 0}

    def describe(self) -> dict:
        return {
            "id": self.gid,
            "pid": self.pid,
            "alive": self.alive,
            "connections": self.live,
            "connects_total": self.connects,
            "messages_sent_total": self.sent,
            "messages_dropped_total": self.dropped,
            "fd_limit": self.fd_limit,
            "connection_budget": self.budget,
        }


class GatewayPool:
    """All gateways of one exchange."""

    def __init__(self, state: ExchangeState, count: int) -> None:
        self.state = state
        self.count = count
        self.links: list[GatewayLink] = []
        self._tasks: list[asyncio.Task] = []
        self.port = 0

    # -- totals ----------------------------------------------------------------------------

    @property
    def connections(self) -> int:
        return sum(link.live for link in self.links)

    @property
    def admitted(self) -> int:
        return sum(link.live + link.reserved for link in self.links)

    @property
    def messages_sent(self) -> int:
        return sum(link.sent for link in self.links)

    @property
    def messages_dropped(self) -> int:
        return sum(link.dropped for link in self.links)

    def describe(self) -> list[dict]:
        return [link.describe() for link in self.links]

    def sample(self, stats: SecondStats) -> None:
        """Book each gateway's gauges and the counts since the last sample into ``stats``."""
        for link in self.links:
            entry = stats.ws_gateways.get(str(link.gid))
            if entry is None:
                entry = stats.ws_gateways[str(link.gid)] = {
                    "connects": 0,
                    "messages_sent": 0,
                    "messages_dropped": 0,
                }
            for key, total in (
                ("connects", link.connects),
                ("sent", link.sent),
                ("dropped", link.dropped),
            ):
                name = key if key == "connects" else f"messages_{key}"
                entry[name] += total - link.booked[key]
                link.booked[key] = total
            entry.update(pid=link.pid, alive=link.alive, connections=link.live)

    # -- life ------------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> int:
        """Bind the port, start the gateways and wait for each to say hello; returns the port."""
        listeners = reuseport_listeners(host, port, self.count)
        self.port = listeners[0].getsockname()[1]
        markets = ",".join(self.state.engine.books)
        try:
            for gid, listener in enumerate(listeners):
                parent, child = socket.socketpair()
                cmd = [
                    sys.executable,
                    "-m",
                    "surgeproof.exchange.gateway",
                    "--id",
                    str(gid),
                    "--listen-fd",
                    str(listener.fileno()),
                    "--channel-fd",
                    str(child.fileno()),
                    "--parent-pid",
                    str(os.getpid()),
                    "--markets",
                    markets,
                ]
                process = subprocess.Popen(
                    cmd,
                    pass_fds=(listener.fileno(), child.fileno()),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                )
                child.close()
                link = GatewayLink(gid, process, await Channel.open(parent))
                self.links.append(link)
                self._tasks.append(asyncio.get_running_loop().create_task(self._serve(link)))
        finally:
            # The gateways hold the listeners now; a dead gateway's socket must really close.
            for listener in listeners:
                listener.close()
        try:
            await asyncio.wait_for(
                asyncio.gather(*(link.ready for link in self.links)), START_TIMEOUT_S
            )
        except (TimeoutError, ConfigError) as exc:
            await self.stop()
            reason = str(exc) or f"no hello within {START_TIMEOUT_S:.0f} s"
            raise ConfigError(f"websocket gateways did not start: {reason}") from None
        self.state.hub.sinks.append(self.broadcast)
        return self.port

    async def stop(self) -> None:
        """Tell every gateway to stop, then wait for it (SIGKILL after a few seconds)."""
        with contextlib.suppress(ValueError):
            self.state.hub.sinks.remove(self.broadcast)
        for link in self.links:
            link.channel.send({"op": "stop"})
            link.channel.close()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for link in self.links:
            while link.process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            if link.process.poll() is None:
                link.process.kill()
                link.process.wait(2)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- market data -----------------------------------------------------------------------

    def broadcast(self, kind: str, code: str, message: dict) -> None:
        """Hub sink: one serialised update, written to every gateway's channel."""
        line = encode({"op": "md", "kind": kind, "code": code, "msg": message})
        for link in self.links:
            if link.alive:
                link.channel.write(line)

    def _seed(self, link: GatewayLink) -> None:
        """The current message of every stream, so the gateway can answer snapshots."""
        hub = self.state.hub
        for code in self.state.engine.books:
            for kind in ("ticker", "orderbook", "trade"):
                message = hub.snapshot(kind, code)
                if message is not None:
                    link.channel.send(
                        {
                            "op": "md",
                            "kind": kind,
                            "code": code,
                            "msg": {**message, "stream_type": "REALTIME"},
                            "realtime": False,
                        }
                    )

    # -- admission -------------------------------------------------------------------------

    async def _serve(self, link: GatewayLink) -> None:
        try:
            while True:
                msg = await link.channel.receive()
                if msg is None:
                    break
                self._handle(link, msg)
        finally:
            self._lost(link)

    def _handle(self, link: GatewayLink, msg: dict) -> None:
        op = msg.get("op")
        if op == "admit":
            now = time.time()
            stats = self.state.metrics.arrive(int(now), "websocket")
            if self.state.stall_until > now:
                asyncio.get_running_loop().create_task(self._admit_after_stall(link, msg, stats))
            else:
                self._admit(link, msg, stats)
        elif op == "opened":
            stats = link.pending.pop(msg["rid"], None)
            link.reserved -= 1
            link.live += 1
            link.connects += 1
            if stats is not None:
                Metrics.outcome(stats, "websocket", "served")
            self.state.metrics.at(int(time.time())).ws_connects += 1
        elif op == "failed":
            stats = link.pending.pop(msg["rid"], None)
            link.reserved -= 1
            if stats is not None:
                Metrics.outcome(stats, "websocket", msg.get("outcome", "client_errors"))
        elif op == "closed":
            link.live = max(link.live - 1, 0)
        elif op == "stats":
            link.sent, link.dropped = int(msg["sent"]), int(msg["dropped"])
        elif op == "hello":
            link.pid = int(msg["pid"])
            link.fd_limit = int(msg["fd_limit"])
            link.budget = int(msg["budget"])
            self._seed(link)
            if not link.ready.done():
                link.ready.set_result(msg)

    async def _admit_after_stall(self, link: GatewayLink, msg: dict, stats: SecondStats) -> None:
        # A frozen exchange answers nothing until the freeze ends, upgrades included.
        await asyncio.sleep(max(self.state.stall_until - time.time(), 0.0))
        if link.alive:
            self._admit(link, msg, stats)

    def _admit(self, link: GatewayLink, msg: dict, stats: SecondStats) -> None:
        """The same checks, in the same order, as the core's own /websocket/v1."""
        state = self.state
        rid = msg["rid"]
        client = msg.get("client")
        if state.config.client_identity == "header" and client:
            identity = "client:" + str(client)
        else:
            identity = "ip:" + str(msg.get("ip") or "?")
        group = "websocket-connect"
        try:
            state.limiter.check(group, identity, time.time())
            cap = state.config.max_ws_connections
            if cap and state.ws_admitted() >= cap:
                raise ApiError(503, "server_busy", "too many websocket connections")
            if msg.get("full"):
                raise ApiError(503, "server_busy", "this gateway is at its open-file limit")
        except ApiError as exc:
            headers = {"Content-Type": JSON, **exc.headers}
            headers.setdefault("Remaining-Req", state.limiter.peek(group, identity, time.time()))
            Metrics.outcome(stats, "websocket", _outcome(exc.status))
            link.channel.send(
                {
                    "op": "grant",
                    "rid": rid,
                    "status": exc.status,
                    "body": exc.body().decode(),
                    "headers": headers,
                }
            )
            return
        link.reserved += 1
        link.pending[rid] = stats
        link.channel.send({"op": "grant", "rid": rid, "status": 101})

    def _lost(self, link: GatewayLink) -> None:
        """The gateway's channel closed: its connections are gone, its pending upgrades failed."""
        if link.alive and link.process.poll() is None and not link.channel.writer.is_closing():
            log.warning("websocket gateway %d (pid %d) closed its channel", link.gid, link.pid)
        elif link.alive and link.process.poll() is not None:
            log.warning(
                "websocket gateway %d (pid %d) exited with %s",
                link.gid,
                link.pid,
                link.process.returncode,
            )
        link.alive = False
        for stats in link.pending.values():
            Metrics.outcome(stats, "websocket", "server_errors")
        link.pending.clear()
        link.live = link.reserved = 0
        if not link.ready.done():
            link.ready.set_exception(
                ConfigError(f"gateway {link.gid} exited with {link.process.poll()}")
            )
