"""The fleet's handshake and sealed channel: what a peer without the key, or with a captured
message, can and cannot make either side accept."""

from __future__ import annotations

import msgpack
import pytest

from surgeproof.load import fleet_auth
from surgeproof.load.fleet_auth import (
    MAC_BYTES,
    MAX_BODY_BYTES,
    NONCE_BYTES,
    Refused,
    accept_proof,
    answer_challenge,
    challenge,
)
from surgeproof.secret import Secret

KEY = Secret("k" * 64)
OTHER = Secret("x" * 64)
NODE = "host_0123456789abcdef0123456789abcdef"


def handshake(worker_key: Secret = KEY, master_key: Secret = KEY, node: str = NODE):
    """A full handshake: (worker channel, master channel)."""
    nonce_w, hello = fleet_auth.hello()
    pending = challenge(node, hello)
    w, proof = answer_challenge(worker_key, node, nonce_w, pending.message(master_key))
    m = accept_proof(master_key, pending, proof)
    return w, m


def refused(reason: str):
    return pytest.raises(Refused, match=rf"^{reason}\b")


def test_both_sides_holding_the_key_share_a_channel_both_ways():
    w, m = handshake()
    assert m.open("surgeproof_batch", w.seal("surgeproof_batch", {"raw": b"\0" * 40})) == {
        "raw": b"\0" * 40
    }
    assert w.open("surgeproof_state", m.seal("surgeproof_state", {"users": 3})) == {"users": 3}


def test_a_worker_with_another_key_refuses_the_master_before_answering():
    nonce_w, hello = fleet_auth.hello()
    pending = challenge(NODE, hello)
    with refused("bad_proof"):
        answer_challenge(OTHER, NODE, nonce_w, pending.message(KEY))


def test_a_master_refuses_a_proof_made_with_another_key():
    nonce_w, hello = fleet_auth.hello()
    pending = challenge(NODE, hello)
    # A peer that ignores the master's proof and answers with its own (wrong) key.
    t = fleet_auth.transcript(NODE, nonce_w, pending.nonce_m)
    forged = {"v": 1, "nonce": pending.nonce_m, "proof": fleet_auth.worker_proof(OTHER, t)}
    with refused("bad_proof"):
        accept_proof(KEY, pending, forged)


def test_the_masters_proof_cannot_be_reflected_as_a_workers_proof():
    _nonce_w, hello = fleet_auth.hello()
    pending = challenge(NODE, hello)
    reflected = {**pending.message(KEY), "v": 1}  # the master's own proof sent back
    with refused("bad_proof"):
        accept_proof(KEY, pending, reflected)


def test_a_proof_is_good_for_one_challenge_only():
    nonce_w, hello = fleet_auth.hello()
    first = challenge(NODE, hello)
    _, proof = answer_challenge(KEY, NODE, nonce_w, first.message(KEY))
    again = challenge(NODE, hello)  # the same HELLO replayed gets a fresh master nonce
    with refused("no_challenge"):
        accept_proof(KEY, again, proof)


def test_a_proof_is_bound_to_the_node_it_was_made_for():
    nonce_w, hello = fleet_auth.hello()
    theirs = challenge(NODE, hello)
    _, proof = answer_challenge(KEY, NODE, nonce_w, theirs.message(KEY))
    mine = fleet_auth.Challenge("attacker_ffffffff", theirs.nonce_w, theirs.nonce_m)
    with refused("bad_proof"):
        accept_proof(KEY, mine, proof)


def test_a_sealed_message_replayed_or_reordered_is_refused_and_changes_nothing():
    w, m = handshake()
    first, second = w.seal("surgeproof_batch", 1), w.seal("surgeproof_batch", 2)
    assert m.open("surgeproof_batch", first) == 1
    with refused("replay"):
        m.open("surgeproof_batch", first)
    assert m.open("surgeproof_batch", second) == 2
    third, fourth = w.seal("surgeproof_batch", 3), w.seal("surgeproof_batch", 4)
    assert m.open("surgeproof_batch", fourth) == 4
    with refused("replay"):  # arrived after a later one: refused
        m.open("surgeproof_batch", third)
    assert m.last_received == 4


def test_a_message_from_one_workers_session_does_not_open_in_another():
    w1, m1 = handshake(node="host_" + "1" * 32)
    _w2, m2 = handshake(node="host_" + "2" * 32)
    env = w1.seal("surgeproof_batch", {"raw": b""})
    with refused("bad_mac"):
        m2.open("surgeproof_batch", env)
    assert m2.last_received == 0
    assert m1.open("surgeproof_batch", env) == {"raw": b""}


