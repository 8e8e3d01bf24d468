"""Generator (b) for the fleet figures: surgeproof's SurgeUsers of one mix in this process.

    python surge_users.py URL WS_URL|- USERS MIX INTENSITY ARRIVE_S HOLD_S [SETTLE_S]
        → one JSON line

MIX is ``behaviour:share,...`` (e.g. ``app_user:1``); besides the behaviours of a run, the
benchmark's ``ticker_poller`` makes exactly ``plain_users.py``'s call (GET the ticker over the
user's own keep-alive connection) for a like-for-like row. Users log in with the embedded
exchange's seeded accounts, hold their websockets when WS_URL is given, and are recorded in full
(the recorder is drained every second, as a worker ships its batches). Measured in this process:
resident memory and open descriptors before the users and at their peak (per user = the
difference over USERS), CPU seconds while they arrive and, after SETTLE_S more (every user's
first call made), while they hold, calls sent per CPU second (requests per generator core),
websocket sessions subscribed, and calls backlogged (due while the user had its most calls in
flight: the exchange, not this process, was behind).
"""

import json
import sys
import time

import gevent
import locust
import numpy as np
import psutil
from locust.env import Environment

from surgeproof.load.accounts import fetch_embedded_accounts
from surgeproof.load.context import LoadContext
from surgeproof.load.state import LoadState
from surgeproof.load.users import act
from surgeproof.load.users.behaviour import Behaviour
from surgeproof.load.users.registry import BEHAVIOUR_CLASSES
from surgeproof.load.users.surge_user import SurgeUser
from surgeproof.rundir.schema import RECORD_DTYPE, Kind, Outcome


class TickerPoller(Behaviour):
    """The plain-Locust peer's call made by a surgeproof user: the ticker, on its own connection."""

    name = "ticker_poller"
    rate_per_s = 0.2
    needs = uses = frozenset({"ticker"})

    def next_call(self, user: SurgeUser) -> act.Act:
        return act.TICKER


BEHAVIOUR_CLASSES[TickerPoller.name] = TickerPoller


def parse_mix(text: str) -> dict[str, float]:
    return {k: float(v) for k, v in (part.split(":") for part in text.split(","))}


class Counts:
    """Records drained from the recorder, counted and thrown away (a worker ships them)."""

    def __init__(self, ctx: LoadContext) -> None:
        self.ctx = ctx
        self.sent = 0
        self.subscribed = 0
        self.backlogged = 0

    def drain(self) -> None:
        raw, _names = self.ctx.recorder.drain()
        r = np.frombuffer(raw, dtype=RECORD_DTYPE)
        http = r["kind"] == Kind.HTTP
        self.sent += int(np.count_nonzero(http & (r["sent_ns"] != 0)))
        first = (r["kind"] == Kind.WS_FIRST_MESSAGE) & (r["outcome"] == Outcome.OK)
        self.subscribed += int(np.count_nonzero(first))
        self.backlogged += int(np.count_nonzero(r["outcome"] == Outcome.BACKLOGGED))


def sample(me: psutil.Process) -> tuple[int, float]:
    """(resident bytes, CPU seconds) of this process: cheap enough to read every second."""
    cpu = me.cpu_times()
    return me.memory_info().rss, cpu.user + cpu.system


def main() -> None:
    url, ws_url, users, mix, intensity = sys.argv[1:6]
    arrive_s, hold_s = float(sys.argv[6]), float(sys.argv[7])
    settle_s = float(sys.argv[8]) if len(sys.argv) > 8 else 0.0
    users = int(users)
    SurgeUser.host = url
    env = Environment(user_classes=[SurgeUser], host=url, events=locust.events)
    ctx = LoadContext(
        source="local",
        accounts=fetch_embedded_accounts(url),
        ws_url=None if ws_url == "-" else ws_url,
        max_inflight_per_user=4,
    )
    state = LoadState(target_users=users, mix=parse_mix(mix), intensity=float(intensity))
    ctx.set_state(state)
    env.surgeproof = ctx
    counts = Counts(ctx)
    runner = env.create_local_runner()
    me = psutil.Process()
    gevent.sleep(1.0)
    # Descriptors are counted before and after only: listing 10,000 of them costs CPU.
    fds0 = me.num_fds()
    rss0, cpu0 = sample(me)
    t0 = time.monotonic()
    runner.start(users, spawn_rate=users / arrive_s if arrive_s > 0 else users)
    while time.monotonic() - t0 < arrive_s + 60 and ctx.active_users < users:
        gevent.sleep(1.0)
        counts.drain()
    _rss, cpu1 = sample(me)
    arrived_s, arrived_cpu = time.monotonic() - t0, cpu1 - cpu0
    # Settle: every user's first call (its login, its connection) is behind us.
    settle_end = time.monotonic() + settle_s
    while time.monotonic() < settle_end:
        gevent.sleep(1.0)
        counts.drain()
    peak_rss, cpu1 = sample(me)
    sys1 = me.cpu_times().system
    t1 = time.monotonic()
    sent1 = counts.sent
    while time.monotonic() - t1 < hold_s:
        gevent.sleep(1.0)
        counts.drain()
        peak_rss = max(peak_rss, sample(me)[0])
    _rss, cpu2 = sample(me)
    sys2 = me.cpu_times().system
    t2 = time.monotonic()
    fds = me.num_fds()
    counts.drain()
    held = ctx.active_users
    runner.quit()
    hold_cpu = cpu2 - cpu1
    sent = counts.sent - sent1
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
                "hold_cpu": hold_cpu / (t2 - t1),
                "req_s": sent / (t2 - t1),
                "req_s_per_core": sent / hold_cpu if hold_cpu > 0 else None,
                "subscribed": counts.subscribed,
                "backlogged": counts.backlogged,
            }
        )
    )


if __name__ == "__main__":
    main()
