"""The ``/websocket/v1`` protocol: Upbit's subscription request, error frames, the two formats.

Shared by the core process and the gateway processes, so both speak exactly the same protocol.
"""

from __future__ import annotations

import json

TYPES = ("ticker", "trade", "orderbook")

SIMPLE_TICKER = {
    "type": "ty",
    "code": "cd",
    "opening_price": "op",
    "high_price": "hp",
    "low_price": "lp",
    "trade_price": "tp",
    "prev_closing_price": "pcp",
    "change": "c",
    "change_price": "cp",
    "signed_change_price": "scp",
    "change_rate": "cr",
    "signed_change_rate": "scr",
    "trade_volume": "tv",
    "acc_trade_volume": "atv",
    "acc_trade_volume_24h": "atv24h",
    "acc_trade_price": "atp",
    "acc_trade_price_24h": "atp24h",
    "trade_date": "tdt",
    "trade_time": "ttm",
    "trade_timestamp": "ttms",
    "ask_bid": "ab",
    "acc_ask_volume": "aav",
    "acc_bid_volume": "abv",
    "highest_52_week_price": "h52wp",
    "highest_52_week_date": "h52wdt",
    "lowest_52_week_price": "l52wp",
    "lowest_52_week_date": "l52wdt",
    "market_state": "ms",
    "is_trading_suspended": "its",
    "delisting_date": "dd",
    "market_warning": "mw",
    "timestamp": "tms",
    "stream_type": "st",
}
SIMPLE_TRADE = {
    "type": "ty",
    "code": "cd",
    "trade_price": "tp",
    "trade_volume": "tv",
    "ask_bid": "ab",
    "prev_closing_price": "pcp",
    "change": "c",
    "change_price": "cp",
    "trade_date": "td",
    "trade_time": "ttm",
    "trade_timestamp": "ttms",
    "timestamp": "tms",
    "sequential_id": "sid",
    "best_ask_price": "bap",
    "best_ask_size": "bas",
    "best_bid_price": "bbp",
    "best_bid_size": "bbs",
    "stream_type": "st",
}
SIMPLE_ORDERBOOK = {
    "type": "ty",
    "code": "cd",
    "total_ask_size": "tas",
    "total_bid_size": "tbs",
    "orderbook_units": "obu",
    "timestamp": "tms",
    "level": "lv",
    "stream_type": "st",
}
SIMPLE_UNIT = {"ask_price": "ap", "bid_price": "bp", "ask_size": "as", "bid_size": "bs"}
_SIMPLE = {"ticker": SIMPLE_TICKER, "trade": SIMPLE_TRADE, "orderbook": SIMPLE_ORDERBOOK}


def simplify(kind: str, message: dict) -> dict:
    """A DEFAULT-format message in Upbit's SIMPLE (abbreviated) field names."""
    names = _SIMPLE[kind]
    out = {names.get(k, k): v for k, v in message.items()}
    if kind == "orderbook":
        out["obu"] = [{SIMPLE_UNIT[k]: v for k, v in u.items()} for u in out["obu"]]
    return out


def encode(kind: str, message: dict, fmt: str) -> bytes:
    """A message (DEFAULT field names) as the bytes of one frame in ``fmt``."""
    body = simplify(kind, message) if fmt == "SIMPLE" else message
    return json.dumps(body, ensure_ascii=False).encode()


class RequestError(Exception):
    """A subscription request Upbit would answer with an error frame."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name
        self.message = message

    def frame(self) -> bytes:
        return json.dumps({"error": {"name": self.name, "message": self.message}}).encode()


def parse_request(text: str, markets: set[str]) -> tuple[str, dict[str, dict], str]:
    """(ticket, {type: {codes, snapshot, realtime}}, format) or RequestError."""
    try:
        items = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise RequestError("WRONG_FORMAT", "Requested using wrong format") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise RequestError("WRONG_FORMAT", "Requested using wrong format")
    ticket = next((i["ticket"] for i in items if "ticket" in i), None)
    if not isinstance(ticket, str) or not ticket:
        raise RequestError("NO_TICKET", "Ticket field must be contained.")
    fmt = "DEFAULT"
    types: dict[str, dict] = {}
    for item in items:
        if "ticket" in item:
            continue
        if "format" in item and "type" not in item:
            fmt = str(item["format"]).upper()
            if fmt not in ("DEFAULT", "SIMPLE"):
                raise RequestError("INVALID_PARAM", f"format {item['format']} is not supported.")
            continue
        if "type" not in item:
            raise RequestError("NO_TYPE", "type field not exists.")
        kind = item["type"]
        if kind not in TYPES:
            raise RequestError("INVALID_PARAM", f"type {kind} is not supported.")
        if "codes" not in item:
            raise RequestError("NO_CODES", "codes field not exists.")
        codes = item["codes"]
        if not isinstance(codes, list) or not codes:
            raise RequestError("INVALID_PARAM", "codes field is empty.")
        # Orderbook codes may carry a depth suffix: KRW-BTC.5
        clean = {str(c).split(".", 1)[0].upper() for c in codes}
        unknown = clean - markets
        if unknown:
            raise RequestError("INVALID_PARAM", f"codes {sorted(unknown)} are not supported.")
        snapshot_only = bool(item.get("isOnlySnapshot", item.get("is_only_snapshot", False)))
        realtime_only = bool(item.get("isOnlyRealtime", item.get("is_only_realtime", False)))
        types[kind] = {"codes": clean, "snapshot": not realtime_only, "realtime": not snapshot_only}
    if not types:
        raise RequestError("NO_TYPE", "type field not exists.")
    return ticket, types, fmt