def test_a_message_cannot_change_type_direction_sequence_or_body():
    w, m = handshake()
    env = w.seal("surgeproof_batch", {"records": 5})
    with refused("bad_mac"):
        m.open("surgeproof_done", env)  # another message type
    with refused("bad_mac"):
        w.open("surgeproof_batch", env)  # sent back the other way
    with refused("bad_mac"):
        m.open("surgeproof_batch", {**env, "s": env["s"] + 1})
    with refused("bad_mac"):
        m.open("surgeproof_batch", {**env, "b": msgpack.packb({"records": 500})})
    assert m.open("surgeproof_batch", env) == {"records": 5}


def test_a_peer_without_the_session_key_cannot_seal():
    _w, m = handshake()
    # Same fleet key, same node, its own nonces: another session key.
    attacker, _ = handshake()
    with refused("bad_mac"):
        m.open("surgeproof_batch", attacker.seal("surgeproof_batch", {"raw": b""}))


@pytest.mark.parametrize(
    "envelope, reason",
    [
        ("not a dict", "malformed"),
        ({"s": 1, "b": b""}, "malformed"),  # no MAC
        ({"s": 1, "b": b"", "m": b"\0" * 31}, "malformed"),  # truncated MAC
        ({"s": 1, "b": b"", "m": "0" * 32}, "malformed"),  # MAC not bytes
        ({"s": 0, "b": b"", "m": b"\0" * 32}, "malformed"),  # sequence not positive
        ({"s": 1 << 63, "b": b"", "m": b"\0" * 32}, "malformed"),  # beyond 63 bits
        ({"s": True, "b": b"", "m": b"\0" * 32}, "malformed"),  # a bool is not a sequence
        ({"s": 1, "b": "text", "m": b"\0" * 32}, "malformed"),
        ({"s": 1, "b": b"", "m": b"\0" * 32, "extra": 1}, "malformed"),
        ({"s": 1, "b": b"", "m": b"\0" * 32}, "bad_mac"),
    ],
)
def test_an_envelope_of_the_wrong_shape_is_refused(envelope, reason):
    _, m = handshake()
    with refused(reason):
        m.open("surgeproof_batch", envelope)
    assert m.last_received == 0


def test_an_oversize_body_is_refused_before_its_mac_is_computed():
    _, m = handshake()
    huge = {"s": 1, "b": b"\0" * (MAX_BODY_BYTES + 1), "m": b"\0" * MAC_BYTES}
    with refused("malformed"):
        m.open("surgeproof_batch", huge)
    w, _ = handshake()
    with pytest.raises(ValueError, match="more than one message may carry"):
        w.seal("surgeproof_batch", b"\0" * (MAX_BODY_BYTES + 1))


@pytest.mark.parametrize(
    "hello",
    [
        None,
        {"v": 1},
        {"v": 2, "nonce": b"\0" * NONCE_BYTES},
        {"v": 1, "nonce": b"\0" * (NONCE_BYTES - 1)},
        {"v": 1, "nonce": b"\0" * NONCE_BYTES * 1000},
        {"v": 1, "nonce": "0" * NONCE_BYTES},
        {"source": "worker-1", "pid": 1, "host": "h"},  # an older worker's HELLO
    ],
)
def test_a_hello_of_the_wrong_shape_gets_no_challenge(hello):
    with refused("malformed"):
        challenge(NODE, hello)


@pytest.mark.parametrize("node", ["", "x" * (fleet_auth.MAX_NODE_ID + 1), 42, None])
def test_a_node_id_that_locust_never_makes_gets_no_challenge(node):
    with refused("malformed"):
        challenge(node, fleet_auth.hello()[1])


def test_a_body_that_does_not_decode_is_refused_even_with_a_good_mac():
    w, m = handshake()
    env = w.seal("surgeproof_batch", None)
    body = b"\xc1"  # never used in msgpack
    env = {
        "s": env["s"],
        "b": body,
        "m": w._mac(fleet_auth.WORKER_TO_MASTER, "surgeproof_batch", env["s"], body),
    }
    with refused("malformed"):
        m.open("surgeproof_batch", env)
    assert m.last_received == 0


def test_no_key_shows_in_a_channel_or_a_challenge():
    w, m = handshake()
    assert "k" * 8 not in repr(w) + repr(m) + repr(challenge(NODE, fleet_auth.hello()[1]))
