"""External marks on a run's clock: a fault triggered by hand or by a chaos platform, said while
the run goes, becomes a ``mark`` event of the run.

A mark is authenticated with the fleet key (the trust the run's workers already prove), with the
fleet's own HMAC primitive (``fleet_auth.labelled_mac``)::

    {"v": 1, "text": TEXT, "nonce": 32 random bytes (hex),
     "mac": HMAC(K, "mark" | protocol | run id | nonce | text) (hex)}

The MAC binds the protocol, the run id (a mark for one run is refused by another) and a fresh
nonce (a mark is accepted once: the same nonce again is a replay). The text is one line of
printable characters, at most ``MAX_TEXT`` long. Marks are rate-limited (a burst of
``BURST``, then ``RATE_PER_S``) and at most ``MAX_MARKS`` per run, so the nonces remembered
are bounded too. The time of a mark is when the run received it: the run's clock.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from surgeproof.load.fleet_auth import labelled_mac
from surgeproof.secret import Secret

VERSION = 1
PROTOCOL = b"surgeproof-mark/1"
LABEL = b"mark"
NONCE_BYTES = 32
MAX_TEXT = 200
#: The largest request body read (a mark is a few hundred bytes).
MAX_BODY_BYTES = 4096
MAX_MARKS = 1000
BURST = 10
RATE_PER_S = 2.0

#: Why a mark was refused: the HTTP status the endpoint answers with, and what it means.
REFUSALS = {
    "malformed": (400, "not a mark of this protocol"),
    "bad_text": (400, f"the text must be one line of 1 to {MAX_TEXT} printable characters"),
    "bad_mac": (401, "its MAC does not verify (another fleet key, or another run)"),
    "replay": (409, "this mark was already received (same nonce)"),
    "rate_limited": (429, f"more than {BURST} marks at once or {RATE_PER_S:g} per second"),
    "too_many": (429, f"the run already holds {MAX_MARKS} marks"),
}


class MarkRefused(Exception):
    """A mark refused: ``reason`` a code of :data:`REFUSALS`."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{reason}: {REFUSALS[reason][1]}")
        self.reason = reason
        self.status = REFUSALS[reason][0]


def clean_text(text: Any) -> str:
    """The mark's text as a run keeps it (MarkRefused ``bad_text`` when it is not one)."""
    if not isinstance(text, str):
        raise MarkRefused("bad_text")
    text = text.strip()
    if not 0 < len(text) <= MAX_TEXT or not text.isprintable():
        raise MarkRefused("bad_text")
    return text


def mark_mac(key: Secret, run_id: str, nonce: bytes, text: str) -> bytes:
    return labelled_mac(key, LABEL, PROTOCOL, run_id.encode(), nonce, text.encode())


def sealed_mark(key: Secret, run_id: str, text: str) -> bytes:
    """The request body of a mark for run ``run_id`` (MarkRefused when the text is not one)."""
    text = clean_text(text)
    nonce = secrets.token_bytes(NONCE_BYTES)
    mac = mark_mac(key, run_id, nonce, text)
    return json.dumps({"v": VERSION, "text": text, "nonce": nonce.hex(), "mac": mac.hex()}).encode()


@dataclass
class MarkDesk:
    """The run's side: checks each mark, remembers the nonces it accepted, limits the rate."""

    key: Secret
    run_id: str
    accepted: int = 0
    _tokens: float = float(BURST)
    _last_s: float | None = None

    def __post_init__(self) -> None:
        self._seen: set[bytes] = set()

    def check(self, body: bytes, now_s: float) -> str:
        """The text of the mark in ``body``, received at ``now_s`` (monotonic seconds); else
        MarkRefused (and nothing is remembered of it)."""
        self._refill(now_s)
        if self._tokens < 1:
            raise MarkRefused("rate_limited")
        self._tokens -= 1  # a refused mark costs its token too: guessing is rate-limited
        if len(body) > MAX_BODY_BYTES:
            raise MarkRefused("malformed")
        try:
            d = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise MarkRefused("malformed") from None
        if not isinstance(d, dict) or set(d) != {"v", "text", "nonce", "mac"} or d["v"] != 1:
            raise MarkRefused("malformed")
        nonce, mac = _hex(d["nonce"], NONCE_BYTES), _hex(d["mac"], 32)
        if not isinstance(d["text"], str) or len(d["text"]) > MAX_BODY_BYTES:
            raise MarkRefused("malformed")
        if not hmac.compare_digest(mac, mark_mac(self.key, self.run_id, nonce, d["text"])):
            raise MarkRefused("bad_mac")
        if nonce in self._seen:
            raise MarkRefused("replay")
        text = clean_text(d["text"])
        if self.accepted >= MAX_MARKS:
            raise MarkRefused("too_many")
        self._seen.add(nonce)
        self.accepted += 1
        return text

    def _refill(self, now_s: float) -> None:
        if self._last_s is not None:
            self._tokens = min(BURST, self._tokens + max(0.0, now_s - self._last_s) * RATE_PER_S)
        self._last_s = now_s


def _hex(value: Any, size: int) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * size:
        raise MarkRefused("malformed")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise MarkRefused("malformed") from None
