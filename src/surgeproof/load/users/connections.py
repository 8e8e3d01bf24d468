"""How a simulated person reaches the target: connections spread over source addresses.

A person with its own HTTP session keeps its keep-alive connection (as an app does); rare
pollers (``Behaviour.shares_connection``) send through one pool per process, so 50,000 market
watchers do not hold 50,000 idle HTTP connections (and descriptors) on both sides. Every new
connection to a loopback target comes from the next 127.0.0.x (``source_address``); the
process's soft open-file limit is raised to the hard one before the first user connects.
"""

from __future__ import annotations

from typing import Any

from surgeproof.load.fd_budget import raise_fd_limit
from surgeproof.load.source_address import BoundClientPool, SourceCycle, source_addresses

#: Connections the shared pool of one process may open to the target.
SHARED_CONNECTIONS = 128

_sources: dict[str, SourceCycle] = {}
_shared: dict[tuple[int, str], Any] = {}
_fd_limit: list[int] = []


def ensure_fd_limit() -> int:
    """Raise this process's soft open-file limit once; returns the limit in force."""
    if not _fd_limit:
        _fd_limit.append(raise_fd_limit()[0])
    return _fd_limit[0]


def sources_for(url: str) -> SourceCycle:
    """The process's rotation of source addresses for connections to ``url``'s host."""
    cycle = _sources.get(url)
    if cycle is None:
        cycle = _sources[url] = SourceCycle(source_addresses(url))
    return cycle


def spread_session(session: Any, url: str) -> None:
    """Make a user's own ``FastHttpSession`` open its connections from spread sources."""
    sources = sources_for(url)
    if not sources.addresses:
        return
    agent = session.client
    agent.clientpool = BoundClientPool(sources, **agent.clientpool.client_args)


def shared_session(environment: Any, url: str, network_timeout: float, connection_timeout: float):
    """The process's one ``FastHttpSession`` for rare pollers of ``url`` (created on first use)."""
    key = (id(environment), url)
    session = _shared.get(key)
    if session is None:
        from locust.contrib.fasthttp import FastHttpSession

        pool = BoundClientPool(
            sources_for(url),
            concurrency=SHARED_CONNECTIONS,
            network_timeout=network_timeout,
            connection_timeout=connection_timeout,
            insecure=False,
        )
        session = FastHttpSession(
            url,
            environment.events.request,
            None,
            insecure=False,
            client_pool=pool,
            network_timeout=network_timeout,
            connection_timeout=connection_timeout,
            max_retries=0,
        )
        _shared[key] = session
    return session
