"""The local channel between the core and one gateway: newline-delimited JSON on a socketpair.

Core → gateway: ``md`` (a market-data message to cache and, if ``realtime``, fan out),
``grant`` (the answer to an admission), ``stop``. Gateway → core: ``hello``, ``admit`` (a
connection wants to upgrade), ``opened`` / ``failed`` (what became of a granted one),
``closed``, ``stats`` (cumulative messages written and dropped).
"""

from __future__ import annotations

import asyncio
import json
import socket

#: Longest line accepted (an orderbook message is a few kilobytes).
LINE_LIMIT = 1 << 20


def encode(message: dict) -> bytes:
    """One message as one line (encoded once, then written to as many channels as needed)."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


class Channel:
    """One end of the channel."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, sock: socket.socket) -> Channel:
        reader, writer = await asyncio.open_unix_connection(sock=sock, limit=LINE_LIMIT)
        return cls(reader, writer)

    def send(self, message: dict) -> None:
        self.write(encode(message))

    def write(self, line: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(line)

    async def receive(self) -> dict | None:
        """The next message, or None when the other end has gone (EOF or a broken line)."""
        try:
            line = await self.reader.readline()
        except (ConnectionError, ValueError, asyncio.LimitOverrunError):
            return None
        if not line.endswith(b"\n"):
            return None
        try:
            message = json.loads(line)
        except ValueError:
            return None
        return message if isinstance(message, dict) else None

    def close(self) -> None:
        self.writer.close()
