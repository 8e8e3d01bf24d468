"""What a dialect is: the wire side of one exchange's API over the one engine.

A dialect has its route table, its way of reading and signing requests, its error envelope,
its rate-limit style and its websocket protocol. Everything behind those (engine, capacity
model, sessions, ledger, metrics, admin endpoints) is the same for every dialect.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from surgeproof.exchange.errors import ApiError
from surgeproof.exchange.ratelimit import LimitStyle
from surgeproof.exchange.routes import Route

if TYPE_CHECKING:
    from surgeproof.exchange.accounts import Account
    from surgeproof.exchange.state import ExchangeState
    from surgeproof.exchange.wsprotocol import WsProtocol

JSON = "application/json; charset=utf-8"


class RequestVerifier(Protocol):
    """Reads a private request's parameters into it and returns the account that signed it."""

    async def authenticate(self, request: web.Request) -> Account: ...


#: Reads a public request's parameters (body included) into the request.
ReadParams = Callable[[web.Request], Awaitable[None]]
#: An error as the dialect answers it (the given headers added).
RenderError = Callable[[ApiError], web.Response]


@dataclass(frozen=True)
class OpenApiFacts:
    """How a dialect's answers and signing read in its OpenAPI document."""

    #: The security scheme of its private calls (OpenAPI ``securitySchemes`` entry).
    security: dict[str, str]
    #: (status, description) of the errors every API call may answer with.
    errors: tuple[tuple[str, str], ...]
    #: ... and those of private calls only.
    private_errors: tuple[tuple[str, str], ...] = ()
    #: What its 200 answer carries (an envelope may carry errors on 200 too).
    ok: str = "success"


@dataclass(frozen=True)
class ServedDialect:
    """One exchange API as the embedded exchange serves it (what a client speaks is
    ``dialect.model.Dialect``, read from a dialect file)."""

    name: str
    title: str
    routes: tuple[Route, ...]
    verifier: Callable[[ExchangeState], RequestVerifier]  # one per running exchange
    read_params: ReadParams
    render_error: RenderError
    limit_style: LimitStyle
    websocket: Callable[[float], WsProtocol]  # built with the config's ws ping timeout
    #: Its answers and signing as its OpenAPI document states them.
    openapi: OpenApiFacts
    #: One line each: how the app login of this dialect works (README, /openapi.json).
    login: tuple[str, ...] = field(default=())

    def route_specs(self) -> dict[tuple[str, str], Route]:
        """Routes by (method, path)."""
        return {(r.method, r.path): r for r in self.routes}
