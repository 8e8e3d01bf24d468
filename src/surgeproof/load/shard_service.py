"""Analysis where the shards lie, over the fleet's own worker channel (``--shards-stay``).

After the load is over, a worker whose record shard stays on its host answers the master's
requests about it: index the file, run a round of a pass over some of its blocks
(``analysis/shard_hosts.py``). Requests and answers are sealed like every other surgeproof
message of an authenticated session and travel in pieces below the socket's message bound.

Worker side: ``ShardService``. The work runs in a native thread of gevent's pool so the
worker's heartbeats keep going while numpy counts. Master side: ``FleetShardHosts``, a
``ShardHosts`` whose hosts are the run's workers; a worker that dies or goes silent fails its
request in one line (its shard can still be gathered and analysed in one place).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from surgeproof.analysis.shard_hosts import (
    KINDS,
    MAX_ANSWER_BYTES,
    MAX_ASK_BYTES,
    ShardAnswerer,
    ShardHostError,
    ShardHosts,
    Waiter,
)
from surgeproof.load import messages
from surgeproof.load.fleet_auth import Refused

#: Bytes per piece: far below the master socket's message bound (``fleet_auth``).
PIECE_BYTES = 4 << 20
#: A request whose worker sends nothing for this long has failed (the worker died or hangs);
#: a worker still counting says so every ``WORKING_EVERY_S``.
SILENCE_S = 60.0
WORKING_EVERY_S = 5.0
#: Requests a worker holds at once (the master sends one per round).
MAX_OPEN_ASKS = 4


def pieces(ask: int, data: bytes) -> list[dict[str, Any]]:
    """``data`` as SHARD_ASK / SHARD_ANSWER bodies."""
    total = len(data)
    return [
        {"ask": ask, "offset": o, "total": total, "data": data[o : o + PIECE_BYTES]}
        for o in range(0, max(total, 1), PIECE_BYTES)
    ]


class _Incoming:
    """The pieces of one request or answer, in order."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.parts: list[bytes] = []
        self.got = 0

    def add(self, offset: int, total: int, data: bytes) -> bool:
        """Add a piece; True once whole."""
        if total != self.total or offset != self.got:
            raise Refused("bad_field", "piece out of order or of another total")
        self.parts.append(data)
        self.got += len(data)
        return self.got >= self.total


class ShardService:
    """A worker's answers about its own record shard."""

    def __init__(self, link, records_path: Path, heard: dict[str, float]) -> None:
        self.link = link
        self.answerer = ShardAnswerer(records_path)
        self.heard = heard
        self.open: dict[int, tuple[str, _Incoming]] = {}

    def on_ask(self, d: Any) -> None:
        self.heard["t"] = time.monotonic()
        try:
            ask, offset, total, data = messages.piece(d, PIECE_BYTES, MAX_ASK_BYTES)
            kind = d.get("kind")
            if kind not in KINDS:
                raise Refused("bad_field", "kind: expected index or pass")
            if ask not in self.open:
                if len(self.open) >= MAX_OPEN_ASKS:
                    raise Refused("bad_field", "too many requests at once")
                self.open[ask] = (kind, _Incoming(total))
            held_kind, incoming = self.open[ask]
            if held_kind != kind:
                raise Refused("bad_field", "kind changed within a request")
            if not incoming.add(offset, total, data):
                return
        except Refused as exc:
            self.open.pop(d.get("ask") if isinstance(d, dict) else None, None)
            self._reply_error(d, f"request refused: {exc}")
            return
        del self.open[ask]
        import gevent

        gevent.spawn(self._answer, ask, kind, b"".join(incoming.parts))

    def _answer(self, ask: int, kind: str, payload: bytes) -> None:
        import gevent

        def working() -> None:
            while True:
                gevent.sleep(WORKING_EVERY_S)
                self.link.send(messages.SHARD_ANSWER, {"ask": ask, "working": True})

        ticker = gevent.spawn(working)
        try:
            # A native thread: this worker's greenlets (heartbeats) run while it counts.
            answer = gevent.get_hub().threadpool.apply(self.answerer.answer, (kind, payload))
        except ShardHostError as exc:
            self.link.send(messages.SHARD_ANSWER, {"ask": ask, "error": str(exc)[:500]})
            return
        finally:
            ticker.kill(block=False)
        for body in pieces(ask, answer):
            self.link.send(messages.SHARD_ANSWER, body)
            gevent.sleep(0)

    def _reply_error(self, d: Any, why: str) -> None:
        ask = d.get("ask") if isinstance(d, dict) else None
        if type(ask) is int and 0 <= ask < 1 << 31:
            self.link.send(messages.SHARD_ANSWER, {"ask": ask, "error": why[:500]})


class FleetShardHosts(ShardHosts):
    """The run's workers as the hosts of their own shards (the master's side)."""

    def __init__(self, gate, nodes: Mapping[str, str], silence_s: float = SILENCE_S) -> None:
        self.gate = gate
        self.nodes = dict(nodes)  # source -> Locust node id
        self.sources = tuple(self.nodes)
        self.silence_s = silence_s
        self.ids = itertools.count(1)
        self.waiting: dict[int, _Awaited] = {}
        self.crossed = {"asked": 0, "answered": 0}
        gate.on(messages.SHARD_ANSWER, self._on_answer)

    def send(self, source: str, kind: str, payload: bytes) -> Waiter:
        ask = next(self.ids)
        awaited = self.waiting[ask] = _Awaited(source)
        for body in pieces(ask, payload):
            self.gate.send(self.nodes[source], messages.SHARD_ASK, {**body, "kind": kind})
        self.crossed["asked"] += len(payload)

        def wait() -> bytes:
            try:
                return awaited.wait(self.silence_s)
            finally:
                self.waiting.pop(ask, None)

        return wait

    def _on_answer(self, session, d: Any) -> None:
        if not isinstance(d, dict):
            raise Refused("bad_field", "answer: expected an object")
        ask = d.get("ask")
        awaited = self.waiting.get(ask) if type(ask) is int else None
        if awaited is None or awaited.source != session.source:
            raise Refused("bad_field", "answer to no request of this worker")
        if d.get("working") is True:
            awaited.heard = time.monotonic()
            return
        if "error" in d:
            awaited.fail(messages.text(d["error"], "answer error"))
            return
        _, offset, total, data = messages.piece(d, PIECE_BYTES, MAX_ANSWER_BYTES)
        awaited.add(offset, total, data)
        self.crossed["answered"] += len(data)


class _Awaited:
    """One request's answer as it arrives."""

    def __init__(self, source: str) -> None:
        from gevent.event import Event

        self.source = source
        self.incoming: _Incoming | None = None
        self.error: str | None = None
        self.done = Event()
        self.heard = time.monotonic()

    def add(self, offset: int, total: int, data: bytes) -> None:
        self.heard = time.monotonic()
        if self.incoming is None:
            self.incoming = _Incoming(total)
        if self.incoming.add(offset, total, data):
            self.done.set()

    def fail(self, why: str) -> None:
        self.error = why
        self.done.set()

    def wait(self, silence_s: float) -> bytes:
        while not self.done.wait(timeout=1.0):
            if time.monotonic() - self.heard > silence_s:
                raise ShardHostError(
                    f"{self.source}: its worker sent nothing for {silence_s:g} s (died or hangs)"
                )
        if self.error is not None:
            raise ShardHostError(f"{self.source}: its worker could not answer: {self.error}")
        assert self.incoming is not None
        return b"".join(self.incoming.parts)
