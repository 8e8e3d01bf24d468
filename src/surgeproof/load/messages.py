"""Locust custom message types between the conductor (master) and workers."""

HELLO = "surgeproof_hello"  # worker → master: send me the setup
SETUP = "surgeproof_setup"  # master → worker: target, t0, client settings (no secrets)
READY = "surgeproof_ready"  # worker → master: set up, source name
STATE = "surgeproof_state"  # master → workers: the current LoadState, every second
#: worker → master, every second: records, names and timeline sample; or, from a worker that
#: keeps its own record shard, the records it wrote there, their tally and the sample.
BATCH = "surgeproof_batch"
FINISH = "surgeproof_finish"  # master → workers: cancel in-flight calls, ship the last batch
DONE = "surgeproof_done"  # worker → master: last batch shipped (and where its shard is)
SHARD = "surgeproof_shard"  # worker → master, after DONE: a chunk of a record shard to gather
SHARD_ACK = "surgeproof_shard_ack"  # master → worker: bytes of each shard part received


def source_of(node_id: str) -> str:
    """A worker's source name from its Locust node id (``host_<uuid hex>``)."""
    return "worker-" + str(node_id).rsplit("_", 1)[-1][:8]
