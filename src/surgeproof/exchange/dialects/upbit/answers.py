"""Upbit's error envelope: ``{"error": {"name", "message"}}`` with the HTTP status of the error.

Upbit does not publish names for its overload answers; ``server_busy`` (503),
``too_many_requests`` (429) and ``too_many_requests_blocked`` (418) are ours.
"""

from __future__ import annotations

from aiohttp import web

from surgeproof.exchange.errors import ApiError

JSON = "application/json; charset=utf-8"


def render_error(exc: ApiError) -> web.Response:
    status = exc.status
    body = exc.body()
    if exc.name == "payload_too_large":
        body = ApiError(413, "validation_error", exc.message).body()
    return web.Response(status=status, body=body, headers={"Content-Type": JSON, **exc.headers})
