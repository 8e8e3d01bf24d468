"""Coinone's answers: ``result: success|error``, ``error_code`` and ``error_msg``.

Application errors (a bad parameter, a bad signature, an unknown order) are answered with HTTP
200 and ``result: error`` (clients read ``error_code`` from the body); the rate limit is HTTP 429
with error 4 "Blocked user access." (for a minute, as Coinone documents), the capacity model's
shedding HTTP 503, an unknown path 404, a body over the limit 413, all in the same envelope.
The envelope also carries ``errorCode`` / ``errorMsg``, the spelling of Coinone's older answers
and of its rate-limit message.
"""

from __future__ import annotations

import json
import time

from aiohttp import web

from surgeproof.exchange.errors import ApiError

JSON = "application/json; charset=utf-8"

#: The exchange's error names -> Coinone's (error_code, error_msg).
CODES: dict[str, tuple[str, str]] = {
    "validation_error": ("107", "Parameter error"),
    "market_does_not_exist": ("108", "Unknown cryptocurrency"),
    "order_not_found": ("104", "Order id is not exist"),
    "insufficient_funds_bid": ("103", "Lack of Balance"),
    "insufficient_funds_ask": ("103", "Lack of Balance"),
    "under_min_total_bid": ("113", "Quantity is too low"),
    "under_min_total_ask": ("113", "Quantity is too low"),
    "invalid_price_bid": ("105", "Price is not correct"),
    "invalid_price_ask": ("105", "Price is not correct"),
    "create_bid_error": ("107", "Parameter error"),
    "create_ask_error": ("107", "Parameter error"),
    "too_many_requests": ("4", "Blocked user access."),
    "too_many_requests_blocked": ("4", "Blocked user access."),
    "server_busy": ("405", "Server error"),
    "server_error": ("405", "Server error"),
    "not_found": ("404", "Page not found error"),
    "method_not_allowed": ("404", "Page not found error"),
    "payload_too_large": ("107", "Parameter error"),
    "invalid_credentials": ("50", "Authenticate error"),
    "session_not_found": ("100", "Session expired"),
}
#: Statuses that keep their HTTP status on the wire (everything else is 200 + result: error).
WIRE_STATUS = {429: 429, 418: 429, 503: 503, 500: 500, 413: 413}


def success(**fields) -> dict:
    return {"result": "success", "error_code": "0", **fields}


def respond(data: dict) -> web.Response:
    return web.Response(
        body=json.dumps(data, ensure_ascii=False).encode(), headers={"Content-Type": JSON}
    )


def error_fields(exc: ApiError) -> dict:
    code, msg = CODES.get(str(exc.name), ("107", "Parameter error"))
    if exc.code is not None:
        code, msg = exc.code, exc.message
    elif exc.message and code not in ("4",):
        msg = f"{msg}: {exc.message}"
    return {
        "result": "error",
        "error_code": code,
        "error_msg": msg,
        "errorCode": code,
        "errorMsg": msg,
    }


def render_error(exc: ApiError) -> web.Response:
    status = WIRE_STATUS.get(exc.status, 200)
    if exc.name in ("not_found", "method_not_allowed"):
        status = exc.status
    body = json.dumps({**error_fields(exc), "server_time": int(time.time() * 1000)})
    return web.Response(
        status=status, body=body.encode(), headers={"Content-Type": JSON, **exc.headers}
    )
