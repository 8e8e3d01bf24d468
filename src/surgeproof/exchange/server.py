"""Running the exchange: in-process (``running_exchange``) or as a process (``serve``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from aiohttp import web

from surgeproof.exchange.app import build_app, is_loopback
from surgeproof.exchange.config import ExchangeConfig
from surgeproof.exchange.errors import ConfigError
from surgeproof.exchange.fdlimit import connection_budget, raise_fd_limit
from surgeproof.exchange.routes import STATE
from surgeproof.exchange.state import ExchangeState


@dataclass
class RunningExchange:
    """Where a started exchange listens, and its state (for in-process inspection)."""

    url: str
    ws_url: str
    port: int
    state: ExchangeState = field(repr=False)
    ws_port: int = 0  # the gateways' port (== port when websockets are served in-process)

    @property
    def gateways(self) -> list[dict]:
        """Each WebSocket gateway process: id, pid, alive, connections, fd limit."""
        pool = self.state.gateways
        return pool.describe() if pool is not None else []

    def announcement(self, shown_accounts: int = 5) -> dict:
        """The one JSON line ``surgeproof exchange --json`` prints."""
        accounts = self.state.accounts
        return {
            "url": self.url,
            "ws_url": self.ws_url,
            "pid": os.getpid(),
            "dialect": self.state.config.dialect,
            "config": self.state.config.to_dict(),
            "accounts": [a.to_json() for a in accounts[:shown_accounts]],
            "accounts_total": len(accounts),
            "gateways": [{"id": g["id"], "pid": g["pid"]} for g in self.gateways],
        }


def check_host(host: str, allow_remote: bool) -> None:
    """Refuse to listen beyond loopback unless explicitly allowed."""
    if allow_remote:
        return
    if host == "localhost" or is_loopback(host):
        return
    raise ConfigError(f"refusing to listen on {host}: not loopback (pass --allow-remote to do it)")


@contextlib.asynccontextmanager
async def running_exchange(
    config: ExchangeConfig, host: str = "127.0.0.1", port: int = 0, ws_port: int = 0
) -> AsyncIterator[RunningExchange]:
    """Serve the exchange on the running loop for the duration of the block.

    With ``config.ws_gateways`` > 0, websockets are served by that many gateway processes on
    ``ws_port`` (0: a free one), and ``ws_url`` points there.
    """
    app = build_app(config)
    app[STATE].fd_budget = connection_budget(raise_fd_limit())
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock = site._server.sockets[0]  # type: ignore[union-attr]
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    state = app[STATE]
    ws_path = state.hub.protocol.path
    pool = None
    ws_bound = bound
    try:
        if config.ws_gateways:
            from surgeproof.exchange.gateway_pool import GatewayPool

            pool = GatewayPool(state, config.ws_gateways)
            ws_bound = await pool.start(host, ws_port)
            state.gateways = pool
        yield RunningExchange(
            url=f"http://{shown}:{bound}",
            ws_url=f"ws://{shown}:{ws_bound}{ws_path}",
            port=bound,
            state=state,
            ws_port=ws_bound,
        )
    finally:
        if pool is not None:
            await pool.stop()
        await runner.cleanup()


@contextlib.contextmanager
def exchange_in_thread(
    config: ExchangeConfig, host: str = "127.0.0.1", ws_port: int = 0
) -> Iterator[RunningExchange]:
    """Run the exchange on its own loop in a daemon thread (for synchronous callers and tests)."""
    ready = threading.Event()
    holder: dict[str, object] = {}
    loop = asyncio.new_event_loop()

    async def main() -> None:
        stop = asyncio.Event()
        holder["stop"] = stop
        try:
            async with running_exchange(config, host, ws_port=ws_port) as ex:
                holder["exchange"] = ex
                ready.set()
                await stop.wait()
        except BaseException as exc:  # surfaced to the caller below
            holder["error"] = exc
            ready.set()

    thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
    thread.start()
    ready.wait(30)
    if "error" in holder:
        raise holder["error"]  # type: ignore[misc]
    try:
        yield holder["exchange"]  # type: ignore[misc]
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)  # type: ignore[union-attr]
        thread.join(10)
        loop.close()


async def _serve(
    config: ExchangeConfig, host: str, port: int, as_json: bool, ws_port: int = 0
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with running_exchange(config, host, port, ws_port) as ex:
        gateways = f" over {len(ex.gateways)} gateway processes" if ex.gateways else ""
        if as_json:
            sys.stdout.write(json.dumps(ex.announcement(), ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(
                f"surgeproof exchange ({ex.state.config.dialect} API) listening on {ex.url} "
                f"(websocket {ex.ws_url}{gateways}), "
                f"{len(ex.state.accounts)} seeded accounts; admin at {ex.url}/admin/health; "
                "Ctrl-C to stop\n"
            )
        sys.stdout.flush()
        await stop.wait()


def serve(config: ExchangeConfig, host: str, port: int, as_json: bool, ws_port: int = 0) -> int:
    """Run until SIGINT/SIGTERM; exit status 0 on a clean shutdown."""
    asyncio.run(_serve(config, host, port, as_json, ws_port))
    return 0
