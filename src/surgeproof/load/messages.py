"""Locust custom message types between the conductor (master) and workers, and the checks what
an authenticated worker sends goes through before the master uses it.

HELLO, CHALLENGE, PROOF and DECLINE are the handshake (``fleet_auth``); every other message is
sealed with the worker's session key, and its body carries no name of its sender: the master
knows the sender from the session (``fleet_gate``).
"""

from __future__ import annotations

import math
from typing import Any

from surgeproof.load.fleet_auth import Refused
from surgeproof.rundir.schema import RECORD_DTYPE

PREFIX = "surgeproof_"
HELLO = "surgeproof_hello"  # worker → master: a nonce; prove the fleet key
CHALLENGE = "surgeproof_challenge"  # master → worker: its nonce and its proof of the key
PROOF = "surgeproof_proof"  # worker → master: its proof of the key
DECLINE = "surgeproof_decline"  # worker → master: your proof did not verify; nothing taken
SETUP = "surgeproof_setup"  # master → worker: target, source name, client settings (no secrets)
READY = "surgeproof_ready"  # worker → master: set up (its host, pid and shard place)
STATE = "surgeproof_state"  # master → workers: the current LoadState, every second
#: worker → master, every second: records, names and timeline sample; or, from a worker that
#: keeps its own record shard, the records it wrote there, their tally and the sample.
BATCH = "surgeproof_batch"
FINISH = "surgeproof_finish"  # master → workers: cancel in-flight calls, ship the last batch
DONE = "surgeproof_done"  # worker → master: last batch shipped (and where its shard is)
SHARD = "surgeproof_shard"  # worker → master, after DONE: a chunk of a record shard to gather
SHARD_ACK = "surgeproof_shard_ack"  # master → worker: bytes of each shard part received
#: master → worker, after DONE, with records staying on the worker's host (``--shards-stay``):
#: a piece of a request about its shard (analysis/shard_hosts.py: index it, run a pass round).
SHARD_ASK = "surgeproof_shard_ask"
#: worker → master: a piece of the answer to a SHARD_ASK, or why there is none.
SHARD_ANSWER = "surgeproof_shard_answer"

#: Bounds on what one message may declare (far above what a worker sends in a second).
MAX_NAMES = 4096
MAX_TEXT = 4096
MAX_SAMPLE_KEYS = 64
#: The sample's key for requests a worker could not build (the collector makes them events).
INVALID_REQUESTS = "invalid_requests"
MAX_INVALID_REQUESTS = 64
SHARD_PARTS = ("records", "names")


def source_of(node_id: str) -> str:
    """A worker's provisional name from its Locust node id (``host_<uuid hex>``), for its own
    lines before its master has named it (``SETUP``'s ``source``)."""
    return "worker-" + str(node_id).rsplit("_", 1)[-1][:8]


def records(raw: Any) -> bytes:
    """BATCH ``raw``: bytes of whole records."""
    if not isinstance(raw, bytes) or len(raw) % RECORD_DTYPE.itemsize:
        raise Refused("bad_field", f"raw: expected whole {RECORD_DTYPE.itemsize}-byte records")
    return raw


def names(declared: Any) -> dict[int, tuple[str, str]]:
    """BATCH ``names``: ``[[id, name, group], ...]`` as ``{id: (name, group)}``."""
    if not isinstance(declared, list) or len(declared) > MAX_NAMES:
        raise Refused("bad_field", f"names: expected a list of at most {MAX_NAMES}")
    out = {}
    for item in declared:
        if not (isinstance(item, list) and len(item) == 3 and type(item[0]) is int):
            raise Refused("bad_field", "names: expected [id, name, group] items")
        out[count(item[0], "name id", 65_535)] = (text(item[1], "name"), text(item[2], "group"))
    return out


