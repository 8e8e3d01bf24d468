"""What the master refused on the worker channel, as run events a flood cannot multiply.

Every refused message is counted; the run directory gets a ``fleet_refused`` event the first
time a (peer, reason, message, claimed source) is seen, then at most one a minute for it while
refusals go on (``count`` = refused since its last event, ``total`` = so far), and a last one when
the run ends. At most ``MAX_KEYS`` such keys are kept apart; refusals beyond them are counted
per reason under one "(other peers)" key. A flood therefore costs a bounded number of lines,
whatever it sends. Text from the wire (node ids, claimed sources, message types) is cut to
``SHOWN_CHARS`` printable ASCII characters before it is written or printed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from surgeproof.load.fleet_auth import REASONS
from surgeproof.load.recorder import now_ns

EVENT = "fleet_refused"
SHOWN_CHARS = 64
MAX_KEYS = 64
#: A key that keeps being refused gets an event at most this often.
REPEAT_EVERY_S = 60.0
OTHER_PEERS = "(other peers)"
#: Distinct peers counted for run.json beyond which only "at least" is known.
MAX_PEERS_COUNTED = 4096


def shown(value: object, limit: int = SHOWN_CHARS) -> str | None:
    """A value from the wire as text safe to write and print: printable ASCII kept, anything
    else ``?``, cut to ``limit`` characters (``...`` marks a cut); non-text as ``<type>``."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        text = bytes(value[: limit + 1]).decode("ascii", "replace")
    elif isinstance(value, str):
        text = value[: limit + 1]
    else:
        return f"<{type(value).__name__}>"
    out = "".join(c if " " <= c <= "~" else "?" for c in text[:limit])
    return out + "..." if len(text) > limit else out


@dataclass
class _Entry:
    peer: str | None
    claimed_source: str | None
    message: str | None
    reason: str
    why: str
    first_ns: int
    last_ns: int
    total: int = 0
    unreported: int = 0
    last_event: float = 0.0


@dataclass
class RefusalLog:
    """Counts refusals and turns them into rate-limited ``fleet_refused`` events."""

    emit: Callable[..., None]
    announce: Callable[[str], None] | None = None
    every_s: float = REPEAT_EVERY_S
    clock: Callable[[], float] = time.monotonic
    entries: dict[tuple, _Entry] = field(default_factory=dict)
    messages: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)
    peers: set[str] = field(default_factory=set)

    def refuse(
        self,
        reason: str,
        *,
        peer: object,
        message: object,
        claimed_source: object = None,
        detail: str = "",
        count: int = 1,
    ) -> None:
        """Count ``count`` refused messages; an event now if this key is new or due."""
        peer_s, msg_s, claimed_s = shown(peer), shown(message), shown(claimed_source)
        self.messages += count
        self.by_reason[reason] = self.by_reason.get(reason, 0) + count
        if len(self.peers) < MAX_PEERS_COUNTED and peer_s is not None:
            self.peers.add(peer_s)
        key = (peer_s, reason, msg_s, claimed_s)
        entry = self.entries.get(key)
        if entry is None and len(self.entries) >= MAX_KEYS:
            key = (OTHER_PEERS, reason, None, None)
            entry = self.entries.get(key)
            peer_s, msg_s, claimed_s = OTHER_PEERS, None, None
        t = now_ns()
        if entry is None:
            why = REASONS.get(reason, reason) + (f" ({detail})" if detail else "")
            entry = self.entries[key] = _Entry(peer_s, claimed_s, msg_s, reason, why, t, t)
            entry.total, entry.unreported = count, count
            self._event(entry)
            if self.announce is not None:
                claim = f" claiming source {claimed_s!r}" if claimed_s is not None else ""
                self.announce(
                    f"surgeproof run: REFUSED {msg_s or 'a message'} from peer {peer_s!r}{claim}: "
                    f"{why}"
                )
            return
        entry.total += count
        entry.unreported += count
        entry.last_ns = t
        if self.clock() - entry.last_event >= self.every_s:
            self._event(entry)

    def flush(self, final: bool = False) -> None:
        """Events for keys refused since their last event: the due ones, or all at the end."""
        now = self.clock()
        for entry in self.entries.values():
            if entry.unreported and (final or now - entry.last_event >= self.every_s):
                self._event(entry)

    def summary(self) -> dict[str, Any]:
        """``run.json`` ``workers.refused``: messages refused, distinct peers (``peers_capped``:
        at least that many), per reason."""
        out: dict[str, Any] = {
            "messages": self.messages,
            "peers": len(self.peers),
            "by_reason": dict(sorted(self.by_reason.items())),
        }
        if len(self.peers) >= MAX_PEERS_COUNTED:
            out["peers_capped"] = True
        return out

    def _event(self, entry: _Entry) -> None:
        self.emit(
            EVENT,
            peer=entry.peer,
            claimed_source=entry.claimed_source,
            message=entry.message,
            reason=entry.reason,
            why=entry.why,
            count=entry.unreported,
            total=entry.total,
            first_ns=entry.first_ns,
            last_ns=entry.last_ns,
        )
        entry.unreported = 0
        entry.last_event = self.clock()
