"""The app login (not part of Upbit's public API): sessions backed by the member database.

Each login holds one slot of the small member-DB pool for ``member_db_time_ms``: the resource
that ran out at Upbit on 3 Dec 2024.
"""

from __future__ import annotations

import hmac
import json
import time

from aiohttp import web

from surgeproof.exchange.capacity import Shed
from surgeproof.exchange.errors import ApiError, validation
from surgeproof.exchange.routes import BODY, DEADLINE, STATE, spec

JSON = "application/json; charset=utf-8"


def _busy(message: str) -> ApiError:
    return ApiError(503, "server_busy", message)


@spec("login", "session")
async def login(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = request[BODY]
    if not isinstance(body, dict):
        raise validation("the request body must be a JSON object")
    member_id, password = body.get("member_id"), body.get("password")
    if not isinstance(member_id, str) or not isinstance(password, str):
        raise validation("member_id and password are required strings")
    if state.sessions.full():
        raise _busy("too many concurrent sessions")
    try:
        await state.db_pool.hold(request[DEADLINE], state.db_time_s)
    except Shed as exc:
        raise _busy(f"member database unavailable ({exc.reason})") from None
    try:
        account = state.by_member.get(member_id)
        ok = account is not None and hmac.compare_digest(account.password, password)
    finally:
        state.db_pool.release()
    if not ok or account is None:
        raise ApiError(401, "invalid_credentials", "member id or password is wrong")
    if state.sessions.full():  # others got in while this login was in the database
        raise _busy("too many concurrent sessions")
    session = state.sessions.open(member_id, account.access_key)
    state.metrics.at(int(time.time())).logins += 1
    return web.Response(
        status=201,
        headers={"Content-Type": JSON},
        body=json.dumps(
            {
                "session_token": session.token,
                "access_key": account.access_key,
                "expires_in": state.config.session_ttl_s,
            }
        ).encode(),
    )


@spec("login", "session")
async def logout(request: web.Request) -> web.Response:
    state = request.app[STATE]
    token = request.headers.get("X-Session-Token")
    if not token:
        raise validation("X-Session-Token header is required")
    if not state.sessions.close(token):
        raise ApiError(404, "session_not_found", "no such session (logged out or expired)")
    return web.Response(headers={"Content-Type": JSON}, body=b'{"ok": true}')


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/session", login)
    app.router.add_delete("/v1/session", logout)
