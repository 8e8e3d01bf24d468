"""``surgeproof worker``: a Locust worker that plays its share and ships records to the master.

The same command runs on another machine (``--master HOST``). It needs no scenario file: the
master sends the target and t0 once and the current ``LoadState`` every second. Credentials
come from the exchange's admin endpoint (loopback) or this machine's accounts file.
"""

from __future__ import annotations

import time

from surgeproof.load import messages

#: A worker that hears nothing from its master for this long stops by itself.
MASTER_SILENCE_S = 10.0


def run_worker(master_host: str, master_port: int) -> int:
    import gevent
    import locust
    from locust.argument_parser import get_parser
    from locust.env import Environment

    from surgeproof.load.accounts import accounts_for_target
    from surgeproof.load.context import LoadContext
    from surgeproof.load.sampler import Sampler
    from surgeproof.load.state import LoadState
    from surgeproof.load.users.surge_user import SurgeUser

    options = get_parser(default_config_files=[]).parse_args(["--headless"])
    env = Environment(user_classes=[SurgeUser], parsed_options=options, events=locust.events)
    runner = env.create_worker_runner(master_host, master_port)
    source = messages.source_of(runner.client_id)
    ctx = LoadContext(source=source)
    env.surgeproof = ctx
    heard = {"t": time.monotonic()}
    sampler = Sampler(ctx)
    finishing = {"done": False}

    def ship(final: bool = False) -> None:
        raw, names, sample = sampler.take()
        runner.send_message(
            messages.BATCH,
            {
                "source": source,
                "raw": raw,
                "names": [[i, n, g] for i, (n, g) in names.items()],
                "sample": None if final else sample,
            },
        )

    def on_setup(environment, msg, **_kw) -> None:
        d = msg.data
        SurgeUser.network_timeout = float(d["timeout_s"])
        SurgeUser.connection_timeout = min(5.0, float(d["timeout_s"]))
        ctx.accounts = accounts_for_target(d["url"], bool(d["embedded_like"]), d["accounts_file"])
        ctx.ws_url = d.get("ws_url")
        ctx.max_inflight_per_user = int(d["max_inflight_per_user"])
        heard["t"] = time.monotonic()
        runner.send_message(messages.READY, {"source": source})

    def on_state(environment, msg, **_kw) -> None:
        heard["t"] = time.monotonic()
        ctx.set_state(LoadState.from_message(msg.data))

    def on_finish(environment, msg, **_kw) -> None:
        finishing["done"] = True
        ctx.cancel_all()
        ship(final=True)
        runner.send_message(messages.DONE, {"source": source})

    runner.register_message(messages.SETUP, on_setup)
    runner.register_message(messages.STATE, on_state)
    runner.register_message(messages.FINISH, on_finish)

    def flusher() -> None:
        next_t = time.time() // 1 + 1
        while not finishing["done"]:
            gevent.sleep(max(0.0, next_t - time.time()))
            next_t += 1
            if finishing["done"]:
                break
            ship()
            if time.monotonic() - heard["t"] > MASTER_SILENCE_S:
                ctx.cancel_all()
                ship(final=True)
                runner.quit()
                break

    runner.send_message(messages.HELLO, {"source": source})
    fl = gevent.spawn(flusher)
    runner.greenlet.join()
    fl.kill(block=False)
    return 0
