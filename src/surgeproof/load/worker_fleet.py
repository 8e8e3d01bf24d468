"""The conductor's workers: started (here) or awaited (elsewhere), fed, lost and rebalanced.

Locust's master runner does the dispatching; this is what surgeproof adds around it: a gate
(``fleet_gate``) that lets only workers proving the fleet key count as workers and takes only
messages sealed with their own session keys — each worker's records, samples and shard go under
the source name the master gave it, never one a message claims — and records every refusal;
the SETUP each worker needs (target, dialect, accounts, client settings), the record batches each
one ships into the run directory — or, from a worker that keeps its own record shard
(``record_shard``), its per-second counts and, at the end, its shard gathered in chunks — and an
honest account of every worker that was lost — how it was noticed, the last batch it shipped,
and when its users ran again elsewhere (the window in which the offered load fell short, which
the analysis holds against every level it overlaps) — and of every shard that could not be
gathered.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from surgeproof.errors import UserError
from surgeproof.load import messages
from surgeproof.load.collector import Collector
from surgeproof.load.fleet_auth import Refused
from surgeproof.load.fleet_gate import FleetGate, Session
from surgeproof.load.fleet_key import FleetKey, new_fleet_key
from surgeproof.load.liveness import LocalWorkers, die_with_parent
from surgeproof.load.options import RunOptions
from surgeproof.load.record_shard import CHUNK_BYTES, probe_setup, remove_probe
from surgeproof.load.recorder import now_ns
from surgeproof.load.refusals import RefusalLog
from surgeproof.rundir.writer import ShardInbox, seal_records

WORKER_CONNECT_TIMEOUT_S = 60.0
#: Workers on other machines are started by hand or by an orchestrator: give them longer.
REMOTE_WORKER_CONNECT_TIMEOUT_S = 180.0
#: How long the end of a run waits for every living worker's last batch.
LAST_BATCH_WAIT_S = 8.0
#: Gathering shards at the end goes on while chunks keep arriving; it gives up after this long
#: without one (the shard stays on its worker's host: ``surgeproof gather``).
GATHER_STALL_S = 15.0
#: What run.json says of how workers were let in.
AUTH_SCHEME = (
    "HMAC-SHA256 challenge-response on the fleet key (nonces from both sides), then every "
    "message sealed with a per-worker session key (HKDF-SHA256) and a sequence number"
)


class WorkerFleet:
    """The workers of one distributed run, as the conductor sees them."""

    def __init__(self, opts: RunOptions, collector: Collector, log_path) -> None:
        self.opts = opts
        self.collector = collector
        self.log_path = log_path
        #: The fleet key (``--fleet-key-file``, ``$SURGEPROOF_FLEET_KEY``, or made for a run
        #: whose workers are all its own).
        self.key: FleetKey = opts.fleet_key or new_fleet_key()
        self.refusals = RefusalLog(collector.event, lambda line: print(line, flush=True))
        self.gate: FleetGate | None = None
        self.lost: list[dict[str, Any]] = []
        self.seen: list[str] = []
        self.done_sources: set[str] = set()
        self.local = LocalWorkers()
        #: source -> {"host", "pid", "node", "shipped", "received"} (run.json workers.nodes).
        self.nodes: dict[str, dict[str, Any]] = {}
        self.last_batch_ns: dict[str, int] = {}
        self._await_rebalance: list[dict[str, Any]] = []
        self._prev: dict[str, int] = {}
        #: Shards arriving at the end, by source; when the last chunk came.
        self.inboxes: dict[str, ShardInbox] = {}
        self._gather_t = 0.0
        self.keep_records = False

    @property
    def expected(self) -> int:
        return self.opts.workers + self.opts.expect_workers

    def master_port(self) -> int:
        """``--master-port``, else a free loopback port."""
        if self.opts.master_port:
            return self.opts.master_port
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    # -- start-up -------------------------------------------------------------------------

    def start(self, runner, setup: dict[str, Any], stopping: Callable[[], str | None]) -> None:
        """Listen for workers, start the local ones, wait until every expected one is ready.

        Called right after the runner is made, before anything yields: no worker can reach
        Locust's own handling before the gate stands in front of it."""
        import gevent

        gate = self._listen(runner, {**setup, **self._shard_setup()})
        port = runner.master_bind_port
        self._spawn_local(port)
        timeout = WORKER_CONNECT_TIMEOUT_S
        if self.opts.expect_workers:
            timeout = REMOTE_WORKER_CONNECT_TIMEOUT_S
            print(
                f"surgeproof run: waiting up to {timeout:.0f}s for {self.opts.expect_workers} "
                f"worker(s): surgeproof worker --master {self.opts.master_bind_host} "
                f"--master-port {port} {_key_hint(self.key)}",
                flush=True,
            )
        deadline = time.monotonic() + timeout
        while len(self.seen) < self.expected:
            reason = stopping()
            if reason is not None:
                raise UserError(f"{reason} while waiting for workers")
            if time.monotonic() > deadline:
                gate.close()
                refused = self.refusals.messages
                note = (
                    f" ({refused} message(s) refused: see fleet_refused in events.jsonl)"
                    if refused
                    else ""
                )
                raise UserError(
                    f"only {len(self.seen)} of {self.expected} workers connected within "
                    f"{timeout:.0f}s{note}"
                )
            gevent.sleep(0.1)
            gate.tick()

    def _shard_setup(self) -> dict[str, Any]:
        """SETUP's record-shard fields: the mode, the token in the run directory, the buckets."""
        mode = self.opts.record_shards
        out: dict[str, Any] = {"record_shards": mode, "run_id": self.collector.run_dir.name}
        if mode != "master":
            out.update(probe_setup(self.collector.run_dir))
            bounds = self.collector.tally_bounds_s
            out["tally_buckets_s"] = list(bounds) if bounds else None
        return out

    def _listen(self, runner, setup: dict[str, Any]) -> FleetGate:
        collector = self.collector
        gate = self.gate = FleetGate(runner, self.key.secret, self.refusals, self._authenticated)
        gate.install()
        self._setup = setup

        def on_batch(session: Session, d) -> None:
            source = session.source
            sample = messages.sample(d.get("sample"), source)
            if d.get("orders"):
                collector.orders(source, d["orders"])
            if "raw" not in d:  # a worker that keeps its own shard
                records = messages.count(d.get("records", 0), "records")
                tally = d.get("tally")
                if tally is not None and not isinstance(tally, dict):
                    raise Refused("bad_field", "tally: expected an object")
                self.last_batch_ns[source] = now_ns()
                collector.counts(source, records, tally, sample)
                return
            raw = messages.records(d["raw"])
            names = messages.names(d.get("names", []))
            self.last_batch_ns[source] = now_ns()
            collector.batch(source, raw, names, sample)

        def on_shard(session: Session, d) -> None:
            source = session.source
            if not session.shard or session.shard.get("shared"):
                raise Refused("bad_field", "SHARD from a worker that keeps no shard on its host")
            part, offset, data = messages.chunk(d, CHUNK_BYTES)
            inbox = self.inboxes.get(source)
            if inbox is None:
                inbox = self.inboxes[source] = ShardInbox(collector.run_dir, source)
            inbox.write(part, offset, data)
            self._gather_t = time.monotonic()
            total = sum(inbox.received.values())
            gate.send(session.node_id, messages.SHARD_ACK, {"total": total})

        def on_ready(session: Session, d) -> None:
            source = session.source
            shard = messages.shard(d.get("shard"))
            pid = d.get("pid")
            host = messages.text(d.get("host", ""), "host")
            if pid is not None:
                pid = messages.count(pid, "pid", 1 << 31)
            if shard:
                session.shard = shard
            node = self.nodes.setdefault(source, {})
            node.update({"host": host, "pid": pid, "node": session.node_id})
            if shard:
                node["shard"] = shard
            if pid and host == socket.gethostname() and pid in {p.pid for p in self.local.procs}:
                self.local.node_pid[session.node_id] = pid
            if source not in self.seen:
                self.seen.append(source)
                collector.event("worker_joined", source=source, users=0, node=session.node_id)

        def on_done(session: Session, d) -> None:
            source = session.source
            node = self.nodes.setdefault(source, {})
            if "shipped" in d:
                node["shipped"] = messages.count(d["shipped"], "shipped")
            shard = messages.shard(d.get("shard"))
            if shard:
                if session.shard is not None and session.shard.get("shared") != shard["shared"]:
                    raise Refused("bad_field", "DONE's shard is not the one READY described")
                session.shard = node["shard"] = shard
            self.done_sources.add(source)

        gate.on(messages.BATCH, on_batch)
        gate.on(messages.READY, on_ready)
        gate.on(messages.DONE, on_done)
        gate.on(messages.SHARD, on_shard)
        return gate

    def _authenticated(self, session: Session) -> None:
        """A worker proved the fleet key: its SETUP, with the source name it is to use."""
        assert self.gate is not None
        self.gate.send(session.node_id, messages.SETUP, {**self._setup, "source": session.source})

    def broadcast(self, runner, msg_type: str, body: Any) -> None:
        """``body`` to every authenticated worker, sealed for each."""
        assert self.gate is not None
        self.gate.broadcast(msg_type, body)

    def source_of(self, node_id: str) -> str:
        """The source name the master gave a node (its provisional name if it has none)."""
        given = self.gate.source_of(node_id) if self.gate is not None else None
        return given or messages.source_of(node_id)

    def _spawn_local(self, port: int) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the workers hold it; closed below
        bind = self.opts.master_bind_host
        local_master = "127.0.0.1" if bind in ("", "*", "0.0.0.0", "::") else bind
        cmd = [sys.executable, "-m", "surgeproof.cli", "worker", "--master", local_master]
        cmd += ["--master-port", str(port)]
        # The key goes in the environment, never on the command line (``ps`` shows that).
        env = {**os.environ, **self.key.env()}
        for _ in range(self.opts.workers):
            self.local.procs.append(
                subprocess.Popen(
                    cmd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    # Ctrl-C reaches the conductor only, which finishes the workers in order;
                    # a SIGKILLed conductor takes its workers with it.
                    start_new_session=True,
                    preexec_fn=die_with_parent,
                )
            )
        log.close()

    # -- while running --------------------------------------------------------------------

    def tick(self, runner) -> None:
        """Every conductor tick: a dead local worker is handed to Locust at once, and losses
        and restorations become events."""
        self._flag_exited(runner)
        self._prev = self._track(runner, self._prev)
        if self.gate is not None:
            self.gate.tick()

    def _flag_exited(self, runner) -> None:
        """A local worker whose process exited is missing now, not after its heartbeats lapse."""
        for node_id in self.local.exited_nodes():
            node = runner.clients.get(node_id)
            if node is not None and node.state != "missing":
                node.heartbeat = -1  # Locust marks it missing and rebalances on its next beat

    def _track(self, runner, prev: dict[str, int]) -> dict[str, int]:
        """worker_lost / rebalanced events from Locust's view of its workers."""
        now: dict[str, int] = {}
        for node in runner.clients.values():
            if node.state != "missing":
                now[node.id] = sum(node.user_classes_count.values())
        for node_id, users in prev.items():
            if node_id in now:
                continue
            source = self.source_of(node_id)
            if node_id in self.local.reported:
                how = "process exit"
            elif node_id in runner.clients:
                how = "heartbeat"
            else:
                how = "worker stopped"
            t_lost = now_ns()
            entry = {
                "source": source,
                "t_ns": t_lost,
                "users": users,
                "detected_by": how,
                "last_batch_ns": self.last_batch_ns.get(source),
            }
            self.lost.append(entry)
            self.collector.latest.pop(source, None)  # its last sample no longer counts
            self.collector.event(
                "worker_lost",
                t_ns=t_lost,
                source=source,
                users=users,
                detected_by=how,
                last_batch_ns=entry["last_batch_ns"],
            )
            self._await_rebalance.append(entry)
        if self._await_rebalance and now:
            self._check_restored(runner, now)
        return now

    def _check_restored(self, runner, now: dict[str, int]) -> None:
        """``rebalanced`` once the living workers' own samples, taken after the loss, show the
        offered users running again (Locust's dispatch alone is not users running)."""
        first = self._await_rebalance[0]
        target = runner.target_user_count
        samples = [self.collector.latest.get(self.source_of(n)) for n in now]
        if target <= 0 or not all(s and s["t_ns"] > first["t_ns"] for s in samples):
            return
        active = sum(int(s.get("active_users", 0)) for s in samples if s)
        if active < target:  # restored means every offered user runs again, not most of them
            return
        t = max(int(s["t_ns"]) for s in samples if s)
        self.collector.event(
            "rebalanced",
            t_ns=t,
            workers=len(now),
            users=active,
            gap_s=(t - first["t_ns"]) / 1e9,
            short_from_ns=first["last_batch_ns"] or first["t_ns"],
        )
        for entry in self._await_rebalance:
            # The window in which offered load fell short: from the last batch the worker
            # shipped (it may have died any time after) to the users running again.
            entry["short_from_ns"] = entry["last_batch_ns"] or entry["t_ns"]
            entry["restored_t_ns"] = t
            entry["short_s"] = (t - entry["short_from_ns"]) / 1e9
        self._await_rebalance = []

    # -- the end --------------------------------------------------------------------------

    def finish(self, runner, keep: bool = False) -> None:
        """Tell every worker to finish, wait for the living ones' last batches, then gather the
        shards kept on workers' hosts for as long as their chunks keep coming. ``keep``
        (``--shards-stay``): gather only their names; the records stay, and the channel stays
        open for their analysis (``release`` closes it)."""
        import gevent

        self.keep_records = keep
        self.broadcast(runner, messages.FINISH, {"keep": keep})
        wait_until = time.monotonic() + LAST_BATCH_WAIT_S
        lost = {x["source"] for x in self.lost}
        live = {s for s in self.seen if s not in lost}
        while time.monotonic() < wait_until and not live <= self.done_sources:
            gevent.sleep(0.1)
        self._gather_t = time.monotonic()
        while self._ungathered(live) and time.monotonic() - self._gather_t < GATHER_STALL_S:
            gevent.sleep(0.05)
        for inbox in self.inboxes.values():
            inbox.close()
        if not keep:
            self.release()
        for source, node in self.nodes.items():
            if (node.get("shard") or {}).get("shared") or source in self.inboxes:
                seal_records(self.collector.run_dir, source)  # whole records only
        remove_probe(self.collector.run_dir)

    def release(self) -> None:
        """Close the worker channel's gate (nothing more is taken from workers)."""
        if self.gate is not None:
            self.gate.close()

    def kept_counts(self) -> dict[str, int]:
        """Records each worker said its shard holds, for the shards that stayed on its host."""
        return {
            source: int(self.nodes[source]["shard"].get("records", 0))
            for source in self.nodes
            if self._shard_state(source) == "kept"
        }

    def kept_shards(self) -> dict[str, str]:
        """Sources whose records stayed on their worker's host, and its node (``keep``)."""
        return {
            source: node["node"]
            for source, node in self.nodes.items()
            if self._shard_state(source) == "kept" and node.get("node")
        }

    def _ungathered(self, sources) -> list[str]:
        """Sources whose shard is on their host and has not fully arrived."""
        return [s for s in sources if self._shard_state(s) == "pending"]

    def _shard_state(self, source: str) -> str | None:
        """None (no shard kept on the worker's host), "gathered", "pending", or "kept" (its
        names gathered, its records staying there: ``finish(keep=True)``)."""
        shard = self.nodes.get(source, {}).get("shard")
        if not shard or shard.get("shared"):
            return None
        want = shard.get("bytes")
        if want is None:  # no DONE: the worker never said what its shard holds
            return "pending"
        inbox = self.inboxes.get(source)
        got = inbox.received if inbox else {"records": 0, "names": 0}
        if self.keep_records:
            names = got.get("names", 0) >= int(want.get("names", 0))
            return "kept" if names else "pending"
        done = all(got.get(part, 0) >= int(n) for part, n in want.items())
        return "gathered" if done else "pending"

    def meta(self, received: dict[str, int]) -> dict[str, Any]:
        """run.json's ``workers`` entries: who was seen and lost, what each shipped and what
        reached the run directory, and the shards that are still on workers' hosts."""
        out: dict[str, Any] = {
            "lost": self.lost,
            "seen": self.seen,
            "record_shards": self.opts.record_shards,
            "auth": {"scheme": AUTH_SCHEME, "fleet_key": self.key.origin},
            "refused": self.refusals.summary(),
        }
        missing = []
        if self.nodes:
            for source, node in self.nodes.items():
                node["received"] = received.get(source, 0)
                state = self._shard_state(source)
                if state is not None:
                    node["shard"]["gathered"] = state == "gathered"
                if state in ("pending", "kept"):
                    shard = node["shard"]
                    missing.append(
                        {
                            "source": source,
                            "host": shard.get("host"),
                            "path": shard.get("path"),
                            # What the worker said it wrote: its DONE, else its batches' counts.
                            "records": int(
                                shard.get("records", self.collector.counted.get(source, 0))
                            ),
                            "received": node["received"],
                            "stays": state == "kept",
                            "recover": (
                                f"surgeproof gather {self.collector.run_dir} --from "
                                f"{shard.get('path')}"
                            ),
                        }
                    )
            out["nodes"] = self.nodes
        out["missing_shards"] = missing
        return out

    def stop(self) -> None:
        """Wait for the local worker processes (they stop by themselves), then end them."""
        for p in self.local.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.terminate()
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()


def _key_hint(key: FleetKey) -> str:
    """How a worker is to be given this run's key (where it came from, never the key)."""
    if key.origin == "--fleet-key-file":
        return "--fleet-key-file FILE (a copy of this run's key file)"
    return "with $SURGEPROOF_FLEET_KEY set to this run's key"
