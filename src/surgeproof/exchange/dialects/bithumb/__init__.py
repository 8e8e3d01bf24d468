"""The ``bithumb`` dialect: Bithumb Open API 2.x over the one engine.

Signing is Upbit's bearer JWT (HS256) with a required millisecond ``timestamp`` claim; errors
are Upbit's envelope; the websocket is Upbit's subscription list at ``/websocket/v1``. Bithumb
documents no rate-limit header: the ``Remaining-Req`` header is sent in Upbit's format.
"""

from __future__ import annotations

from surgeproof.exchange.dialects.base import OpenApiFacts, ServedDialect
from surgeproof.exchange.dialects.bithumb.routes import ROUTES
from surgeproof.exchange.dialects.jwt_verifier import JwtVerifier
from surgeproof.exchange.dialects.upbit import ERRORS, PRIVATE_ERRORS, bearer_jwt
from surgeproof.exchange.dialects.upbit.answers import render_error
from surgeproof.exchange.dialects.upbit.auth import BearerVerifier, read_request_params
from surgeproof.exchange.dialects.upbit.websocket import upbit_websocket
from surgeproof.exchange.ratelimit import UPBIT_STYLE

#: How far a JWT's ``timestamp`` may be from the server clock. Bithumb requires the claim but
#: publishes no window; a minute covers load generators whose requests wait before leaving.
TIMESTAMP_SKEW_S = 60.0


def bithumb_verifier(state) -> BearerVerifier:
    return BearerVerifier(
        JwtVerifier(state.accounts, algorithms=("HS256",), timestamp_skew_s=TIMESTAMP_SKEW_S)
    )


DIALECT = ServedDialect(
    name="bithumb",
    title="Bithumb Open API 2.x and WebSocket /websocket/v1",
    routes=ROUTES,
    verifier=bithumb_verifier,
    read_params=read_request_params,
    render_error=render_error,
    limit_style=UPBIT_STYLE,
    websocket=upbit_websocket,
    openapi=OpenApiFacts(
        security=bearer_jwt(
            "HS256/HS512 JWT: access_key, nonce, query_hash (SHA512), timestamp (ms)"
        ),
        errors=ERRORS,
        private_errors=PRIVATE_ERRORS,
    ),
    login=(
        "POST /v1/session {member_id, password} -> 201 {session_token, access_key, expires_in}",
        "DELETE /v1/session with X-Session-Token -> 200 {ok: true}",
    ),
)
