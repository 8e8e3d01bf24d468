"""Each dialect's rate-limit groups and their default quotas (requests per window).

A leaf module (imports nothing), so the config can resolve a dialect's defaults without loading
the dialect's handlers. Windows are one second unless ``WINDOWS`` says otherwise.
"""

from __future__ import annotations

#: Upbit's published per-second groups (BRIEF §4), plus ``session`` (the app login, ours).
UPBIT: dict[str, int] = {
    "market": 10,
    "ticker": 10,
    "orderbook": 10,
    "candle": 10,
    "trade": 10,
    "default": 30,
    "order": 8,
    "websocket-connect": 5,
    "session": 5,
}

#: Bithumb documents 150 public requests per second per IP and 140 private requests per second
#: per API key, and (per its v2.1.5 notes) order entry at 10 per second and the batch order /
#: batch cancel calls at 20 per second. It documents no websocket connect rate: Upbit's 5/s.
BITHUMB: dict[str, int] = {
    "public": 150,
    "private": 140,
    "order": 10,
    "order-batch": 20,
    "websocket-connect": 5,
    "session": 5,
}

#: Coinone documents 300 public requests per minute (then "Blocked user access." for a
#: minute). Its private limits and websocket connect rate are not in the pages we read:
#: Upbit-like defaults (30/s account calls, 8/s order entry and cancel, 5 connects/s).
COINONE: dict[str, int] = {
    "public": 300,
    "private": 30,
    "order": 8,
    "websocket-connect": 5,
    "session": 5,
}

DEFAULTS: dict[str, dict[str, int]] = {"upbit": UPBIT, "bithumb": BITHUMB, "coinone": COINONE}
#: Groups counted per window longer than a second: group -> seconds.
WINDOWS: dict[str, dict[str, float]] = {"coinone": {"public": 60.0}}
