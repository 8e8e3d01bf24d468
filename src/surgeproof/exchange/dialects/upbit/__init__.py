"""The ``upbit`` dialect: Upbit REST API v1 and ``/websocket/v1``, as before dialects existed."""

from __future__ import annotations

from surgeproof.exchange.dialects.base import Dialect
from surgeproof.exchange.dialects.upbit.answers import render_error
from surgeproof.exchange.dialects.upbit.auth import read_request_params, upbit_verifier
from surgeproof.exchange.dialects.upbit.routes import ROUTES
from surgeproof.exchange.dialects.upbit.websocket import upbit_websocket
from surgeproof.exchange.ratelimit import UPBIT_STYLE

DIALECT = Dialect(
    name="upbit",
    title="Upbit REST API v1 and WebSocket /websocket/v1",
    routes=ROUTES,
    verifier=upbit_verifier,
    read_params=read_request_params,
    render_error=render_error,
    limit_style=UPBIT_STYLE,
    websocket=upbit_websocket,
    login=(
        "POST /v1/session {member_id, password} -> 201 {session_token, access_key, expires_in}",
        "DELETE /v1/session with X-Session-Token -> 200 {ok: true}",
    ),
)
