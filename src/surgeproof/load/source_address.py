"""Loopback source addresses: spread a generator's connections over 127.0.0.x.

The kernel gives one (source IP, destination IP, destination port) about 28,000 ephemeral ports
(32768–60999), so 50,000 sessions from 127.0.0.1 to one loopback port cannot all exist. Every
connection to a loopback target is therefore bound to one of ``SOURCE_COUNT`` addresses
127.0.0.2 … in turn, with ``IP_BIND_ADDRESS_NO_PORT`` so the port is chosen at ``connect`` for
the full 4-tuple and binding costs no port of its own. Non-loopback targets are left alone.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import socket
from typing import Any
from urllib.parse import urlsplit

#: 16 addresses × ~28,000 ports per destination port: room for ~450,000 connections per port.
SOURCE_COUNT = 16
#: Linux: bind() reserves no port; connect() picks one unique for the whole 4-tuple.
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


def source_addresses(url: str) -> tuple[str, ...]:
    """The source addresses to spread connections to ``url`` over; empty for non-loopback."""
    host = urlsplit(url).hostname or ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return ()
    if ip.version != 4 or not ip.is_loopback:
        return ()
    return tuple(f"127.0.0.{2 + i}" for i in range(SOURCE_COUNT))


class SourceCycle:
    """Hands out the addresses in turn (one per new connection), or None when there are none."""

    def __init__(self, addresses: tuple[str, ...]) -> None:
        self.addresses = addresses
        self._next = itertools.cycle(addresses) if addresses else None

    def next(self) -> str | None:
        return next(self._next) if self._next is not None else None


def bind_source(sock: Any, address: str | None) -> None:
    """Bind ``sock`` to ``address`` (port left to connect); no-op for None."""
    if address is None:
        return
    # Not Linux: bind picks a port per source address; connections are still spread.
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
    sock.bind((address, 0))
