"""Worker-channel messages the master refused (``fleet_refused`` events in ``events.jsonl``).

Nothing a refused message carried reached the run directory, so no figure here is touched by
it; but a reader of the evidence must know that something that could not prove the fleet key
tried to take part — who (the peer's node id and the source it claimed), what, why and when.
The events are the master's rate-limited account (each says how many it stands for), summed
here per peer, reason, message and claimed source.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

EVENT = "fleet_refused"
#: Entries kept apart in analysis.json; the rest are summed into one "(others)" entry.
MAX_ENTRIES = 64
_TEXT = 64
_WHY = 240
_KEYS = ("peer", "claimed_source", "message", "reason")


def refused_messages(events: Iterable[dict[str, Any]], t0_ns: int | None) -> dict[str, Any]:
    """``data_quality.refused_messages``: totals, per reason, and one entry per key."""
    entries: dict[tuple, dict[str, Any]] = {}
    for ev in events:
        if ev.get("type") != EVENT:
            continue
        count = ev.get("count")
        if type(count) is not int or count < 0:
            continue
        key = tuple(_text(ev.get(k), _TEXT) for k in _KEYS)
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = dict(zip(_KEYS, key, strict=True))
            entry.update(why=_text(ev.get("why"), _WHY), count=0, first_ns=None, last_ns=None)
        entry["count"] += count
        for field, pick in (("first_ns", min), ("last_ns", max)):
            value = ev.get(field)
            if type(value) is int:
                entry[field] = value if entry[field] is None else pick(entry[field], value)
    ranked = sorted(entries.values(), key=lambda e: (-e["count"], e["first_ns"] or 0))
    kept, rest = ranked[:MAX_ENTRIES], ranked[MAX_ENTRIES:]
    if rest:
        kept.append(
            {
                "peer": "(others)",
                "claimed_source": None,
                "message": None,
                "reason": None,
                "why": f"{len(rest)} more peer/reason/message combinations",
                "count": sum(e["count"] for e in rest),
                "first_ns": min((e["first_ns"] for e in rest if e["first_ns"]), default=None),
                "last_ns": max((e["last_ns"] for e in rest if e["last_ns"]), default=None),
            }
        )
    for e in kept:
        for field in ("first", "last"):
            ns = e[f"{field}_ns"]
            e[f"{field}_t_s"] = None if ns is None or t0_ns is None else (ns - t0_ns) / 1e9
    by_reason: dict[str, int] = {}
    for e in ranked:
        by_reason[e["reason"] or "?"] = by_reason.get(e["reason"] or "?", 0) + e["count"]
    return {
        "messages": sum(e["count"] for e in ranked),
        "peers": len({e["peer"] for e in ranked}),
        "by_reason": dict(sorted(by_reason.items(), key=lambda kv: -kv[1])),
        "entries": kept,
    }


def refusal_caveat(refused: dict[str, Any]) -> str | None:
    """The caveat line when anything was refused, else None."""
    n = refused.get("messages") or 0
    if not n:
        return None
    reasons = ", ".join(f"{reason} {count:,}" for reason, count in refused["by_reason"].items())
    peers = refused.get("peers") or 0
    return (
        f"the master refused {n:,} worker-channel message(s) from {peers:,} peer(s) that did "
        f"not prove the fleet key or were not sealed by their own session ({reasons}): nothing "
        "they carried reached this run directory or these figures (events.jsonl fleet_refused)"
    )


def _text(value: Any, limit: int) -> str | None:
    """A value from the events file as bounded printable text (the file may be crafted)."""
    if value is None:
        return None
    text = value[: limit + 1] if isinstance(value, str) else f"<{type(value).__name__}>"
    out = "".join(c if " " <= c <= "~" else "?" for c in text[:limit])
    return out + "..." if len(text) > limit else out
