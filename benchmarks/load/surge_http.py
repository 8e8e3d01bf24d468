"""Generator (b): surgeproof's SurgeUser (open model, market-watcher role, websocket off) at a
rate far above what one core sends, with full recording or with ``record`` made a no-op.

    python surge_http.py URL USERS SECONDS on|off [INTENSITY]  → prints one JSON line
"""

import json
import sys
import time

import gevent
import locust
import psutil
from locust.env import Environment

from surgeproof.load.context import LoadContext
from surgeproof.load.recorder import Recorder
from surgeproof.load.state import LoadState
from surgeproof.load.users.surge_user import SurgeUser


class NoRecording(Recorder):
    """The same users with the recorder's hot path removed (the 'off' side of the cost)."""

    def record(self, *args, **kwargs) -> None:
        return None


def main() -> None:
    url, users, seconds, recording = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    intensity = float(sys.argv[5]) if len(sys.argv) > 5 else 3000.0
    SurgeUser.host = url
    env = Environment(user_classes=[SurgeUser], host=url, events=locust.events)
    ctx = LoadContext(source="local", max_inflight_per_user=4)
    if recording == "off":
        ctx.recorder = NoRecording()
    # 0.2 calls/s × intensity per user (default 600/s, 12,000/s for 20 users, far above what
    # one core sends): the generator, not the schedule, limits. (1000 capped at 4,000/s, which a
    # quiet core exceeds.)
    ctx.set_state(LoadState(target_users=users, mix={"market_watcher": 1.0}, intensity=intensity))
    ctx.arrival_spread_s = 0.0
    env.surgeproof = ctx
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(2.0)
    me = psutil.Process()
    n0, c0, t0 = runner.stats.total.num_requests, me.cpu_times(), time.monotonic()
    drained = 0
    end = t0 + seconds
    while time.monotonic() < end:
        gevent.sleep(1.0)
        drained += len(ctx.recorder.drain()[0]) // 40
    n1, c1, t1 = runner.stats.total.num_requests, me.cpu_times(), time.monotonic()
    runner.quit()
    cpu = (c1.user + c1.system - c0.user - c0.system) / (t1 - t0)
    reqs = (n1 - n0) / (t1 - t0)
    print(
        json.dumps(
            {
                "req_s": reqs,
                "cpu": cpu,
                "req_s_per_core": reqs / cpu if cpu else None,
                "records_s": drained / (t1 - t0),
                "failures": runner.stats.total.num_failures,
            }
        )
    )


if __name__ == "__main__":
    main()
