"""Route metadata: which SLO family and which Upbit rate-limit group each endpoint belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from surgeproof.exchange.state import ExchangeState

STATE: web.AppKey[ExchangeState] = web.AppKey("state", ExchangeState)


@dataclass(frozen=True)
class RouteSpec:
    family: str  # login | quotation | orders | account | websocket | other (metrics by_group)
    limit_group: str  # Upbit's rate-limit group (Remaining-Req)
    private: bool = False  # needs an Upbit JWT
    pooled: bool = True  # holds an API worker while it runs


OTHER = RouteSpec("other", "default", pooled=False)
SPECS: dict[object, RouteSpec] = {}


def spec(family: str, limit_group: str, private: bool = False, pooled: bool = True):
    """Decorator attaching a RouteSpec to a handler."""

    def wrap(handler):
        SPECS[handler] = RouteSpec(family, limit_group, private, pooled)
        return handler

    return wrap


# Per-request values the middleware hands to handlers.
STATS: web.RequestKey[object] = web.RequestKey("stats", object)
IDENTITY: web.RequestKey[str] = web.RequestKey("identity", str)
DEADLINE: web.RequestKey[float] = web.RequestKey("deadline", float)
ACCOUNT: web.RequestKey[object] = web.RequestKey("account", object)
BODY: web.RequestKey[object] = web.RequestKey("body", object)
RECORDED: web.RequestKey[bool] = web.RequestKey("outcome_recorded", bool)
