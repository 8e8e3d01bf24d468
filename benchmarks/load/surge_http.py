"""Generator (b): surgeproof's SurgeUser (open model, market-watcher role, websocket off) at a
rate far above what one core sends, with full recording or with ``record`` made a no-op.

    python surge_http.py URL USERS SECONDS on|off [INTENSITY]  → prints one JSON line

Requests are counted from surgeproof's own records (calls actually sent), since its users do not
feed Locust's statistics; with recording off, the no-op recorder only counts them.
"""

import json
import sys
import time

import gevent
import locust
import numpy as np
import psutil
from locust.env import Environment

from surgeproof.load.context import LoadContext
from surgeproof.load.recorder import Recorder
from surgeproof.load.state import LoadState
from surgeproof.load.users.surge_user import SurgeUser
from surgeproof.rundir.schema import RECORD_DTYPE


class NoRecording(Recorder):
    """The same users with the recorder's hot path removed (the 'off' side of the cost)."""

    def record(self, intended_ns, sent_ns, *args, **kwargs) -> None:
        if sent_ns:
            self.total += 1


def sent_calls(ctx: LoadContext) -> int:
    """Calls sent since the last count (records of sent calls; the no-op recorder's count)."""
    rec = ctx.recorder
    if isinstance(rec, NoRecording):
        n, rec.total = rec.total, 0
        return n
    raw, _names = rec.drain()
    records = np.frombuffer(raw, dtype=RECORD_DTYPE)
    return int(np.count_nonzero(records["sent_ns"]))


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
    sent_calls(ctx)
    c0, t0 = me.cpu_times(), time.monotonic()
    sent = 0
    end = t0 + seconds
    while time.monotonic() < end:
        gevent.sleep(1.0)
        sent += sent_calls(ctx)
    sent += sent_calls(ctx)
    c1, t1 = me.cpu_times(), time.monotonic()
    runner.quit()
    cpu = (c1.user + c1.system - c0.user - c0.system) / (t1 - t0)
    reqs = sent / (t1 - t0)
    print(
        json.dumps(
            {
                "req_s": reqs,
                "cpu": cpu,
                "req_s_per_core": reqs / cpu if cpu else None,
                "records_s": reqs,
            }
        )
    )


if __name__ == "__main__":
    main()
