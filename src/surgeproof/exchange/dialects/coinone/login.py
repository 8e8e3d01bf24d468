"""The coinone dialect's app login (not part of Coinone's public API, ours), Coinone-shaped:
``POST /v2.1/app/login {member_id, password}`` -> ``{result, error_code, session_token,
access_token, expires_in}``; ``POST /v2.1/app/logout`` with ``X-Session-Token``."""

from __future__ import annotations

from aiohttp import web

from surgeproof.exchange.dialects.coinone.answers import respond, success
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
    return respond(
        success(
            session_token=session.token,
            access_token=account.access_key,
            expires_in=state.config.session_ttl_s,
        )
    )


async def logout(request: web.Request) -> web.Response:
    log_out(request.app[STATE], request.headers.get("X-Session-Token"))
    return respond(success())
