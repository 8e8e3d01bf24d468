"""The worker's side of the fleet's authenticated channel, over a Locust ``WorkerRunner``.

The worker says HELLO, checks the master's proof of the fleet key before it answers, and takes
nothing from a master that cannot give one: no SETUP (target URL, dialect, run id), no load
state, and none of Locust's own orders (``spawn`` carries a host, ``quit`` ends the worker) —
until the master has proved itself, only Locust's connection keeping (``ack``, ``heartbeat``,
``reconnect``) gets through. After that, surgeproof's messages both ways are sealed with this
worker's session key (``fleet_auth``), and Locust's ``spawn`` is given the target URL of the
authenticated SETUP whatever host it names.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from surgeproof.load import fleet_auth, messages
from surgeproof.load.fleet_auth import Channel, Refused
from surgeproof.secret import Secret

log = logging.getLogger(__name__)
#: Locust's messages a worker takes from a master that has not proved the fleet key.
CONNECTION_KEEPING = frozenset({"ack", "heartbeat", "reconnect"})


def create_gated_runner(env, master_host: str, master_port: int):
    """A Locust worker runner that, until a channel takes over its handling, obeys only
    connection keeping: Locust's runner reads the master's messages while it waits for its
    first ``ack``, before any channel could be put in front of it."""
    from locust.env import RunnerAlreadyExistsError
    from locust.runners import WorkerRunner
    from locust.stats import RequestStats

    class GatedWorkerRunner(WorkerRunner):
        gate: Callable[[Any], None] | None = None

        def handle_message(self, msg) -> None:
            if self.gate is not None:
                self.gate(msg)
            elif msg.type in CONNECTION_KEEPING:
                super().handle_message(msg)

        def locust_handle(self, msg) -> None:
            super().handle_message(msg)

    if env.runner is not None:
        raise RunnerAlreadyExistsError(f"Environment.runner already exists ({env.runner})")
    # As Locust's own create_worker_runner: a worker keeps no response-times cache.
    env.stats = RequestStats(use_response_times_cache=False)
    env.runner = GatedWorkerRunner(env, master_host=master_host, master_port=master_port)
    return env.runner


class WorkerChannel:
    """Proves the fleet key to the master, checks the master's, then seals and opens."""

    def __init__(
        self,
        runner,
        key: Secret,
        on_master_refused: Callable[[Refused], None],
        warn: Callable[[str], None] = print,
    ) -> None:
        self.runner = runner
        self.key = key
        self.node_id: str = runner.client_id
        self.on_master_refused = on_master_refused
        self.warn = warn
        self.channel: Channel | None = None
        #: The target URL of the authenticated SETUP (the host every ``spawn`` is given).
        self.url: str | None = None
        self.handlers: dict[str, Callable[[Any], None]] = {}
        self._nonce: bytes | None = None
        self._locust_handle = None
        self._warned: set[str] = set()

    @property
    def authenticated(self) -> bool:
        return self.channel is not None

    def install(self) -> None:
        """Put the channel in front of Locust's handling of what the master sends."""
        self._locust_handle = self.runner.locust_handle
        self.runner.gate = self._handle

    def on(self, msg_type: str, handler: Callable[[Any], None]) -> None:
        """Handle sealed ``msg_type`` messages from the authenticated master."""
        self.handlers[msg_type] = handler

    def hello(self) -> None:
        """Start (or restart) the handshake."""
        self._nonce, data = fleet_auth.hello()
        self.runner.send_message(messages.HELLO, data)

    def send(self, msg_type: str, body: Any) -> bool:
        """Seal and send ``body``; False (nothing sent) before the master proved itself."""
        if self.channel is None:
            return False
        # Sealing and handing to the socket do not yield to another greenlet: the sequence
        # numbers leave in the order they were given.
        envelope = self.channel.seal(msg_type, body)
        self.runner.send_message(msg_type, envelope)
        return True

    def _handle(self, msg) -> None:
        mtype = msg.type
        assert self._locust_handle is not None
        if mtype == messages.CHALLENGE:
            self._challenge(msg.data)
        elif isinstance(mtype, str) and mtype.startswith(messages.PREFIX):
            self._sealed(mtype, msg.data)
        elif mtype in CONNECTION_KEEPING:
            self._locust_handle(msg)
        elif self.channel is None or self.url is None:
            self._warn_once("early", f"ignored Locust's {mtype!r} from a master not yet proved")
        elif mtype == "spawn":
            if isinstance(msg.data, dict):
                msg.data["host"] = self.url  # the authenticated target, not the message's
                self._locust_handle(msg)
        else:
            self._locust_handle(msg)

    def _challenge(self, data: Any) -> None:
        if self.channel is not None or self._nonce is None:
            return  # not an answer to a HELLO of ours: nothing to take from it
        try:
            channel, proof = fleet_auth.answer_challenge(self.key, self.node_id, self._nonce, data)
        except Refused as r:
            self._nonce = None
            self.runner.send_message(messages.DECLINE, {"why": r.reason})
            self.on_master_refused(r)
            return
        self._nonce = None
        self.channel = channel
        self.runner.send_message(messages.PROOF, proof)

    def _sealed(self, mtype: str, data: Any) -> None:
        handler = self.handlers.get(mtype)
        if self.channel is None or handler is None:
            self._warn_once(mtype, f"ignored {mtype} before the master proved the fleet key")
            return
        try:
            body = self.channel.open(mtype, data)
        except Refused as r:
            self._warn_once(r.reason, f"refused {mtype} from the master: {r}")
            return
        try:
            handler(body)
        except Exception:  # as Locust does for its own handlers: log, keep listening
            log.exception("handling %s from the master", mtype)

    def _warn_once(self, key: str, text: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.warn(f"surgeproof worker: {text}")
