"""``surgeproof worker``: a Locust worker that plays its share and ships records to the master.

The same command runs on another machine (``--master HOST``). It needs no scenario file: the
master sends the target and t0 once and the current ``LoadState`` every second — once it has
proved that it holds the fleet key (``--fleet-key-file`` or ``$SURGEPROOF_FLEET_KEY``), and over
a channel sealed with this worker's own session key (``worker_channel``). Credentials
come from this machine's accounts file (``--accounts-file`` or ``$SURGEPROOF_ACCOUNTS_FILE``),
the master's file when it exists here, or the exchange's admin endpoint (loopback).

With ``--record-shards local|auto`` on the master, the worker keeps its records in its own shard
(``record_shard``: in the master's run directory when it can reach it, else under
``--shard-dir``, gathered at the end) and ships only counts.

A worker stops by itself, shipping what it holds, when its master goes silent (killed) or on
SIGINT/SIGTERM; it never outlives its master by more than ``MASTER_SILENCE_S`` plus a grace.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path

from surgeproof.confine import UnsafePath, checked_name
from surgeproof.load import messages
from surgeproof.load.fleet_auth import Refused
from surgeproof.load.liveness import (
    MASTER_SILENCE_S,
    WORKER_EXIT_GRACE_S,
    tune_locust_heartbeat,
)
from surgeproof.rundir.schema import RECORD_DTYPE
from surgeproof.secret import Secret

#: Exit code of a worker whose master did not prove the fleet key (bad input: the key).
EXIT_MASTER_REFUSED = 2


def run_worker(
    master_host: str,
    master_port: int,
    key: Secret,
    accounts_file: str | None = None,
    shard_dir: str | None = None,
) -> int:
    import gevent
    import locust
    from locust.argument_parser import get_parser
    from locust.env import Environment

    from surgeproof.load.accounts import ACCOUNTS_ENV, accounts_for_target
    from surgeproof.load.context import LoadContext
    from surgeproof.load.record_shard import RecordShard, choose_place
    from surgeproof.load.sampler import Sampler
    from surgeproof.load.state import LoadState
    from surgeproof.load.users.surge_user import SurgeUser
    from surgeproof.load.worker_channel import WorkerChannel, create_gated_runner

    tune_locust_heartbeat()
    options = get_parser(default_config_files=[]).parse_args(["--headless"])
    env = Environment(user_classes=[SurgeUser], parsed_options=options, events=locust.events)
    runner = create_gated_runner(env, master_host, master_port)
    # Until the master names it (SETUP), the worker's lines carry a name from its node id.
    me = {"source": messages.source_of(runner.client_id)}
    ctx = LoadContext(source=me["source"])
    env.surgeproof = ctx
    heard = {"t": time.monotonic()}
    sampler = Sampler(ctx)
    finishing = {"done": False}
    shipped = {"records": 0}
    shard: dict[str, RecordShard] = {}
    outcome = {"code": 0}

    def master_refused(r: Refused) -> None:
        """The master could not prove the fleet key: take nothing from it, and leave."""
        where = f"{master_host}:{master_port}"
        print(
            f"surgeproof worker: the master at {where} did not prove the fleet key ({r}): its "
            "key differs from this worker's (--fleet-key-file / $SURGEPROOF_FLEET_KEY), or it is "
            "not a surgeproof master; nothing was taken from it",
            file=sys.stderr,
            flush=True,
        )
        outcome["code"] = EXIT_MASTER_REFUSED
        finishing["done"] = True
        gevent.spawn(runner.quit)  # not from the greenlet that reads the master's messages

    link = WorkerChannel(runner, key, master_refused)
    link.install()

    def ship(final: bool = False) -> None:
        if not link.authenticated or "setup" not in me:
            return  # nothing is shipped to a master that has not proved itself
        raw, names, sample = sampler.take()
        shipped["records"] += len(raw) // RECORD_DTYPE.itemsize
        if "it" in shard:
            msg = shard["it"].write(raw, names)
        else:
            declared = [[i, n, g] for i, (n, g) in names.items()]
            msg = {"raw": raw, "names": declared}
        msg["orders"] = ctx.orders.take()  # the order journal always goes to the master
        link.send(messages.BATCH, {**msg, "sample": None if final else sample})

    def stop_self(why: str) -> None:
        """Cancel in-flight calls, ship the last batch, leave; a hung exit is cut by SIGALRM."""
        if finishing["done"]:
            return
        finishing["done"] = True
        print(f"surgeproof worker {me['source']}: {why}; shipping the last records", flush=True)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(WORKER_EXIT_GRACE_S)
        ctx.cancel_all()
        ship(final=True)
        done()
        runner.quit()

    def on_setup(d) -> None:
        if "setup" in me:
            return  # set up once; a second SETUP (a re-handshake) changes nothing
        try:
            source = checked_name(d["source"], "SETUP source")
            run_id = checked_name(str(d.get("run_id") or "run"), "SETUP run_id")
        except (UnsafePath, KeyError) as exc:
            print(f"surgeproof worker: SETUP from the master refused: {exc}", flush=True)
            return
        me["source"] = ctx.source = source
        link.url = str(d["url"])
        SurgeUser.network_timeout = float(d["timeout_s"])
        SurgeUser.connection_timeout = min(5.0, float(d["timeout_s"]))
        local = accounts_file or os.environ.get(ACCOUNTS_ENV)
        masters = d.get("accounts_file")
        if not local and masters and Path(masters).is_file():
            local = masters  # same filesystem (local workers, shared volume)
        ctx.accounts = accounts_for_target(d["url"], bool(d["embedded_like"]), local)
        ctx.ws_url = d.get("ws_url")
        if d.get("dialect"):
            from surgeproof.dialect.catalog import parse_dialect_text

            ctx.dialect = parse_dialect_text(d["dialect"]["text"], d["dialect"]["source"])
        ctx.max_inflight_per_user = int(d["max_inflight_per_user"])
        place = choose_place({**d, "run_id": run_id}, shard_dir)
        if place is not None and "it" not in shard:
            bounds = d.get("tally_buckets_s")
            shard["it"] = RecordShard(place, source, run_id, bounds)
        heard["t"] = time.monotonic()
        me["setup"] = "done"
        link.send(
            messages.READY,
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "accounts": len(ctx.accounts),
                "shard": place.describe() if place is not None else None,
            },
        )

    def on_state(d) -> None:
        heard["t"] = time.monotonic()
        ctx.set_state(LoadState.from_message(d))

    def on_finish(d) -> None:
        finishing["done"] = True
        # The master waits 8 s for every worker's last batch: drain within that.
        ctx.drain(min(SurgeUser.network_timeout + 0.5, 5.0))
        ctx.cancel_all()
        ship(final=True)
        done()
        it = shard.get("it")
        if it is not None and not it.place.shared:
            # --shards-stay: the records stay here, and so does their analysis; the names go.
            keep = isinstance(d, dict) and d.get("keep") is True
            if keep:
                from surgeproof.load.shard_service import ShardService

                service = ShardService(link, it.records_path, heard)
                link.on(messages.SHARD_ASK, service.on_ask)
            gevent.spawn(gather.send, it, ("names",) if keep else ("names", "records"))

    def done() -> None:
        if not link.authenticated:
            return
        info: dict = {"shipped": shipped["records"]}
        it = shard.get("it")
        if it is not None:
            it.close()
            info["shard"] = it.summary()
        link.send(messages.DONE, info)
        where = ""
        if it is not None and not it.place.shared:
            where = f" (its shard: {it.place.root})"
        n = shipped["records"]
        print(f"surgeproof worker {me['source']}: shipped {n} records{where}", flush=True)

    gather = ShardSender(link, me, heard)

    def on_heartbeat(**_kw) -> None:
        heard["t"] = time.monotonic()

    link.on(messages.SETUP, on_setup)
    link.on(messages.STATE, on_state)
    link.on(messages.FINISH, on_finish)
    link.on(messages.SHARD_ACK, gather.on_ack)
    env.events.heartbeat_received.add_listener(on_heartbeat)
    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, stop_self, f"{signal.Signals(signum).name} received")

    def flusher() -> None:
        next_t = time.time() // 1 + 1
        while not finishing["done"]:
            gevent.sleep(max(0.0, next_t - time.time()))
            next_t += 1
            if finishing["done"]:
                break
            ship()
            if time.monotonic() - heard["t"] > MASTER_SILENCE_S:
                if link.authenticated:
                    stop_self(f"master silent for {MASTER_SILENCE_S:g}s")
                else:
                    master_refused(
                        Refused("unauthenticated", f"no proof within {MASTER_SILENCE_S:g} s")
                    )
                break

    link.hello()
    fl = gevent.spawn(flusher)
    runner.greenlet.join()
    fl.kill(block=False)
    return outcome["code"]


class ShardSender:
    """Sends a closed shard to the master in chunks, a few in flight at a time."""

    def __init__(self, link, me: dict[str, str], heard: dict[str, float]) -> None:
        self.link = link
        self.me = me
        self.heard = heard
        self.acked = 0

    def on_ack(self, d) -> None:
        self.heard["t"] = time.monotonic()
        self.acked = max(self.acked, int(d.get("total", 0)))

    def send(self, shard, parts: tuple[str, ...] = ("names", "records")) -> None:
        import gevent

        from surgeproof.load.record_shard import CHUNK_BYTES, WINDOW_CHUNKS

        sent = 0
        for part, offset, data in shard.chunks(parts):
            while sent - self.acked > WINDOW_CHUNKS * CHUNK_BYTES:
                if time.monotonic() - self.heard["t"] > MASTER_SILENCE_S:
                    source = self.me["source"]
                    print(f"surgeproof worker {source}: master stopped gathering", flush=True)
                    return
                gevent.sleep(0.005)
            self.link.send(messages.SHARD, {"part": part, "offset": offset, "data": data})
            sent += len(data)
