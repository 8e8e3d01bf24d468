"""The core's side of the WebSocket gateways: start them, admit their connections, feed them.

N listening sockets are bound to one port with SO_REUSEPORT and each is handed to one gateway
process, so clients keep a single ``ws_url`` and the kernel spreads connections by address
hash. Every upgrade is admitted here, in the core, so ``max_ws_connections``, the
``websocket-connect`` rate limit, stalls and the per-second metrics stay global and exact no
matter which gateway a connection lands on.

A gateway that dies while the exchange runs is replaced, as a supervisor would: a new listener
joins the same port, a new process takes the same id and is seeded with the current market
data, after a backoff that grows while it keeps dying soon after each restart.
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
from surgeproof.exchange.gateway_link import GatewayLink, describe_exit, reap
from surgeproof.exchange.metrics import Metrics, SecondStats
from surgeproof.exchange.restart_backoff import DEFAULT_BACKOFF, RestartBackoff, restart_delay
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


class GatewayPool:
    """All gateways of one exchange, restarted when they die (unless ``gateway_restart`` is off)."""

    def __init__(
        self, state: ExchangeState, count: int, backoff: RestartBackoff = DEFAULT_BACKOFF
    ) -> None:
        from surgeproof.exchange.dialects import get_dialect

        self.state = state
        self.render_error = get_dialect(state.config.dialect).render_error
        self.count = count
        self.restart = state.config.gateway_restart
        self.backoff = backoff
        self.links: list[GatewayLink] = []
        self.host = ""
        self.port = 0
        self._running = False  # all started: a death from now on is a crash to recover from
        self._stopping = False
        self._supervisors: set[asyncio.Task] = set()

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
            entry.update(
                pid=link.pid, alive=link.alive, connections=link.live, restarts=link.restarts
            )

    # -- life ------------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> int:
        """Bind the port, start the gateways and wait for each to say hello; returns the port."""
        listeners = reuseport_listeners(host, port, self.count)
        self.host = host
        self.port = listeners[0].getsockname()[1]
        self.links = [GatewayLink(gid) for gid in range(self.count)]
        try:
            for link, listener in zip(self.links, listeners, strict=True):
                await self._spawn(link, listener)
            await asyncio.wait_for(
                asyncio.gather(*(link.ready for link in self.links)),  # type: ignore[misc]
                START_TIMEOUT_S,
            )
        except (TimeoutError, ConfigError, OSError) as exc:
            await self.stop()
            reason = str(exc) or f"no hello within {START_TIMEOUT_S:.0f} s"
            raise ConfigError(f"websocket gateways did not start: {reason}") from None
        finally:
            for listener in listeners:
                listener.close()  # closing twice is harmless; one never handed over must close
        self._running = True
        self.state.hub.sinks.append(self.broadcast)
        return self.port

    async def _spawn(self, link: GatewayLink, listener: socket.socket) -> None:
        """Start a gateway process for ``link`` on ``listener``, which the process then owns."""
        parent, child = socket.socketpair()
        cmd = [
            sys.executable,
            "-m",
            "surgeproof.exchange.gateway",
            "--id",
            str(link.gid),
            "--listen-fd",
            str(listener.fileno()),
            "--channel-fd",
            str(child.fileno()),
            "--parent-pid",
            str(os.getpid()),
            "--markets",
            ",".join(self.state.engine.books),
            "--dialect",
            self.state.config.dialect,
            "--ws-ping-timeout-s",
            str(self.state.config.ws_ping_timeout_s),
        ]
        try:
            process = subprocess.Popen(
                cmd,
                pass_fds=(listener.fileno(), child.fileno()),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()
            # The gateway holds the listener now; a dead gateway's socket must really close.
            listener.close()
        link.attach(process)
        try:
            channel = await Channel.open(parent)
        except BaseException:
            parent.close()  # the gateway sees EOF and exits
            raise
        link.channel = channel
        link.serving = asyncio.get_running_loop().create_task(self._serve(link, channel))

    async def stop(self) -> None:
        """Stop restarting, tell every gateway to stop, wait for it (SIGKILL after 5 s)."""
        self._stopping = True
        for task in self._supervisors:
            task.cancel()
        await asyncio.gather(*self._supervisors, return_exceptions=True)
        with contextlib.suppress(ValueError):
            self.state.hub.sinks.remove(self.broadcast)
        for link in self.links:
            if link.channel is not None:
                link.channel.send({"op": "stop"})
                link.channel.close()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for link in self.links:
            if link.process is None:
                continue
            while link.process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            if link.process.poll() is None:
                link.process.kill()
                link.process.wait(2)
        tasks = [link.serving for link in self.links if link.serving is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- supervision -----------------------------------------------------------------------

    async def _replace(self, link: GatewayLink, life_s: float) -> None:
        """Reap a dead gateway, log it, and unless restarts are off start its replacement."""
        process = link.process
        assert process is not None
        returncode, hung = await reap(process)
        link.last_exit = (
            "hung after closing its channel, killed" if hung else describe_exit(returncode)
        )
        link.lives.append(life_s)
        what = (
            f"websocket gateway {link.gid} (pid {process.pid}) died ({link.last_exit}) "
            f"after {life_s:.1f} s"
        )
        if not self.restart:
            log.warning("%s; not restarted (gateway_restart: false)", what)
            return
        while True:
            delay = restart_delay(link.lives, self.backoff)
            log.warning("%s; restart #%d in %.1f s", what, link.restarts + 1, delay)
            await asyncio.sleep(delay)
            try:
                listener = reuseport_listeners(self.host, self.port, 1)[0]
                await self._spawn(link, listener)
            except (ConfigError, OSError) as exc:
                link.lives.append(0.0)
                what = f"websocket gateway {link.gid} could not be restarted ({exc})"
                continue
            break
        link.restarts += 1
        ready = link.ready
        assert ready is not None
        try:
            await asyncio.wait_for(asyncio.shield(ready), START_TIMEOUT_S)
        except TimeoutError:
            log.warning(
                "websocket gateway %d (pid %d) said no hello within %.0f s; killing it",
                link.gid,
                link.pid,
                START_TIMEOUT_S,
            )
            link.process.kill()  # its channel closes, and the next restart follows from there
        except ConfigError:
            pass  # it died before its hello; that death schedules the next restart

    def _supervise(self, link: GatewayLink) -> None:
        """Called when a running gateway's channel closed: book the death, replace it."""
        link.died_at = time.time()
        task = asyncio.get_running_loop().create_task(
            self._replace(link, time.monotonic() - link.started)
        )
        self._supervisors.add(task)
        task.add_done_callback(self._supervisors.discard)

    # -- market data -----------------------------------------------------------------------

    def broadcast(self, kind: str, code: str, message: dict) -> None:
        """Hub sink: one serialised update, written to every gateway's channel."""
        line = encode({"op": "md", "kind": kind, "code": code, "msg": message})
        for link in self.links:
            if link.alive and link.channel is not None:
                link.channel.write(line)

    def _seed(self, link: GatewayLink, channel: Channel) -> None:
        """The current message of every stream, so the gateway can answer snapshots."""
        hub = self.state.hub
        for code in self.state.engine.books:
            for kind in ("ticker", "orderbook", "trade"):
                message = hub.snapshot(kind, code)
                if message is not None:
                    channel.send(
                        {"op": "md", "kind": kind, "code": code, "msg": message, "realtime": False}
                    )

    # -- admission -------------------------------------------------------------------------

    async def _serve(self, link: GatewayLink, channel: Channel) -> None:
        """Handle one gateway process's messages until its channel closes."""
        try:
            while True:
                msg = await channel.receive()
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
            # Cumulative per process: add what this one wrote since its last report.
            for key in ("sent", "dropped"):
                total = int(msg[key])
                setattr(link, key, getattr(link, key) + total - link.reported[key])
                link.reported[key] = total
        elif op == "hello":
            link.pid = int(msg["pid"])
            link.fd_limit = int(msg["fd_limit"])
            link.budget = int(msg["budget"])
            assert link.channel is not None and link.ready is not None
            self._seed(link, link.channel)
            link.alive = True
            if link.generation > 1:
                link.restarted_at = time.time()
                log.warning(
                    "websocket gateway %d restarted as pid %d (restart #%d), serving %.1f s "
                    "after it died",
                    link.gid,
                    link.pid,
                    link.restarts,
                    link.restarted_at - (link.died_at or link.restarted_at),
                )
            if not link.ready.done():
                link.ready.set_result(msg)

    async def _admit_after_stall(self, link: GatewayLink, msg: dict, stats: SecondStats) -> None:
        # A frozen exchange answers nothing until the freeze ends, upgrades included.
        generation = link.generation
        await asyncio.sleep(max(self.state.stall_until - time.time(), 0.0))
        if link.alive and link.generation == generation:
            self._admit(link, msg, stats)
        else:
            # The process that asked died meanwhile, and its client with it.
            Metrics.outcome(stats, "websocket", "server_errors")

    def _admit(self, link: GatewayLink, msg: dict, stats: SecondStats) -> None:
        """The same checks, in the same order, as the core's own /websocket/v1."""
        state = self.state
        channel = link.channel
        assert channel is not None
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
            header = state.limiter.style.header
            if header is not None and header not in exc.headers:
                exc.headers[header] = state.limiter.peek(group, identity, time.time())
            Metrics.outcome(stats, "websocket", _outcome(exc.status))
            answer = self.render_error(exc)
            channel.send(
                {
                    "op": "grant",
                    "rid": rid,
                    "status": answer.status,
                    "body": answer.body.decode() if isinstance(answer.body, bytes) else "",
                    "headers": dict(answer.headers),
                }
            )
            return
        link.reserved += 1
        link.pending[rid] = stats
        channel.send({"op": "grant", "rid": rid, "status": 101})

    def _lost(self, link: GatewayLink) -> None:
        """The gateway's channel closed: its connections are gone, its pending upgrades failed."""
        link.alive = False
        for stats in link.pending.values():
            Metrics.outcome(stats, "websocket", "server_errors")
        link.pending.clear()
        link.live = link.reserved = 0
        if link.ready is not None and not link.ready.done():
            if self._stopping:
                link.ready.cancel()  # nobody waits for its hello any more
            else:
                status = link.process.poll() if link.process is not None else None
                link.ready.set_exception(ConfigError(f"gateway {link.gid} exited with {status}"))
        if self._running and not self._stopping:
            self._supervise(link)