def sample(value: Any, source: str) -> dict[str, Any] | None:
    """A timeline sample, stamped with the session's ``source`` whatever it said."""
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > MAX_SAMPLE_KEYS:
        raise Refused("bad_field", f"sample: expected an object of at most {MAX_SAMPLE_KEYS} keys")
    out: dict[str, Any] = {}
    for k, v in value.items():
        if not isinstance(k, str):
            raise Refused("bad_field", "sample: keys must be strings")
        if k == INVALID_REQUESTS:
            out[k] = invalid_requests(v)
            continue
        if isinstance(v, float) and not math.isfinite(v):
            raise Refused("bad_field", f"sample {k}: not a finite number")
        if isinstance(v, str):
            v = text(v, f"sample {k}")
        elif v is not None and not isinstance(v, int | float):
            raise Refused("bad_field", f"sample {k}: expected a number or a string")
        out[k] = v
    if type(out.get("t_ns")) is not int:
        raise Refused("bad_field", "sample t_ns: expected an integer")
    out["source"] = source
    return out


def invalid_requests(value: Any) -> list[dict[str, str]]:
    """A sample's requests the worker could not build: ``{endpoint, reason}`` texts, bounded."""
    if not isinstance(value, list) or len(value) > MAX_INVALID_REQUESTS:
        raise Refused(
            "bad_field",
            f"sample {INVALID_REQUESTS}: expected a list of at most {MAX_INVALID_REQUESTS} items",
        )
    out = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"endpoint", "reason"}:
            raise Refused("bad_field", f"sample {INVALID_REQUESTS}: expected {{endpoint, reason}}")
        out.append({k: text(item[k], f"sample {INVALID_REQUESTS} {k}") for k in item})
    return out


def shard(value: Any) -> dict[str, Any] | None:
    """READY/DONE ``shard``: where the worker keeps its records and what they hold."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Refused("bad_field", "shard: expected an object")
    out: dict[str, Any] = {"shared": value.get("shared") is True}
    for key in ("path", "host"):
        if key in value:
            out[key] = text(value[key], f"shard {key}")
    if "records" in value:
        out["records"] = count(value["records"], "shard records")
    if "bytes" in value:
        b = value["bytes"]
        if not isinstance(b, dict) or set(b) - set(SHARD_PARTS):
            raise Refused("bad_field", "shard bytes: expected {records, names}")
        out["bytes"] = {part: count(n, f"shard bytes {part}") for part, n in b.items()}
    return out


def chunk(d: Any, max_bytes: int) -> tuple[str, int, bytes]:
    """SHARD: ``(part, offset, data)`` of a chunk of the worker's own shard."""
    if not isinstance(d, dict) or d.get("part") not in SHARD_PARTS:
        raise Refused("bad_field", f"shard part: expected one of {', '.join(SHARD_PARTS)}")
    data = d.get("data")
    if not isinstance(data, bytes) or len(data) > max_bytes:
        raise Refused("bad_field", f"shard data: expected at most {max_bytes} bytes")
    return d["part"], count(d.get("offset"), "shard offset"), data


def piece(d: Any, max_chunk: int, max_total: int) -> tuple[int, int, int, bytes]:
    """SHARD_ASK / SHARD_ANSWER: ``(ask id, offset, total, data)`` of one piece of a request or
    an answer, each number bounded."""
    if not isinstance(d, dict):
        raise Refused("bad_field", "piece: expected an object")
    data = d.get("data")
    if not isinstance(data, bytes) or len(data) > max_chunk:
        raise Refused("bad_field", f"piece data: expected at most {max_chunk} bytes")
    total = count(d.get("total"), "piece total", max_total)
    offset = count(d.get("offset"), "piece offset", total)
    if offset + len(data) > total:
        raise Refused("bad_field", "piece: past its declared total")
    return count(d.get("ask"), "ask id", 1 << 31), offset, total, data


def text(value: Any, what: str) -> str:
    """A string a worker reports (host, path, names): bounded, no control characters."""
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise Refused("bad_field", f"{what}: expected a string of at most {MAX_TEXT} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise Refused("bad_field", f"{what}: control characters")
    return value


def count(value: Any, what: str, most: int = (1 << 63) - 1) -> int:
    """A non-negative integer up to ``most``."""
    if type(value) is not int or not 0 <= value <= most:
        raise Refused("bad_field", f"{what}: expected an integer from 0 to {most}")
    return value
