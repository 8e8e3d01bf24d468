"""A request's parameters: the query string plus the body (JSON object or form), as handlers
read them, and the ordered pairs a query-hash signature covers.

Clients put parameters in different places for the same call: ccxt sends a POST's fields as a
JSON body, pyupbit sends a GET's fields as a form body and a DELETE's as a JSON body. The
exchange reads all of them the same way.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from aiohttp import web

from surgeproof.exchange.errors import validation
from surgeproof.exchange.routes import PARAMS
from surgeproof.exchange.safe_json import JsonTooComplex, loads_bounded

FORM = "application/x-www-form-urlencoded"


def scalar_text(value: object) -> str:
    """A JSON value as the text a client's url-encoder would have written for it."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def signed_pairs(fields: dict) -> list[tuple[str, str]]:
    """The (key, value) pairs of a body in order; lists become ``key[]`` pairs, one per item."""
    pairs: list[tuple[str, str]] = []
    for key, value in fields.items():
        if isinstance(value, list):
            pairs += [(f"{key}[]", scalar_text(item)) for item in value]
        elif not isinstance(value, dict):
            pairs.append((str(key), scalar_text(value)))
    return pairs


async def read_body(request: web.Request) -> object | None:
    """The parsed body: JSON (any Content-Type but form), a form as a dict, None when empty."""
    if not request.can_read_body:
        return None
    raw = await request.read()
    if not raw:
        return None
    if request.content_type == FORM:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise validation("the form body is not UTF-8") from None
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        return loads_bounded(raw)
    except JsonTooComplex as exc:
        raise validation(f"the request body is too complex ({exc})") from None
    except ValueError:
        raise validation("the request body is not valid JSON") from None


async def read_params(request: web.Request) -> tuple[dict, list[tuple[str, str]], object | None]:
    """(params for the handler, pairs a query_hash covers, the parsed body)."""
    params: dict = dict(request.query)
    pairs = list(request.query.items())
    body = await read_body(request)
    if isinstance(body, dict):
        for key, value in body.items():
            params.setdefault(str(key), value)
        pairs += signed_pairs(body)
    return params, pairs, body


def params_of(request: web.Request):
    """The parameters a handler reads: those read by the middleware, else the query."""
    params = request.get(PARAMS)
    return request.query if params is None else params
