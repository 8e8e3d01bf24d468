"""The authenticated worker channel's own cost, per second of one worker's records: sealing a
BATCH (worker side) and opening it (master side), beside its two parts measured alone on the
same bytes — one HMAC-SHA256 (hashlib) and one msgpack pack + unpack — as the floor.

    .venv/bin/python benchmarks/load/bench_seal.py
"""

from __future__ import annotations

import hashlib
import hmac
import platform
import sys
import timeit

import msgpack

from surgeproof.load import fleet_auth
from surgeproof.secret import Secret

#: Records a second: one generator core at surgeproof's measured rate; 3.2M records/s over
#: 48 workers (the ingest benchmark's top step).
RATES = (16_000, 66_667)
ROUNDS = 200
BATCH = "surgeproof_batch"


def channels() -> tuple[fleet_auth.Channel, fleet_auth.Channel]:
    key = Secret("k" * 64)
    node = "host_" + "a" * 32
    nonce_w, hello = fleet_auth.hello()
    pending = fleet_auth.challenge(node, hello)
    worker, proof = fleet_auth.answer_challenge(key, node, nonce_w, pending.message(key))
    return worker, fleet_auth.accept_proof(key, pending, proof)


def per_call_ms(fn, n: int = ROUNDS) -> float:
    return timeit.timeit(fn, number=n) / n * 1e3


def main() -> int:
    worker, master = channels()
    print(f"Python {platform.python_version()}, {platform.machine()}")
    print("| records/s | MB/s | seal (ms/s) | open (ms/s) | HMAC alone | msgpack alone |")
    print("|---|---|---|---|---|---|")
    for rate in RATES:
        raw = b"\0" * (40 * rate)
        body = {"raw": raw, "names": [], "sample": {"t_ns": 1}}
        seal = per_call_ms(lambda body=body: worker.seal(BATCH, body))
        sealed = iter([worker.seal(BATCH, body) for _ in range(ROUNDS)])
        opened = per_call_ms(lambda sealed=sealed: master.open(BATCH, next(sealed)))
        mac = per_call_ms(lambda raw=raw: hmac.new(b"k" * 32, raw, hashlib.sha256).digest())
        pack = per_call_ms(lambda body=body: msgpack.unpackb(msgpack.packb(body)))
        print(
            f"| {rate:,} | {40 * rate / 1e6:.2f} | {seal:.3f} | {opened:.3f} | {mac:.3f} "
            f"| {pack:.3f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
