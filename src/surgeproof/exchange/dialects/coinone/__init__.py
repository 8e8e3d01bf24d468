"""The ``coinone`` dialect: Coinone Open API (public v2, private v2.1 and the older v2 calls)
and its public websocket, over the one engine."""

from __future__ import annotations

from surgeproof.exchange.dialects.base import OpenApiFacts, ServedDialect
from surgeproof.exchange.dialects.coinone.answers import render_error
from surgeproof.exchange.dialects.coinone.auth import coinone_verifier, read_request_params
from surgeproof.exchange.dialects.coinone.routes import ROUTES
from surgeproof.exchange.dialects.coinone.websocket import coinone_websocket
from surgeproof.exchange.dialects.quotas import WINDOWS
from surgeproof.exchange.ratelimit import LimitStyle

#: Coinone sends no remaining-requests header; over the public limit a client is blocked for a
#: minute ("Blocked user access."), as its docs say.
COINONE_STYLE = LimitStyle(header=None, windows=WINDOWS["coinone"], block_on_excess_s=60.0)

DIALECT = ServedDialect(
    name="coinone",
    title="Coinone Open API (public v2, private v2.1) and its public WebSocket",
    routes=ROUTES,
    verifier=coinone_verifier,
    read_params=read_request_params,
    render_error=render_error,
    limit_style=COINONE_STYLE,
    websocket=coinone_websocket,
    # Application errors travel on 200 with result: error.
    openapi=OpenApiFacts(
        security={
            "type": "apiKey",
            "in": "header",
            "name": "X-COINONE-SIGNATURE",
            "description": "hex HMAC-SHA512 of X-COINONE-PAYLOAD (base64 JSON with access_token "
            "and nonce) keyed with the secret key",
        },
        errors=(("404", "unknown path"), ("429", "rate limited (error_code 4)")),
        ok="success, or result: error with error_code",
    ),
    login=(
        "POST /v2.1/app/login {member_id, password} -> "
        "{result, error_code, session_token, access_token, expires_in}",
        "POST /v2.1/app/logout with X-Session-Token -> {result, error_code}",
    ),
)
