"""The aiohttp application: one middleware that meters, stalls, authenticates, rate-limits and
queues every non-admin request, then the handlers."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import time

from aiohttp import web

from surgeproof.exchange import admin, login, prometheus, quotation, trading, websocket
from surgeproof.exchange.capacity import Shed
from surgeproof.exchange.config import ExchangeConfig
from surgeproof.exchange.errors import ApiError, validation
from surgeproof.exchange.metrics import Metrics
from surgeproof.exchange.routes import (
    ACCOUNT,
    BODY,
    DEADLINE,
    IDENTITY,
    OTHER,
    RECORDED,
    SPECS,
    STATE,
    STATS,
    RouteSpec,
)
from surgeproof.exchange.state import ExchangeState

log = logging.getLogger("surgeproof.exchange")
JSON = "application/json; charset=utf-8"


def is_loopback(remote: str | None) -> bool:
    """Whether a peer address is on the loopback interface."""
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def _error_response(exc: ApiError, remaining: str | None) -> web.Response:
    headers = {"Content-Type": JSON, **exc.headers}
    if remaining and "Remaining-Req" not in headers:
        headers["Remaining-Req"] = remaining
    return web.Response(status=exc.status, body=exc.body(), headers=headers)


def _from_http(exc: web.HTTPException) -> ApiError:
    if exc.status == 404:
        return ApiError(404, "not_found", "no such endpoint")
    if exc.status == 405:
        return ApiError(405, "method_not_allowed", "method not allowed on this endpoint")
    if exc.status == 413:
        return ApiError(413, "validation_error", "request body is too large")
    return ApiError(exc.status, "validation_error", exc.reason or "bad request")


def _outcome(status: int) -> str:
    if status < 400:
        return "served"
    if status == 503:
        return "shed_503"
    if status == 429:
        return "rate_limited_429"
    if status == 418:
        return "blocked_418"
    if status >= 500:
        return "server_errors"
    return "client_errors"


def _identity(request: web.Request, state: ExchangeState) -> str:
    if state.config.client_identity == "header":
        client = request.headers.get("X-Client-Id")
        if client:
            return "client:" + client
    return "ip:" + (request.remote or "?")


async def _params(request: web.Request, state: ExchangeState) -> list[tuple[str, str]]:
    """Query params, plus the JSON body's params for POST (what query_hash covers)."""
    params = list(request.query.items())
    if request.method == "POST":
        raw = await request.read()
        if raw:
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                raise validation("the request body is not valid JSON") from None
        else:
            body = {}
        request[BODY] = body
        if isinstance(body, dict):
            params += [
                (str(k), "" if v is None else str(v))
                for k, v in body.items()
                if not isinstance(v, list | dict)
            ]
    return params


async def _guarded(
    request: web.Request, handler, spec: RouteSpec, arrival: float
) -> web.StreamResponse:
    state = request.app[STATE]
    if spec.private:
        params = await _params(request, state)
        account = state.auth.verify(
            request.headers.get("Authorization"), params, request.query_string or None
        )
        request[ACCOUNT] = account
        state.sessions.touch(account.access_key, arrival)
        identity = "key:" + account.access_key
    else:
        if request.method == "POST":
            await _params(request, state)
        identity = _identity(request, state)
    request[IDENTITY] = identity
    remaining = state.limiter.check(spec.limit_group, identity, time.time())
    request[DEADLINE] = arrival + state.queue_timeout_s
    pool = state.api_pool if spec.pooled else None
    if pool is not None:
        try:
            await pool.hold(request[DEADLINE], state.service_s)
        except Shed as exc:
            raise ApiError(503, "server_busy", f"server is busy ({exc.reason})") from None
        try:
            response = await handler(request)
        finally:
            pool.release()
    else:
        response = await handler(request)
    if not response.prepared:
        response.headers["Remaining-Req"] = remaining
    return response


def _remaining(request: web.Request, state: ExchangeState, spec: RouteSpec) -> str:
    identity = request.get(IDENTITY) or _identity(request, state)
    return state.limiter.peek(spec.limit_group, identity, time.time())


@web.middleware
async def surge_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Metering, stall, auth, rate limit and queueing around every non-admin request."""
    path = request.path
    if path.startswith("/admin/"):
        if not is_loopback(request.remote):
            return _error_response(ApiError(403, "forbidden", "admin answers loopback only"), None)
        try:
            return await handler(request)
        except ApiError as exc:
            return _error_response(exc, None)
        except web.HTTPException as exc:
            return _error_response(_from_http(exc), None)
    state = request.app[STATE]
    spec = SPECS.get(request.match_info.handler, OTHER)
    arrival = time.time()
    stats = state.metrics.arrive(int(arrival), spec.family)
    request[STATS] = stats
    try:
        if state.stall_until > arrival:
            # A frozen server: no answer until the freeze ends; the wait eats the queue budget.
            await asyncio.sleep(state.stall_until - arrival)
        response = await _guarded(request, handler, spec, arrival)
    except ApiError as exc:
        response = _error_response(exc, _remaining(request, state, spec))
    except web.HTTPException as exc:
        response = _error_response(_from_http(exc), _remaining(request, state, spec))
    except asyncio.CancelledError:
        if not request.get(RECORDED):
            Metrics.outcome(stats, spec.family, "client_errors")
        raise
    except Exception:
        log.exception("unexpected error on %s %s", request.method, path)
        response = _error_response(
            ApiError(500, "server_error", "internal error"), _remaining(request, state, spec)
        )
    if not request.get(RECORDED):
        Metrics.outcome(stats, spec.family, _outcome(response.status))
    return response


def build_app(config: ExchangeConfig) -> web.Application:
    """The exchange as an aiohttp application (the clock starts with the app)."""
    app = web.Application(middlewares=[surge_middleware], client_max_size=config.max_body_bytes)
    state = ExchangeState(config)
    app[STATE] = state
    quotation.add_routes(app)
    trading.add_routes(app)
    login.add_routes(app)
    websocket.add_routes(app)
    admin.add_routes(app)
    prometheus.add_routes(app)

    async def clock(app: web.Application):
        task = asyncio.get_running_loop().create_task(state.run_clock())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(clock)
    return app
