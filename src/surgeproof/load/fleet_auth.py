"""The fleet's authenticated channel: a worker and its master prove the fleet key to each other,
then seal every surgeproof message between them with a key of their own.

Locust's worker channel (ZeroMQ) has no login, and a ZeroMQ node id is whatever the peer says,
so nothing a peer claims about itself — node id, source name — can be believed. The handshake is
an HMAC-SHA256 challenge-response with nonces from both sides::

    worker -> master  HELLO      {v, nonce_w}
    master -> worker  CHALLENGE  {v, nonce_m, proof = HMAC(K, "master proof" | T)}
    worker -> master  PROOF      {v, nonce_m, proof = HMAC(K, "worker proof" | T)}

where T binds the protocol, the worker's node id and both nonces. The worker checks the master's
proof before it answers (so before it takes a target URL, a dialect or a run id from it); the
master checks the worker's before it takes anything from the worker. Each proof covers the other
side's fresh nonce, so neither can be replayed, and the labels differ, so neither can be
reflected. Both sides then derive a session key, HKDF-SHA256(K, salt = nonce_w | nonce_m,
info = protocol | node id): one per worker and connection, never sent.

Every later message is an envelope ``{s: seq, b: body, m: mac}``: ``body`` the msgpack bytes of
the message, ``mac`` = HMAC-SHA256(session key, protocol | direction | type | seq | body), ``seq``
strictly increasing per direction. Without the session key a message cannot be forged, altered,
moved to another worker's session or to another message type, or replayed. The MAC covers the
exact bytes sent, so there is nothing to canonicalise. Comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import msgpack
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from surgeproof.secret import Secret

VERSION = 1
PROTOCOL = b"surgeproof-fleet/1"
NONCE_BYTES = 32
MAC_BYTES = 32
#: A node id longer than this is not one Locust made (``<hostname>_<uuid hex>``).
MAX_NODE_ID = 300
#: The largest sealed body: a second of records from one worker, or a 1 MiB shard chunk, are
#: far below it. (The master's socket refuses whole messages above ``MAX_MESSAGE_BYTES``.)
MAX_BODY_BYTES = 48 << 20
MAX_MESSAGE_BYTES = 64 << 20
MAX_SEQ = (1 << 63) - 1
WORKER_TO_MASTER = b"w2m"
MASTER_TO_WORKER = b"m2w"

#: Why a message was refused: the code recorded in ``fleet_refused`` events, and its meaning.
REASONS = {
    "unauthenticated": "not from an authenticated worker (it never proved the fleet key)",
    "bad_mac": "its MAC does not verify (forged, altered, or sealed with another key or session)",
    "replay": "its sequence number is not above the last one accepted (replayed or reordered)",
    "malformed": "not a well-formed message of this protocol",
    "bad_proof": "its proof of the fleet key is wrong (it holds another key)",
    "no_challenge": "a proof answering no challenge this master has open",
    "node_mismatch": "the node id in the message differs from the connection it came on",
    "declined": "the worker could not verify this master's proof (their fleet keys differ)",
    "late": "it did not authenticate in time, so it is not counted as a worker",
    "bad_field": "an authenticated message with a field this master does not take",
}


class Refused(Exception):
    """A message that fails a check: ``reason`` is a code of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def transcript(node_id: str, nonce_w: bytes, nonce_m: bytes) -> bytes:
    """What both proofs and the session key are bound to (each part length-prefixed)."""
    return _frame(PROTOCOL, node_id.encode(), nonce_w, nonce_m)


def master_proof(key: Secret, t: bytes) -> bytes:
    return _hmac(key, b"master proof", t)


def worker_proof(key: Secret, t: bytes) -> bytes:
    return _hmac(key, b"worker proof", t)


def session_key(key: Secret, node_id: str, nonce_w: bytes, nonce_m: bytes) -> Secret:
    """The per-worker key every later message is sealed with (HKDF-SHA256 of the fleet key)."""
    kdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=nonce_w + nonce_m,
        info=_frame(PROTOCOL, b"session", node_id.encode()),
    )
    return Secret(kdf.derive(_key_bytes(key)))


def new_nonce() -> bytes:
    return secrets.token_bytes(NONCE_BYTES)


def hello() -> tuple[bytes, dict[str, Any]]:
    """Worker side: a fresh nonce and the HELLO that carries it."""
    nonce = new_nonce()
    return nonce, {"v": VERSION, "nonce": nonce}


@dataclass(frozen=True)
class Challenge:
    """Master side: one handshake it has open with one node."""

    node_id: str
    nonce_w: bytes
    nonce_m: bytes

    def message(self, key: Secret) -> dict[str, Any]:
        t = transcript(self.node_id, self.nonce_w, self.nonce_m)
        return {"v": VERSION, "nonce": self.nonce_m, "proof": master_proof(key, t)}


def challenge(node_id: str, hello_data: Any) -> Challenge:
    """Master side: the challenge for a worker's HELLO (Refused when it is not one)."""
    check_node_id(node_id)
    d = _fields(hello_data, {"v", "nonce"}, "HELLO")
    _version(d, "HELLO")
    return Challenge(node_id, _nonce(d["nonce"], "HELLO nonce"), new_nonce())


