"""The master's gate on Locust's worker channel: nothing unauthenticated gets past it.

Installed on a Locust ``MasterRunner`` before any worker can connect, it stands between the
ZeroMQ socket and Locust's own message handling:

* bytes that are not a Locust message at all, or a message whose node id differs from the
  connection it came on (ZeroMQ node ids are chosen by the peer), are refused;
* surgeproof's messages are handled here: the handshake (``fleet_auth``), then only sealed
  messages of an authenticated session, opened with that worker's session key — the handlers
  get the session (the worker's identity and the source name the master gave it), never a name
  the message claims;
* Locust's own messages (``client_ready``, heartbeats, stats) from a node that has not
  authenticated are held back: Locust never counts it as a worker, so it is given no users and
  the offered load cannot silently go to it. Its ``client_ready`` is answered (the worker needs
  that to say HELLO) and replayed to Locust once the node has proved the fleet key. A node that
  has not done so within ``AUTH_BOUND_S`` is refused (``late``), with what it sent.

Every refusal goes to the run's :class:`~surgeproof.load.refusals.RefusalLog`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

from surgeproof.confine import checked_name
from surgeproof.load import fleet_auth, messages
from surgeproof.load.fleet_auth import Challenge, Channel, Refused
from surgeproof.load.recorder import now_ns
from surgeproof.load.refusals import RefusalLog, shown
from surgeproof.secret import Secret

#: Seconds a node may take from its first message to a verified proof (a worker needs
#: milliseconds) before it is refused as ``late``.
AUTH_BOUND_S = 5.0
#: Open handshakes and unauthenticated nodes tracked at once (the oldest give way).
MAX_PENDING = 1024
MAX_EXPIRED = 4096
#: Locust's own messages a master takes from an authenticated worker (not e.g. ``locustfile``,
#: which would have it read and send files).
LOCUST_TYPES = frozenset(
    {
        "client_ready",
        "heartbeat",
        "stats",
        "spawning",
        "spawning_complete",
        "quit",
        "client_stopped",
        "exception",
        "logs",
    }
)
#: What a worker's source is made from: the hex of its Locust node id (``host_<uuid hex>``).
_HEX = re.compile(r"[0-9a-f]{8,64}")

Handler = Callable[["Session", Any], None]
log = logging.getLogger(__name__)


@dataclass
class Session:
    """An authenticated worker: its connection's node id, the source name the master gave it,
    and the channel sealed with its own session key."""

    node_id: str
    source: str
    channel: Channel = field(repr=False)
    authenticated_ns: int = 0
    #: What the worker said of its record shard (READY, DONE): whether SHARD chunks may come.
    shard: dict[str, Any] | None = None


@dataclass
class _Unauthenticated:
    first: float
    counts: dict[str, int] = field(default_factory=dict)


class FleetGate:
    """Authenticates workers and carries sealed messages between them and the master."""

    def __init__(
        self,
        runner,
        key: Secret,
        refusals: RefusalLog,
        on_authenticated: Callable[[Session], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runner = runner
        self.key = key
        self.refusals = refusals
        self.on_authenticated = on_authenticated
        self.clock = clock
        self.sessions: dict[str, Session] = {}
        self.handlers: dict[str, Handler] = {}
        self._pending: dict[str, tuple[Challenge, float]] = {}
        self._unauth: dict[str, _Unauthenticated] = {}
        self._expired: dict[str, None] = {}
        self._sources: dict[str, str] = {}  # node id -> source, kept across re-authentication
        self._guarded_server = None
        self._locust_handle = None

    # -- installation ---------------------------------------------------------------------

    def install(self) -> None:
        """Put the gate in front of Locust's handling; call right after the runner is made."""
        self._locust_handle = self.runner.handle_message
        self.runner.handle_message = self._handle
        self.guard_server()

    def guard_server(self) -> None:
        """Bound and check what the socket delivers (again after Locust replaced its socket)."""
        server = self.runner.server
        if server is self._guarded_server:
            return
        import zmq

        server.socket.setsockopt(zmq.MAXMSGSIZE, fleet_auth.MAX_MESSAGE_BYTES)
        server.recv_from_client = lambda: self._receive(server)
        self._guarded_server = server

    def on(self, msg_type: str, handler: Handler) -> None:
        """Handle sealed ``msg_type`` messages of authenticated workers."""
        self.handlers[msg_type] = handler

    # -- sending --------------------------------------------------------------------------

    def send(self, node_id: str, msg_type: str, body: Any) -> None:
        session = self.sessions[node_id]
        # Sealing and handing to the socket do not yield to another greenlet, so the
        # sequence numbers leave in the order they were given.
        envelope = session.channel.seal(msg_type, body)
        self.runner.send_message(msg_type, envelope, client_id=node_id)

    def broadcast(self, msg_type: str, body: Any) -> None:
        """``body`` to every authenticated worker, each sealed with its own session key."""
        for node_id in list(self.sessions):
            self.send(node_id, msg_type, body)

    def source_of(self, node_id: str) -> str | None:
        return self._sources.get(node_id)

    # -- every tick -----------------------------------------------------------------------

    def tick(self) -> None:
        """Nodes past the bound without a proof are refused; due refusal events written."""
        self.guard_server()
        now = self.clock()
        for node_id, seen in list(self._unauth.items()):
            if now - seen.first >= AUTH_BOUND_S:
                self._expire(node_id, seen, f"within {AUTH_BOUND_S:g} s")
        for node_id, (_ch, at) in list(self._pending.items()):
            if now - at >= AUTH_BOUND_S:
                del self._pending[node_id]
        self.refusals.flush()

    def close(self) -> None:
        """At the end: nodes still unauthenticated are refused; every count is written."""
        for node_id, seen in list(self._unauth.items()):
            self._expire(node_id, seen, "before the run ended")
        self.refusals.flush(final=True)

    def _expire(self, node_id: str, seen: _Unauthenticated, when: str) -> None:
        del self._unauth[node_id]
        self._remember_expired(node_id)
        for msg_type, n in seen.counts.items():
            self.refusals.refuse(
                "late", peer=node_id, message=msg_type, count=n, detail=f"no proof {when}"
            )

    # -- receiving ------------------------------------------------------------------------

    def _receive(self, server) -> tuple[str, Any]:
        """Locust's ``recv_from_client``, except that bytes which are not a Locust message are
        refused here instead of raising out of (and ending) Locust's listener."""
        import zmq
        from locust.exception import RPCError
        from locust.rpc.protocol import Message

        while True:
            try:
                frames = server.socket.recv_multipart()
            except zmq.ZMQError as exc:
                raise RPCError("ZMQ network broken") from exc
            peer = frames[0] if frames else None
            try:
                if len(frames) != 2:
                    raise ValueError(f"{len(frames)} frames")
                addr = frames[0].decode()
                msg = Message.unserialize(frames[1])
            except Exception as exc:  # anything the bytes make msgpack or Locust raise
                self.refusals.refuse(
                    "malformed", peer=peer, message=None, detail=type(exc).__name__
                )
                continue
            return addr, msg

    def _handle(self, client_id: str, msg) -> None:
        mtype, node_id = msg.type, msg.node_id
        if not isinstance(mtype, str) or not isinstance(node_id, str):
            self.refusals.refuse("malformed", peer=client_id, message=mtype)
            return
        if node_id != client_id:
            self.refusals.refuse(
                "node_mismatch",
                peer=client_id,
                message=mtype,
                claimed_source=_claimed(msg.data),
                detail=f"claims node {shown(node_id)!r}",
            )
            return
        if mtype.startswith(messages.PREFIX):
            self._surgeproof(node_id, mtype, msg.data)
        elif mtype not in LOCUST_TYPES:
            self.refusals.refuse(
                "malformed", peer=node_id, message=mtype, detail="not a message this master takes"
            )
        elif node_id in self.sessions:
            self._to_locust(client_id, msg)
        else:
            self._hold(node_id, mtype)
            if mtype == "client_ready":
                from locust.rpc.protocol import Message

                # Answered so that the worker goes on to say HELLO; counted as a worker only
                # once it has proved the fleet key (then its client_ready is replayed).
                self.runner.server.send_to_client(Message("ack", {"index": -1}, node_id))

    def _to_locust(self, client_id: str, msg) -> None:
        """Locust's own handling; a message it chokes on must not end its listener."""
        assert self._locust_handle is not None
        try:
            self._locust_handle(client_id, msg)
        except Exception as exc:
            log.exception("Locust could not handle %s from %s", msg.type, client_id)
            self.refusals.refuse(
                "bad_field", peer=client_id, message=msg.type, detail=type(exc).__name__
            )

    def _hold(self, node_id: str, mtype: str) -> None:
        seen = self._unauth.get(node_id)
        if seen is None:
            if node_id in self._expired:
                self.refusals.refuse("late", peer=node_id, message=mtype)
                return
            if len(self._unauth) >= MAX_PENDING:
                old = next(iter(self._unauth))
                self._expire(old, self._unauth[old], "before newer nodes crowded it out")
            seen = self._unauth[node_id] = _Unauthenticated(self.clock())
        seen.counts[mtype] = seen.counts.get(mtype, 0) + 1

    def _surgeproof(self, node_id: str, mtype: str, data: Any) -> None:
        try:
            if mtype == messages.HELLO:
                self._hello(node_id, data)
            elif mtype == messages.PROOF:
                self._proof(node_id, data)
            elif mtype == messages.DECLINE:
                self._pending.pop(node_id, None)
                raise Refused("declined")
            else:
                self._sealed(node_id, mtype, data)
        except Refused as r:
            session = self.sessions.get(node_id)
            claimed = session.source if session is not None else _claimed(data)
            self.refusals.refuse(
                r.reason, peer=node_id, message=mtype, claimed_source=claimed, detail=r.detail
            )

    def _hello(self, node_id: str, data: Any) -> None:
        if node_id not in self.sessions:
            self._hold(node_id, messages.HELLO)
        ch = fleet_auth.challenge(node_id, data)
        self._pending.pop(node_id, None)
        if len(self._pending) >= MAX_PENDING:
            self._pending.pop(next(iter(self._pending)))
        self._pending[node_id] = (ch, self.clock())
        self.runner.send_message(messages.CHALLENGE, ch.message(self.key), client_id=node_id)

    def _proof(self, node_id: str, data: Any) -> None:
        pending = self._pending.pop(node_id, None)
        if pending is None:
            raise Refused("no_challenge")
        channel = fleet_auth.accept_proof(self.key, pending[0], data)
        source = self._sources.get(node_id) or self._new_source(node_id)
        session = Session(node_id, source, channel, now_ns())
        self.sessions[node_id] = session
        self._unauth.pop(node_id, None)
        self._expired.pop(node_id, None)
        self._register_with_locust(node_id)
        self.on_authenticated(session)

    def _register_with_locust(self, node_id: str) -> None:
        """Locust's own ``client_ready`` for a node that just proved the fleet key."""
        import locust
        from locust.rpc.protocol import Message

        if node_id not in self.runner.clients:
            self._to_locust(node_id, Message("client_ready", locust.__version__, node_id))

    def _sealed(self, node_id: str, mtype: str, data: Any) -> None:
        session = self.sessions.get(node_id)
        if session is None:
            raise Refused("unauthenticated")
        handler = self.handlers.get(mtype)
        if handler is None:
            raise Refused("malformed", "no such surgeproof message")
        body = session.channel.open(mtype, data)
        try:
            handler(session, body)
        except Refused:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.exception("authenticated %s from %s did not fit", mtype, session.source)
            raise Refused("bad_field", type(exc).__name__) from None

    def _new_source(self, node_id: str) -> str:
        """``worker-<8 hex of the node id>``, unique in this run: the name its records,
        samples and events carry, whatever the worker calls itself."""
        tail = node_id.rsplit("_", 1)[-1]
        stem = tail[:8] if _HEX.fullmatch(tail) else sha256(node_id.encode()).hexdigest()[:8]
        base = f"worker-{stem}"
        taken = set(self._sources.values())
        source, n = base, 1
        while source in taken:
            n += 1
            source = f"{base}-{n}"
        self._sources[node_id] = checked_name(source, "worker source")
        return source

    def _remember_expired(self, node_id: str) -> None:
        self._expired[node_id] = None
        if len(self._expired) > MAX_EXPIRED:
            self._expired.pop(next(iter(self._expired)))


def _claimed(data: Any) -> Any:
    """The source an unauthenticated message claims (shown in its refusal, never believed)."""
    if isinstance(data, dict):
        return data.get("source")
    return None
