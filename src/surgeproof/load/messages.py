"""Locust custom message types between the conductor (master) and workers."""

HELLO = "surgeproof_hello"  # worker → master: send me the setup
SETUP = "surgeproof_setup"  # master → worker: target, t0, client settings (no secrets)
READY = "surgeproof_ready"  # worker → master: set up, source name
STATE = "surgeproof_state"  # master → workers: the current LoadState, every second
BATCH = "surgeproof_batch"  # worker → master: records, names, timeline sample, every second
FINISH = "surgeproof_finish"  # master → workers: cancel in-flight calls, ship the last batch
DONE = "surgeproof_done"  # worker → master: last batch shipped


def source_of(node_id: str) -> str:
    """A worker's source name from its Locust node id (``host_<uuid hex>``)."""
    return "worker-" + str(node_id).rsplit("_", 1)[-1][:8]
