"""How a simulated person reaches the target: keep-alive HTTP without Locust's request machinery.

surgeproof records every call itself (exact 40-byte records), so Locust's per-request work —
request events and stats buckets, the cookie jar, URL parsing, response wrappers — is cost it
does not need: calls go straight to a lean keep-alive HTTP/1.1 pool (:mod:`.http1`). A person
with its own HTTP session keeps its connections (as an app does); rare pollers
(``Behaviour.shares_connection``) send through one pool per process, so 50,000 market watchers
do not hold 50,000 idle connections (and descriptors) on both sides. Every new connection to a
loopback target comes from the next 127.0.0.x (``source_address``); the process's soft
open-file limit is raised to the hard one before the first user connects.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from surgeproof.load.fd_budget import raise_fd_limit
from surgeproof.load.source_address import SourceCycle, bind_source, source_addresses
from surgeproof.load.users.http1 import Http1Pool

#: Connections the shared pool of one process may open to the target.
SHARED_CONNECTIONS = 128

_sources: dict[str, SourceCycle] = {}
_shared: dict[str, TargetHttp] = {}
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


class TargetHttp:
    """A keep-alive connection pool to the target; ``call`` never raises for a failed call."""

    __slots__ = ("pool", "prefix")

    def __init__(
        self, url: str, concurrency: int, network_timeout: float, connection_timeout: float
    ) -> None:
        parts = urlsplit(url)
        self.prefix = parts.path.rstrip("/")
        tls = parts.scheme == "https"
        sources = sources_for(url)
        self.pool = Http1Pool(
            parts.hostname or "127.0.0.1",
            parts.port or (443 if tls else 80),
            tls=tls,
            concurrency=concurrency,
            network_timeout=network_timeout,
            connection_timeout=connection_timeout,
            bind=_binder(sources) if sources.addresses else None,
        )

    def call(
        self, method: str, target: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, Callable[[str], Any], bytes, BaseException | None]:
        """(status, header lookup, body, None) for an answer; (0, _none, b"", error) for none."""
        try:
            status, answer_headers, content = self.pool.request(
                method, self.prefix + target, body or b"", headers
            )
        except Exception as exc:  # refused, reset, timed out, TLS: the record says which
            return 0, _no_header, b"", exc
        return status, _lookup(answer_headers), content, None

    def close(self) -> None:
        self.pool.close()


def _lookup(headers: dict[str, str]) -> Callable[[str], str | None]:
    """A case-insensitive header lookup (the pool keeps names in lower case)."""
    return lambda name: headers.get(name.lower())


def _no_header(name: str) -> None:
    return None


def shared_http(url: str, network_timeout: float, connection_timeout: float) -> TargetHttp:
    """The process's one pool for rare pollers of ``url`` (created on first use)."""
    http = _shared.get(url)
    if http is None:
        http = _shared[url] = TargetHttp(
            url, SHARED_CONNECTIONS, network_timeout, connection_timeout
        )
    return http


def _binder(sources: SourceCycle) -> Callable[[Any], None]:
    """Bind each new IPv4 socket to the next source address (ports spread over 127.0.0.x)."""

    def bind(sock: Any) -> None:
        if sock.family == socket.AF_INET:
            bind_source(sock, sources.next())

    return bind
