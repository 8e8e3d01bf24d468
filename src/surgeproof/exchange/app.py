"""The aiohttp application: one middleware that meters, stalls, authenticates, rate-limits and
queues every non-admin request, then the dialect's handlers.

The middleware is the same for every dialect; the dialect supplies the routes (with their SLO
family and rate-limit group), the request verifier, the error envelope and the limit style.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from dataclasses import replace

from aiohttp import web

from surgeproof.exchange import admin, openapi, prometheus, websocket
from surgeproof.exchange.capacity import Shed
from surgeproof.exchange.config import ExchangeConfig
from surgeproof.exchange.dialects import get_dialect
from surgeproof.exchange.dialects.base import ServedDialect
from surgeproof.exchange.errors import ApiError
from surgeproof.exchange.metrics import Metrics
from surgeproof.exchange.routes import (
    ACCOUNT,
    DEADLINE,
    IDENTITY,
    OTHER,
    RECORDED,
    STATE,
    STATS,
    Route,
    RouteSpec,
)
from surgeproof.exchange.state import ExchangeState

log = logging.getLogger("surgeproof.exchange")
JSON = "application/json; charset=utf-8"

DIALECT: web.AppKey[ServedDialect] = web.AppKey("dialect", ServedDialect)
#: aiohttp route -> its RouteSpec (the dialect's route table, resolved at build time).
SPECS: web.AppKey[dict] = web.AppKey("specs", dict)
WEBSOCKET_SPEC = RouteSpec("websocket", "websocket-connect", pooled=False)
#: /openapi.json: counted as "other", in no rate-limit group, no pool.
DOCUMENT_SPEC = RouteSpec("other", "openapi", pooled=False)
OPENAPI: web.AppKey[bytes] = web.AppKey("openapi", bytes)


async def openapi_document(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI], headers={"Content-Type": JSON})


def is_loopback(remote: str | None) -> bool:
    """Whether a peer address is on the loopback interface."""
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def admin_error(exc: ApiError) -> web.Response:
    """Admin endpoints answer in one shape whatever the dialect (Upbit's)."""
    headers = {"Content-Type": JSON, **exc.headers}
    return web.Response(status=exc.status, body=exc.body(), headers=headers)


def from_http(exc: web.HTTPException) -> ApiError:
    """aiohttp's own refusals (no such route, wrong method, body too large) as ApiErrors."""
    if exc.status == 404:
        return ApiError(404, "not_found", "no such endpoint")
    if exc.status == 405:
        return ApiError(405, "method_not_allowed", "method not allowed on this endpoint")
    if exc.status == 413:
        return ApiError(413, "payload_too_large", "request body is too large")
    return ApiError(exc.status, "validation_error", exc.reason or "bad request")


#: An oversized body is read and thrown away (up to this much, for at most this long) before
#: its 413 is sent and the connection closed, so the client, still writing, reads the answer
#: instead of a connection reset. Beyond either bound the connection is closed anyway.
DRAIN_BYTES = 16 << 20
DRAIN_S = 2.0


async def drain_body(request: web.Request) -> None:
    """Discard what is left of a request body, within ``DRAIN_BYTES`` and ``DRAIN_S``."""
    content = request.content
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DRAIN_S
    drained = 0
    with contextlib.suppress(Exception):
        while not content.at_eof() and drained < DRAIN_BYTES:
            left = deadline - loop.time()
            if left <= 0:
                break
            chunk = await asyncio.wait_for(content.readany(), left)
            if not chunk:
                break
            drained += len(chunk)


async def _closing(request: web.Request, response: web.Response) -> web.Response:
    """A 413 answer: body drained first, connection closed after it."""
    await drain_body(request)
    response.force_close()
    return response


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


async def _guarded(
    request: web.Request, handler, spec: RouteSpec, arrival: float, dialect: ServedDialect
) -> web.StreamResponse:
    state = request.app[STATE]
    if spec.private:
        account = await state.auth.authenticate(request)  # type: ignore[union-attr]
        request[ACCOUNT] = account
        state.sessions.touch(account.access_key, arrival)
        identity = "key:" + account.access_key
    else:
        if request.body_exists:
            await dialect.read_params(request)
        identity = _identity(request, state)
    request[IDENTITY] = identity
    limiter = state.limiter
    remaining = limiter.check(spec.limit_group, identity, time.time())
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
    header = limiter.style.header
    if header is not None and not response.prepared:
        response.headers[header] = remaining
    return response


def _error(request: web.Request, exc: ApiError, spec: RouteSpec, dialect: ServedDialect):
    state = request.app[STATE]
    header = state.limiter.style.header
    if header is not None and header not in exc.headers:
        identity = request.get(IDENTITY) or _identity(request, state)
        exc.headers[header] = state.limiter.peek(spec.limit_group, identity, time.time())
    return dialect.render_error(exc)


@web.middleware
async def surge_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Metering, stall, auth, rate limit and queueing around every non-admin request."""
    path = request.path
    if path.startswith("/admin/"):
        if not is_loopback(request.remote):
            return admin_error(ApiError(403, "forbidden", "admin answers loopback only"))
        try:
            return await handler(request)
        except ApiError as exc:
            return admin_error(exc)
        except web.HTTPException as exc:
            answer = admin_error(from_http(exc))
            return await _closing(request, answer) if exc.status == 413 else answer
        except Exception:
            log.exception("unexpected error on %s %s", request.method, path)
            return admin_error(ApiError(500, "server_error", "internal error"))
    app = request.app
    state = app[STATE]
    dialect = app[DIALECT]
    spec = app[SPECS].get(request.match_info.route, OTHER)
    arrival = time.time()
    stats = state.metrics.arrive(int(arrival), spec.family)
    request[STATS] = stats
    status = 0
    try:
        if state.stall_until > arrival:
            # A frozen server: no answer until the freeze ends; the wait eats the queue budget.
            await asyncio.sleep(state.stall_until - arrival)
        response = await _guarded(request, handler, spec, arrival, dialect)
    except ApiError as exc:
        status = exc.status  # what the metrics book, whatever the dialect puts on the wire
        response = _error(request, exc, spec, dialect)
    except web.HTTPException as exc:
        err = from_http(exc)
        status = err.status
        response = _error(request, err, spec, dialect)
    except asyncio.CancelledError:
        if not request.get(RECORDED):
            Metrics.outcome(stats, spec.family, "client_errors")
        raise
    except Exception:
        log.exception("unexpected error on %s %s", request.method, path)
        status = 500
        response = _error(request, ApiError(500, "server_error", "internal error"), spec, dialect)
    if not request.get(RECORDED):
        Metrics.outcome(stats, spec.family, _outcome(status or response.status))
    if status == 413:
        return await _closing(request, response)
    return response


def _add(app: web.Application, route: Route, resources: dict) -> None:
    resource = resources.get(route.path)
    if resource is None:
        resource = resources[route.path] = app.router.add_resource(route.path)
    registered = resource.add_route(route.method, route.handler)
    app[SPECS][registered] = route.spec


def build_app(config: ExchangeConfig) -> web.Application:
    """The exchange as an aiohttp application speaking ``config.dialect`` (the clock starts
    with the app)."""
    dialect = get_dialect(config.dialect)
    app = web.Application(middlewares=[surge_middleware], client_max_size=config.max_body_bytes)
    protocol = dialect.websocket(config.ws_ping_timeout_s)
    state = ExchangeState(config, protocol, dialect.limit_style)
    state.auth = dialect.verifier(state)
    app[STATE] = state
    app[DIALECT] = dialect
    app[SPECS] = {}
    resources: dict = {}
    for route in dialect.routes:
        _add(app, route, resources)
    ws = Route("GET", protocol.path, websocket.websocket, WEBSOCKET_SPEC, "websocket upgrade")
    ws = replace(ws, ok_status=101, tags=("websocket",))
    doc = Route("GET", "/openapi.json", openapi_document, DOCUMENT_SPEC, "this document")
    for route in (ws, doc):
        _add(app, route, resources)
    admin.add_routes(app)
    prometheus.add_routes(app)
    app[OPENAPI] = openapi.document_bytes(dialect, [*dialect.routes, ws, doc, *admin.ROUTES])

    async def clock(app: web.Application):
        task = asyncio.get_running_loop().create_task(state.run_clock())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(clock)
    return app
