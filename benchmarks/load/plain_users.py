"""Peer for the fleet figures: plain Locust FastHttpUsers holding keep-alive connections.

    python plain_users.py URL USERS PACING_S ARRIVE_S HOLD_S [SETTLE_S]  → one JSON line

Each user GETs the ticker once every PACING_S (``constant_pacing``), as its docs show it, so it
holds a greenlet and a keep-alive connection like an HTTP-only surgeproof user. Measured in this
process exactly as ``surge_users.py`` measures: memory and descriptors per user, CPU.
"""

import json
import sys
import time

import gevent
import locust
import psutil
from locust import FastHttpUser, constant_pacing, task
from locust.env import Environment


class Holder(FastHttpUser):
    wait_time = constant_pacing(40.0)

    @task
    def ticker(self) -> None:
        self.client.get("/v1/ticker?markets=KRW-BTC", name="GET /v1/ticker")


def sample(me: psutil.Process) -> tuple[int, float]:
    """(resident bytes, CPU seconds) of this process: cheap enough to read every second."""
    cpu = me.cpu_times()
    return me.memory_info().rss, cpu.user + cpu.system


def main() -> None:
    url, users, pacing_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    arrive_s, hold_s = float(sys.argv[4]), float(sys.argv[5])
    settle_s = float(sys.argv[6]) if len(sys.argv) > 6 else min(pacing_s, 5.0)
    Holder.host = url
    Holder.wait_time = constant_pacing(pacing_s)
    env = Environment(user_classes=[Holder], host=url, events=locust.events)
    runner = env.create_local_runner()
    me = psutil.Process()
    gevent.sleep(1.0)
    fds0 = me.num_fds()
    rss0, cpu0 = sample(me)
    t0 = time.monotonic()
    runner.start(users, spawn_rate=users / arrive_s)
    while time.monotonic() - t0 < arrive_s + 60 and runner.user_count < users:
        gevent.sleep(1.0)
    _rss, cpu1 = sample(me)
    arrived_s, arrived_cpu = time.monotonic() - t0, cpu1 - cpu0
    gevent.sleep(settle_s)  # the last ones' first call: their connection is open
    peak_rss, cpu1 = sample(me)
    sys1 = me.cpu_times().system
    t1 = time.monotonic()
    n1 = env.stats.total.num_requests
    while time.monotonic() - t1 < hold_s:
        gevent.sleep(1.0)
        peak_rss = max(peak_rss, sample(me)[0])
    _rss, cpu2 = sample(me)
    sys2 = me.cpu_times().system
    t2 = time.monotonic()
    fds = me.num_fds()
    held = runner.user_count
    sent = env.stats.total.num_requests - n1
    runner.quit()
    print(
        json.dumps(
            {
                "users": held,
                "base_mb": rss0 / 2**20,
                "kb_per_user": (peak_rss - rss0) / max(held, 1) / 1024,
                "fds_per_user": (fds - fds0) / max(held, 1),
                "arrive_s": arrived_s,
                "arrive_cpu_s": arrived_cpu,
                "hold_sys": (sys2 - sys1) / (t2 - t1),
                "hold_cpu": (cpu2 - cpu1) / (t2 - t1),
                "req_s": sent / (t2 - t1),
                "req_s_per_core": sent / (cpu2 - cpu1) if cpu2 > cpu1 else None,
                "failures": env.stats.total.num_failures,
            }
        )
    )


if __name__ == "__main__":
    main()
