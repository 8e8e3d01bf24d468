"""The app login of the upbit and bithumb dialects (not part of either public API, ours):
``POST /v1/session {member_id, password}`` -> 201 ``{session_token, access_key, expires_in}``;
``DELETE /v1/session`` with ``X-Session-Token`` -> 200 ``{"ok": true}``.
"""

from __future__ import annotations

from aiohttp import web

from surgeproof.exchange.dialects.upbit.trading import json_response
from surgeproof.exchange.errors import validation
from surgeproof.exchange.member_login import log_in, log_out
from surgeproof.exchange.routes import BODY, DEADLINE, STATE


async def login(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = request.get(BODY)
    if not isinstance(body, dict):
        raise validation("the request body must be a JSON object")
    session, account = await log_in(
        state, request[DEADLINE], body.get("member_id"), body.get("password")
    )
    return json_response(
        {
            "session_token": session.token,
            "access_key": account.access_key,
            "expires_in": state.config.session_ttl_s,
        },
        status=201,
    )


async def logout(request: web.Request) -> web.Response:
    log_out(request.app[STATE], request.headers.get("X-Session-Token"))
    return json_response({"ok": True})