def accept_proof(key: Secret, pending: Challenge, proof_data: Any) -> Channel:
    """Master side: the session with a worker whose PROOF answers ``pending`` (else Refused)."""
    d = _fields(proof_data, {"v", "nonce", "proof"}, "PROOF")
    _version(d, "PROOF")
    if not hmac.compare_digest(_nonce(d["nonce"], "PROOF nonce"), pending.nonce_m):
        raise Refused("no_challenge", "the proof answers another challenge")
    got = _mac_field(d["proof"], "PROOF proof")
    t = transcript(pending.node_id, pending.nonce_w, pending.nonce_m)
    if not hmac.compare_digest(got, worker_proof(key, t)):
        raise Refused("bad_proof")
    k = session_key(key, pending.node_id, pending.nonce_w, pending.nonce_m)
    return Channel(k, sends=MASTER_TO_WORKER, receives=WORKER_TO_MASTER)


def answer_challenge(
    key: Secret, node_id: str, nonce_w: bytes, challenge_data: Any
) -> tuple[Channel, dict[str, Any]]:
    """Worker side: check the master's proof; the session and the PROOF to send (else Refused,
    and nothing may be taken from that master)."""
    d = _fields(challenge_data, {"v", "nonce", "proof"}, "CHALLENGE")
    _version(d, "CHALLENGE")
    nonce_m = _nonce(d["nonce"], "CHALLENGE nonce")
    got = _mac_field(d["proof"], "CHALLENGE proof")
    t = transcript(node_id, nonce_w, nonce_m)
    if not hmac.compare_digest(got, master_proof(key, t)):
        raise Refused("bad_proof", "the master's proof does not match this worker's fleet key")
    channel = Channel(
        session_key(key, node_id, nonce_w, nonce_m),
        sends=WORKER_TO_MASTER,
        receives=MASTER_TO_WORKER,
    )
    return channel, {"v": VERSION, "nonce": nonce_m, "proof": worker_proof(key, t)}


class Channel:
    """One side of an authenticated session: seals what it sends, opens what it receives."""

    __slots__ = ("_key", "_receives", "_sends", "last_received", "sent")

    def __init__(self, key: Secret, *, sends: bytes, receives: bytes) -> None:
        self._key = key
        self._sends = sends
        self._receives = receives
        self.sent = 0
        self.last_received = 0

    def __repr__(self) -> str:
        return f"Channel(sent={self.sent}, last_received={self.last_received})"

    def seal(self, msg_type: str, obj: Any) -> dict[str, Any]:
        """The envelope of ``obj`` as message ``msg_type``, with the next sequence number."""
        body = msgpack.packb(obj, use_bin_type=True)
        if len(body) > MAX_BODY_BYTES:
            raise ValueError(f"{msg_type}: {len(body)} bytes is more than one message may carry")
        self.sent += 1
        return {"s": self.sent, "b": body, "m": self._mac(self._sends, msg_type, self.sent, body)}

    def open(self, msg_type: str, envelope: Any) -> Any:
        """The message inside ``envelope``, once its MAC and sequence number hold (else
        Refused, and nothing about the channel changes)."""
        d = _fields(envelope, {"s", "b", "m"}, "envelope")
        seq, body = d["s"], d["b"]
        if type(seq) is not int or not 0 < seq <= MAX_SEQ:
            raise Refused("malformed", "sequence number not a positive 63-bit integer")
        if not isinstance(body, bytes) or len(body) > MAX_BODY_BYTES:
            raise Refused("malformed", f"body not bytes of at most {MAX_BODY_BYTES} bytes")
        got = _mac_field(d["m"], "MAC")
        if not hmac.compare_digest(got, self._mac(self._receives, msg_type, seq, body)):
            raise Refused("bad_mac")
        if seq <= self.last_received:
            raise Refused("replay", f"sequence {seq} after {self.last_received}")
        try:
            obj = msgpack.unpackb(body, raw=False)
        except (ValueError, TypeError, msgpack.UnpackException) as exc:
            raise Refused("malformed", f"body does not decode: {type(exc).__name__}") from None
        self.last_received = seq
        return obj

    def _mac(self, direction: bytes, msg_type: str, seq: int, body: bytes) -> bytes:
        head = _frame(PROTOCOL, direction, msg_type.encode(), seq.to_bytes(8, "big"))
        h = hmac.new(_key_bytes(self._key), head + len(body).to_bytes(8, "big"), hashlib.sha256)
        h.update(body)
        return h.digest()


def labelled_mac(key: Secret, label: bytes, *parts: bytes) -> bytes:
    """HMAC-SHA256 under the fleet key of ``label`` and ``parts`` (each length-prefixed): the
    proof primitive above, for the fleet key's other holders (an external mark of the run)."""
    return _hmac(key, label, _frame(*parts))


def check_node_id(node_id: Any) -> str:
    if not isinstance(node_id, str) or not 0 < len(node_id) <= MAX_NODE_ID:
        raise Refused("malformed", f"node id not a string of 1 to {MAX_NODE_ID} characters")
    return node_id


def _frame(*parts: bytes) -> bytes:
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def _hmac(key: Secret, label: bytes, t: bytes) -> bytes:
    return hmac.new(_key_bytes(key), _frame(label, t), hashlib.sha256).digest()


def _key_bytes(key: Secret) -> bytes:
    value = key.reveal()
    return value.encode() if isinstance(value, str) else value


def _fields(data: Any, want: set[str], what: str) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) != want:
        raise Refused("malformed", f"{what}: expected the fields {', '.join(sorted(want))}")
    return data


def _version(d: dict[str, Any], what: str) -> None:
    if type(d["v"]) is not int or d["v"] != VERSION:
        raise Refused("malformed", f"{what}: protocol version {VERSION} expected")


def _nonce(value: Any, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != NONCE_BYTES:
        raise Refused("malformed", f"{what}: expected {NONCE_BYTES} bytes")
    return value


def _mac_field(value: Any, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != MAC_BYTES:
        raise Refused("malformed", f"{what}: expected {MAC_BYTES} bytes")
    return value
