"""The ``upbit`` dialect: Upbit REST API v1 and ``/websocket/v1``, as before dialects existed."""

from __future__ import annotations

from surgeproof.exchange.dialects.base import OpenApiFacts, ServedDialect
from surgeproof.exchange.dialects.upbit.answers import render_error
from surgeproof.exchange.dialects.upbit.auth import read_request_params, upbit_verifier
from surgeproof.exchange.dialects.upbit.routes import ROUTES
from surgeproof.exchange.dialects.upbit.websocket import upbit_websocket
from surgeproof.exchange.ratelimit import UPBIT_STYLE

#: Upbit's error envelope: an HTTP status per error, 418 after ignored 429s.
ERRORS = (
    ("400", "bad parameter"),
    ("404", "unknown market, order or path"),
    ("429", "rate limited"),
    ("418", "blocked after repeated 429s"),
)
PRIVATE_ERRORS = (("401", "signature refused"),)


def bearer_jwt(claims: str) -> dict[str, str]:
    """The bearer-JWT security scheme, naming the claims a request is signed with."""
    return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": claims}


DIALECT = ServedDialect(
    name="upbit",
    title="Upbit REST API v1 and WebSocket /websocket/v1",
    routes=ROUTES,
    verifier=upbit_verifier,
    read_params=read_request_params,
    render_error=render_error,
    limit_style=UPBIT_STYLE,
    websocket=upbit_websocket,
    openapi=OpenApiFacts(
        security=bearer_jwt("HS256/HS512 JWT: access_key, nonce, query_hash (SHA512)"),
        errors=ERRORS,
        private_errors=PRIVATE_ERRORS,
    ),
    login=(
        "POST /v1/session {member_id, password} -> 201 {session_token, access_key, expires_in}",
        "DELETE /v1/session with X-Session-Token -> 200 {ok: true}",
    ),
)
