"""Reading and verifying a signed Upbit request: parameters from the query and the body
(JSON or form, whatever the method), then the bearer JWT over them."""

from __future__ import annotations

from aiohttp import web

from surgeproof.exchange.accounts import Account
from surgeproof.exchange.dialects.jwt_verifier import JwtVerifier
from surgeproof.exchange.params import read_params
from surgeproof.exchange.routes import BODY, PARAMS
from surgeproof.exchange.state import ExchangeState


async def read_request_params(request: web.Request) -> None:
    """Store the request's parameters (query + body) for the handler."""
    params, _, body = await read_params(request)
    request[PARAMS] = params
    request[BODY] = body


class BearerVerifier:
    """``Authorization: Bearer <JWT>`` over the request's parameters."""

    def __init__(self, jwt: JwtVerifier) -> None:
        self.jwt = jwt

    async def authenticate(self, request: web.Request) -> Account:
        params, pairs, body = await read_params(request)
        request[PARAMS] = params
        request[BODY] = body
        return self.jwt.verify(
            request.headers.get("Authorization"), pairs, request.query_string or None
        )


def upbit_verifier(state: ExchangeState) -> BearerVerifier:
    """HS256 or HS512, fresh nonce, query_hash when there are parameters."""
    return BearerVerifier(JwtVerifier(state.accounts, algorithms=("HS256", "HS512")))
