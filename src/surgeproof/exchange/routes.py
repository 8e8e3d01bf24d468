"""The route table: each endpoint's method, path, handler, SLO family and rate-limit group.

A dialect is mostly a list of ``Route``; the app registers them and the middleware reads each
request's ``RouteSpec`` (from its matched route) to meter, authenticate, rate-limit and queue it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from surgeproof.exchange.state import ExchangeState

STATE: web.AppKey[ExchangeState] = web.AppKey("state", ExchangeState)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class RouteSpec:
    family: str  # login | quotation | orders | account | websocket | other (metrics by_group)
    limit_group: str  # the dialect's rate-limit group (Remaining-Req and friends)
    private: bool = False  # signed with the dialect's API-key scheme
    pooled: bool = True  # holds an API worker while it runs


@dataclass(frozen=True)
class Param:
    """One documented request parameter (query, body or path), for the OpenAPI description."""

    name: str
    where: str = "query"  # query | body | path | header
    type: str = "string"  # string | integer | number | boolean | array | object
    required: bool = False
    enum: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Route:
    """One endpoint of a dialect."""

    method: str
    path: str
    handler: Handler
    spec: RouteSpec
    summary: str = ""
    params: tuple[Param, ...] = ()
    ok_status: int = 200
    tags: tuple[str, ...] = field(default=())


OTHER = RouteSpec("other", "default", pooled=False)
#: Every family a route belongs to (metrics ``by_group``; the same in every dialect).
FAMILIES = ("login", "quotation", "orders", "account", "websocket", "other")

# Per-request values the middleware hands to handlers.
STATS: web.RequestKey[object] = web.RequestKey("stats", object)
IDENTITY: web.RequestKey[str] = web.RequestKey("identity", str)
DEADLINE: web.RequestKey[float] = web.RequestKey("deadline", float)
ACCOUNT: web.RequestKey[object] = web.RequestKey("account", object)
#: The request's parameters as the handler reads them: query plus body (or signed payload).
PARAMS: web.RequestKey[dict] = web.RequestKey("params", dict)
#: The parsed request body (JSON object, list, ...) when there was one.
BODY: web.RequestKey[object] = web.RequestKey("body", object)
RECORDED: web.RequestKey[bool] = web.RequestKey("outcome_recorded", bool)
