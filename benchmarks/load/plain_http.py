"""Peer (a): plain Locust FastHttpUser hammering /v1/ticker (no wait), as its docs show it.

With ``$PLAIN_HTTP_REPORT`` set, it also writes one JSON line there: requests and process CPU
over the same steady window ``surge_http.py`` measures (after a 2 s warm-up, to the end), so
that neither side's start-up counts against it.
"""

import json
import os
import time

import gevent
import psutil
from locust import FastHttpUser, constant, events, task

WARMUP_S = 2.0


class Hammer(FastHttpUser):
    wait_time = constant(0)

    @task
    def ticker(self) -> None:
        self.client.get("/v1/ticker?markets=KRW-BTC", name="GET /v1/ticker")


_window: dict = {}


@events.test_start.add_listener
def _start(environment, **_kw) -> None:
    def mark() -> None:
        gevent.sleep(WARMUP_S)
        cpu = psutil.Process().cpu_times()
        _window.update(
            n=environment.runner.stats.total.num_requests,
            cpu=cpu.user + cpu.system,
            t=time.monotonic(),
        )

    gevent.spawn(mark)


@events.test_stop.add_listener
def _stop(environment, **_kw) -> None:
    path = os.environ.get("PLAIN_HTTP_REPORT")
    if not path or not _window:
        return
    cpu = psutil.Process().cpu_times()
    n = environment.runner.stats.total.num_requests - _window["n"]
    seconds = time.monotonic() - _window["t"]
    spent = cpu.user + cpu.system - _window["cpu"]
    with open(path, "w") as f:
        json.dump({"req_s": n / seconds, "cpu": spent / seconds, "req_s_per_core": n / spent}, f)
