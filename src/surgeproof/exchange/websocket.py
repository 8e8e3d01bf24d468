"""``/websocket/v1``: Upbit's request format, snapshots and realtime streams, documented errors."""

from __future__ import annotations

import asyncio
import json
import time

from aiohttp import WSMsgType, web

from surgeproof.exchange.errors import ApiError
from surgeproof.exchange.metrics import Metrics
from surgeproof.exchange.routes import RECORDED, STATE, STATS, spec
from surgeproof.exchange.wshub import TYPES, Subscriber, WsHub

QUEUE_SIZE = 1000


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


def _snapshot(hub: WsHub, kind: str, code: str) -> dict | None:
    if kind == "ticker":
        return hub.ticker_message(code, "SNAPSHOT")
    if kind == "orderbook":
        return hub.orderbook_message(code, "SNAPSHOT")
    tape = hub.md.engine.tape[code]
    return hub.trade_message(tape[-1], "SNAPSHOT") if tape else None


async def _writer(ws: web.WebSocketResponse, queue: asyncio.Queue[bytes]) -> None:
    while True:
        data = await queue.get()
        if ws.closed:
            return
        await ws.send_bytes(data)


@spec("websocket", "websocket-connect", pooled=False)
async def websocket(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    hub = state.hub
    cap = state.config.max_ws_connections
    if cap and hub.connections >= cap:
        raise ApiError(503, "server_busy", "too many websocket connections")
    ws = web.WebSocketResponse(heartbeat=None, max_msg_size=64 * 1024)
    if not ws.can_prepare(request).ok:
        raise ApiError(400, "WRONG_FORMAT", "expected a WebSocket upgrade")
    sub = Subscriber(asyncio.Queue(QUEUE_SIZE))
    hub.subscribers.add(sub)
    await ws.prepare(request)
    # The upgrade is the request: count it as served now, not when the connection ends.
    Metrics.outcome(request[STATS], "websocket", "served")
    request[RECORDED] = True
    state.metrics.at(int(time.time())).ws_connects += 1
    writer = asyncio.get_running_loop().create_task(_writer(ws, sub.queue))
    markets = set(state.engine.books)
    try:
        async for msg in ws:
            if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                continue
            raw = msg.data if msg.type == WSMsgType.TEXT else msg.data.decode("utf-8", "replace")
            try:
                _, types, fmt = parse_request(raw, markets)
            except RequestError as exc:
                sub.send(exc.frame())
                continue
            sub.fmt = fmt
            sub.codes = {k: v["codes"] for k, v in types.items() if v["realtime"]}
            for kind, want in types.items():
                if not want["snapshot"]:
                    continue
                for code in sorted(want["codes"]):
                    message = _snapshot(hub, kind, code)
                    if message is not None:
                        sub.send(hub.encode(kind, message, fmt))
    finally:
        hub.subscribers.discard(sub)
        writer.cancel()
    return ws


def add_routes(app: web.Application) -> None:
    app.router.add_get("/websocket/v1", websocket)
