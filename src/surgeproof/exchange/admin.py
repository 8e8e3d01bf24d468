"""``/admin/*``: health, config, accounts, metrics, ledger, stall and price injection.

Answers loopback peers only, and is exempt from every limit, pool and stall, so a load test can
always read the exchange's own truth while it is drowning.
"""

from __future__ import annotations

import json
import time

from aiohttp import web

from surgeproof.exchange.errors import ApiError, validation
from surgeproof.exchange.money import fmt
from surgeproof.exchange.routes import STATE

JSON = "application/json; charset=utf-8"


def _json(data: object) -> web.Response:
    return web.Response(
        body=json.dumps(data, ensure_ascii=False).encode(), headers={"Content-Type": JSON}
    )


async def _body(request: web.Request) -> dict:
    try:
        data = await request.json()
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
    try:
        since_f = float(since) if since else None
    except ValueError:
        raise validation("since must be unix seconds") from None
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
    }


async def ledger(request: web.Request) -> web.Response:
    return _json(ledger_report(request.app[STATE]))


async def stall(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await _body(request)
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 < seconds <= 600:
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
    if market not in state.prices.refs:
        raise ApiError(404, "market_does_not_exist", f"market {market!r} does not exist")
    shock = body.get("shock", 0.0)
    over_s = body.get("over_s", 0.0)
    recover_s = body.get("recover_s", 0.0)
    for name, value in (("shock", shock), ("over_s", over_s), ("recover_s", recover_s)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise validation(f"{name} must be a number")
    if not -0.95 <= shock <= 10 or over_s < 0 or recover_s < 0:
        raise validation("shock must be in [-0.95, 10]; over_s and recover_s >= 0")
    start, end = state.prices.shock(
        market, float(shock), float(over_s), time.time(), float(recover_s)
    )
    return _json(
        {"market": market, "start": start, "end": end, "price": state.prices.refs[market].price}
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/admin/health", health)
    app.router.add_get("/admin/config", config)
    app.router.add_get("/admin/accounts", accounts)
    app.router.add_get("/admin/metrics", metrics)
    app.router.add_get("/admin/ledger", ledger)
    app.router.add_post("/admin/stall", stall)
    app.router.add_post("/admin/price", price)
