"""Child process of test_surge_user.py: SurgeUsers under Locust's local runner against a target.

    python surge_user_child.py URL USERS  → one JSON line

Locust monkey-patches the process it is imported in, so this runs apart from pytest. It starts
USERS app users, counts the greenlets alive while they hold, stops half of them, then all, and
reports what the process's clock, its couriers and the records say at each step.
"""

import gc
import json
import sys

import gevent
import greenlet
import locust
import numpy as np
from locust.env import Environment

from surgeproof.load.accounts import fetch_embedded_accounts
from surgeproof.load.context import LoadContext
from surgeproof.load.state import LoadState
from surgeproof.load.users.surge_user import SurgeUser
from surgeproof.rundir.schema import RECORD_DTYPE


def running_greenlets() -> int:
    """Greenlets started and not finished (a parked one counts; a never-started one does not)."""
    return sum(1 for o in gc.get_objects() if isinstance(o, greenlet.greenlet) and bool(o))


def snapshot(runner, ctx) -> dict:
    return {
        "users": runner.user_count,
        "active": ctx.active_users,
        "pending_calls": len(ctx.calls),
        "leaving": ctx.leaving,
    }


def main() -> None:
    url, n = sys.argv[1], int(sys.argv[2])
    SurgeUser.host = url
    env = Environment(user_classes=[SurgeUser], host=url, events=locust.events)
    ctx = LoadContext(source="child", accounts=fetch_embedded_accounts(url))
    # Each app user calls about every 0.2 s: several calls each while it holds.
    ctx.set_state(LoadState(target_users=n, mix={"app_user": 1.0}, intensity=10.0))
    env.surgeproof = ctx
    runner = env.create_local_runner()
    before = running_greenlets()
    runner.start(n, spawn_rate=n)
    gevent.sleep(3.0)
    held = {**snapshot(runner, ctx), "greenlets_added": running_greenlets() - before}
    runner.start(n // 2, spawn_rate=n)
    gevent.sleep(2.0)
    half = snapshot(runner, ctx)
    runner.quit()
    gevent.sleep(2.0)
    done = snapshot(runner, ctx)
    raw, _names = ctx.recorder.drain()
    r = np.frombuffer(raw, dtype=RECORD_DTYPE)
    ids = {name: nid for nid, (name, _group) in ctx.recorder.groups.items()}
    sent = r["sent_ns"] > 0
    print(
        json.dumps(
            {
                "held": held,
                "half": half,
                "done": done,
                "logins": int((r["name_id"] == ids["POST /v1/session"]).sum()),
                "logouts": int((r["name_id"] == ids["DELETE /v1/session"]).sum()),
                "calls": int(sent.sum()),
                "sent_before_intended": int((r["sent_ns"][sent] < r["intended_ns"][sent]).sum()),
            }
        )
    )


if __name__ == "__main__":
    main()
