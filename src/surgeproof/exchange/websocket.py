"""The dialect's websocket endpoint served by the core process (``ws_gateways: 0``, and always
on the core's port).

The request format, snapshots, realtime streams and errors are the dialect's ``WsProtocol``,
shared with the gateway processes; this module admits the upgrade and runs the session.
"""

from __future__ import annotations

import time

from aiohttp import web

from surgeproof.exchange.errors import ApiError
from surgeproof.exchange.metrics import Metrics
from surgeproof.exchange.routes import RECORDED, STATE, STATS
from surgeproof.exchange.wsfanout import MAX_REQUEST_BYTES, Subscriber, run_session


async def websocket(request: web.Request) -> web.StreamResponse:
    # The connect rate limit (group websocket-connect) was applied by the middleware already.
    state = request.app[STATE]
    hub = state.hub
    cap = state.config.max_ws_connections
    if cap and state.ws_admitted() >= cap:
        raise ApiError(503, "server_busy", "too many websocket connections")
    if hub.connections >= state.fd_budget:
        raise ApiError(503, "server_busy", "this process is at its open-file limit")
    # No compression: one framed message is written as-is to every subscriber.
    ws = web.WebSocketResponse(heartbeat=None, max_msg_size=MAX_REQUEST_BYTES, compress=False)
    if not ws.can_prepare(request).ok:
        raise ApiError(400, "WRONG_FORMAT", "expected a WebSocket upgrade")
    sub = Subscriber(request.transport)
    hub.fanout.add(sub)
    try:
        await ws.prepare(request)
        # The upgrade is the request: count it as served now, not when the connection ends.
        Metrics.outcome(request[STATS], "websocket", "served")
        request[RECORDED] = True
        state.metrics.at(int(time.time())).ws_connects += 1
        await run_session(ws, sub, hub.fanout, set(state.engine.books), hub.snapshot)
    finally:
        hub.fanout.remove(sub)
    return ws
