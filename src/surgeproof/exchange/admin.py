"""``/admin/*``: health, config, accounts, metrics, ledger, stall and price injection.

Answers loopback peers only, and is exempt from every limit, pool and stall, so a load test can
always read the exchange's own truth while it is drowning.
"""

from __future__ import annotations

import json
import math
import time

from aiohttp import web

from surgeproof.exchange.decimal_text import float_text
from surgeproof.exchange.errors import ApiError, validation
from surgeproof.exchange.money import fmt
from surgeproof.exchange.routes import STATE, Param, Route, RouteSpec
from surgeproof.exchange.safe_json import loads_bounded

JSON = "application/json; charset=utf-8"


def _json(data: object) -> web.Response:
    return web.Response(
        body=json.dumps(data, ensure_ascii=False).encode(), headers={"Content-Type": JSON}
    )


def _finite(value: object, name: str, low: float, high: float) -> float:
    """A JSON number within [low, high] (NaN, infinities and huge integers refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise validation(f"{name} must be a number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or not low <= number <= high:
        raise validation(f"{name} must be a finite number in [{low:g}, {high:g}]")
    return number


async def _body(request: web.Request) -> dict:
    try:
        data = loads_bounded(await request.read())
    except ValueError:
        raise validation("the request body must be JSON") from None
    if not isinstance(data, dict):
        raise validation("the request body must be a JSON object")
    return data


async def health(request: web.Request) -> web.Response:
    return _json({"ok": True})


async def config(request: web.Request) -> web.Response:
    return _json(request.app[STATE].config.to_dict())


async def accounts(request: web.Request) -> web.Response:
    return _json([a.to_json() for a in request.app[STATE].accounts])


async def metrics(request: web.Request) -> web.Response:
    state = request.app[STATE]
    since = request.query.get("since")
    since_f = float_text(since) if since else None
    if since and since_f is None:
        raise validation("since must be unix seconds (plain decimal digits)")
    if since_f is not None and not 0 <= since_f < 1e11:
        raise validation("since must be unix seconds (a finite number >= 0)")
    now = time.time()
    state.sample(now)
    return _json(
        {
            "now": now,
            "seconds": state.metrics.since(since_f, int(now)),
            "stalls": state.stalls,
            "autoscale_events": state.autoscaler.events if state.autoscaler else [],
            "gateways": state.gateways.describe() if state.gateways is not None else [],
        }
    )


def ledger_report(state) -> dict:
    """The reconciliation: per-asset totals, conservation, acknowledged and lost orders."""
    totals = state.ledger.totals()
    assets = {
        asset: {
            "deposited": fmt(t["deposited"]),
            "available": fmt(t["available"]),
            "locked": fmt(t["locked"]),
            "fees": fmt(t["fees"]),
            "conserved": t["conserved"],
        }
        for asset, t in totals.items()
    }
    orders = state.engine.orders
    lost = [u for u in state.acked if u not in orders]
    return {
        "assets": assets,
        "conserved": all(t["conserved"] for t in totals.values()),
        "acknowledged_orders": {"count": len(state.acked), "uuids": list(state.acked)},
        "lost_orders": lost,
        "open_orders": state.engine.open_count(),
        # Whether acknowledged orders survive a restart, and what the last one recovered.
        "durability": state.durable.describe() if state.durable is not None else None,
    }


async def ledger(request: web.Request) -> web.Response:
    return _json(ledger_report(request.app[STATE]))


async def stall(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await _body(request)
    seconds = _finite(body.get("seconds"), "seconds", 0.0, 600.0)
    if seconds <= 0:
        raise validation("seconds must be a number in (0, 600]")
    now = time.time()
    state.stall_until = max(state.stall_until, now + seconds)
    record = {"start": now, "end": state.stall_until}
    state.stalls.append(record)
    return _json(record)


async def price(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await _body(request)
    market = body.get("market")
    if not isinstance(market, str) or market not in state.prices.refs:
        raise ApiError(404, "market_does_not_exist", f"market {market!r} does not exist")
    shock = _finite(body.get("shock", 0.0), "shock", -0.95, 10.0)
    # A leg of more than a week would never end in any run; NaN would stop the market clock.
    over_s = _finite(body.get("over_s", 0.0), "over_s", 0.0, 7 * 86400.0)
    recover_s = _finite(body.get("recover_s", 0.0), "recover_s", 0.0, 7 * 86400.0)
    start, end = state.prices.shock(market, shock, over_s, time.time(), recover_s)
    return _json(
        {"market": market, "start": start, "end": end, "price": state.prices.refs[market].price}
    )


ADMIN = RouteSpec("admin", "admin", pooled=False)
ROUTES = (
    Route("GET", "/admin/health", health, ADMIN, "liveness", tags=("admin",)),
    Route("GET", "/admin/config", config, ADMIN, "the resolved config", tags=("admin",)),
    Route("GET", "/admin/accounts", accounts, ADMIN, "every seeded account", tags=("admin",)),
    Route(
        "GET",
        "/admin/metrics",
        metrics,
        ADMIN,
        "per-second truth of the exchange",
        (Param("since", type="number", description="unix seconds"),),
        tags=("admin",),
    ),
    Route("GET", "/admin/ledger", ledger, ADMIN, "reconciliation", tags=("admin",)),
    Route(
        "POST",
        "/admin/stall",
        stall,
        ADMIN,
        "freeze every non-admin answer for a while (they get none until it ends)",
        (Param("seconds", where="body", type="number", required=True),),
        tags=("admin",),
    ),
    Route(
        "POST",
        "/admin/price",
        price,
        ADMIN,
        "a price leg (crash and recovery)",
        (
            Param("market", where="body", required=True),
            Param("shock", where="body", type="number"),
            Param("over_s", where="body", type="number"),
            Param("recover_s", where="body", type="number"),
        ),
        tags=("admin",),
    ),
)


def add_routes(app: web.Application) -> None:
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler)
