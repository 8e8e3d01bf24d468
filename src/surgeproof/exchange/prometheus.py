"""``GET /metrics``: the exchange's own truth in Prometheus text format, beside a team's targets.

The same counters as ``/admin/metrics`` (by arrival second, see ``metrics.py``), made cumulative:
a second is folded into running totals once it is final (every request that arrived in it has
an outcome, and it is ``FOLD_AFTER_S`` old); seconds not final yet are added on every scrape. So
the counters only grow, agree with the per-second files a run writes, and survive the hour after
which the exchange forgets a second. Gauges (pools, queues, sessions, gateways) are read live.

Like ``/admin/*``, a scrape is exempt from metering, limits, pools and stalls: watching the
exchange must not change what it counts, or stop while it is frozen. Unlike ``/admin/*`` it
answers any peer (a cluster's Prometheus is not on loopback); it holds counts, never accounts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from surgeproof.exchange.metrics import SecondStats
from surgeproof.exchange.routes import FAMILIES, STATE
from surgeproof.exchange.state import ExchangeState

PATH = "/metrics"
#: A second is folded this long after it ended (and once nothing of it is in flight).
FOLD_AFTER_S = 2

#: Outcome keys of ``SecondStats.by_group`` -> the ``outcome`` label.
_OUTCOMES = {
    "served": "served",
    "shed": "shed",
    "rate_limited": "rate_limited",
    "blocked": "blocked",
    "client_errors": "client_error",
    "server_errors": "server_error",
}
#: Whole-exchange per-second counters -> (metric name, help).
_TOTALS = {
    "logins": ("surgeproof_exchange_logins", "Logins served (app sessions opened)."),
    "orders_acked": ("surgeproof_exchange_orders_acked", "Orders acknowledged."),
    "fills": ("surgeproof_exchange_fills", "Trades filled."),
    "ws_connects": ("surgeproof_exchange_ws_connects", "Websocket connections admitted."),
    "ws_messages_sent": ("surgeproof_exchange_ws_messages_sent", "Websocket messages written."),
    "ws_messages_dropped": (
        "surgeproof_exchange_ws_messages_dropped",
        "Websocket messages dropped for slow readers.",
    ),
}
_GATEWAY_TOTALS = ("connects", "messages_sent", "messages_dropped")

Key = tuple[str, ...]


class ExchangeCollector:
    """A Prometheus collector over one exchange's state."""

    def __init__(self, state: ExchangeState) -> None:
        self.state = state
        #: Totals of the folded seconds: metric key -> value (every family from the start, so
        #: that ``rate()`` has a series before a family's first request).
        self._folded: dict[Key, float] = {}
        for family in FAMILIES:
            self._folded[("requests", family)] = 0
            for outcome in _OUTCOMES.values():
                self._folded[("responses", family, outcome)] = 0
        #: Seconds seen and not folded yet (their values can still change).
        self._pending: dict[int, SecondStats] = {}
        self._seen: set[int] = set()

    def describe(self) -> list[Metric]:
        return []

    def _advance(self, now: float) -> list[SecondStats]:
        """Fold the seconds that became final; the ones that are not, for adding live."""
        metrics = self.state.metrics
        for stats in metrics.seconds:
            if stats.t not in self._seen:
                self._seen.add(stats.t)
                self._pending[stats.t] = stats
        if len(self._seen) > 2 * len(metrics.seconds) + 64:
            oldest = metrics.seconds[0].t if metrics.seconds else 0
            self._seen = {t for t in self._seen if t >= oldest}
        cutoff = int(now) - FOLD_AFTER_S
        for t, stats in list(self._pending.items()):
            # A second the exchange forgot is folded as it was last seen.
            forgotten = metrics._index.get(t) is not stats
            if forgotten or (t < cutoff and stats.inflight <= 0):
                _add(self._folded, stats)
                del self._pending[t]
        return list(self._pending.values())

    def collect(self) -> Iterator[Metric]:
        state = self.state
        now = time.time()
        state.sample(now)  # as /admin/metrics does: the current second's gauges and ws counts
        live = self._advance(now)
        totals = dict(self._folded)
        for stats in live:
            _add(totals, stats)
        yield from _counter_families(totals)
        yield _gauge(
            "surgeproof_exchange_requests_in_flight",
            "Requests arrived and not answered yet.",
            sum(max(s.inflight, 0) for s in live),
        )
        yield from _pool_families(state, int(now))
        yield from _session_families(state, now)
        yield from _gateway_families(state)


def _add(totals: dict[Key, float], stats: SecondStats) -> None:
    for family, counts in stats.by_group.items():
        key = ("requests", family)
        totals[key] = totals.get(key, 0) + counts.get("requests", 0)
        for field, outcome in _OUTCOMES.items():
            key = ("responses", family, outcome)
            totals[key] = totals.get(key, 0) + counts.get(field, 0)
    for field in _TOTALS:
        key = (field,)
        totals[key] = totals.get(key, 0) + getattr(stats, field)
    for gid, entry in stats.ws_gateways.items():
        for field in _GATEWAY_TOTALS:
            key = ("gateway", gid, field)
            totals[key] = totals.get(key, 0) + entry.get(field, 0)


def _counter_families(totals: dict[Key, float]) -> Iterator[Metric]:
    requests = CounterMetricFamily(
        "surgeproof_exchange_requests",
        "Requests by family (login, quotation, orders, account, websocket, other), by arrival.",
        labels=["family"],
    )
    responses = CounterMetricFamily(
        "surgeproof_exchange_responses",
        "Requests with an outcome, by family and outcome (shed = 503 load shedding, "
        "rate_limited = 429, blocked = 418).",
        labels=["family", "outcome"],
    )
    gateway = {
        field: CounterMetricFamily(
            f"surgeproof_exchange_gateway_{field}",
            f"Websocket {field.replace('_', ' ')} per gateway process.",
            labels=["gateway"],
        )
        for field in _GATEWAY_TOTALS
    }
    for key, value in sorted(totals.items()):
        if key[0] == "requests":
            requests.add_metric([key[1]], value)
        elif key[0] == "responses":
            responses.add_metric([key[1], key[2]], value)
        elif key[0] == "gateway":
            gateway[key[2]].add_metric([key[1]], value)
    yield requests
    yield responses
    for field, (name, doc) in _TOTALS.items():
        yield CounterMetricFamily(name, doc, value=totals.get((field,), 0))
    yield from gateway.values()


def _pool_families(state: ExchangeState, second: int) -> Iterator[Metric]:
    fams = {
        "workers": GaugeMetricFamily(
            "surgeproof_exchange_pool_workers", "Worker slots of each pool.", labels=["pool"]
        ),
        "busy": GaugeMetricFamily(
            "surgeproof_exchange_pool_busy", "Slots busy now.", labels=["pool"]
        ),
        "queued": GaugeMetricFamily(
            "surgeproof_exchange_pool_queued", "Requests waiting for a slot now.", labels=["pool"]
        ),
        "max_queue": GaugeMetricFamily(
            "surgeproof_exchange_pool_queue_limit",
            "Most waiters a pool holds before it sheds (503).",
            labels=["pool"],
        ),
        "utilisation": GaugeMetricFamily(
            "surgeproof_exchange_pool_utilisation_ratio",
            "Busy share of the pool's slots over the last whole second (0-1).",
            labels=["pool"],
        ),
    }
    for pool in state.pools():
        fams["workers"].add_metric([pool.name], pool.workers)
        fams["busy"].add_metric([pool.name], pool.busy)
        fams["queued"].add_metric([pool.name], pool.queued)
        fams["max_queue"].add_metric([pool.name], pool.max_queue)
        fams["utilisation"].add_metric([pool.name], pool.utilisation(second - 1))
    yield from fams.values()
    scaler = state.autoscaler
    yield CounterMetricFamily(
        "surgeproof_exchange_autoscale_events",
        "Times the auto-scaler added API workers.",
        value=len(scaler.events) if scaler is not None else 0,
    )


def _session_families(state: ExchangeState, now: float) -> Iterator[Metric]:
    yield _gauge(
        "surgeproof_exchange_sessions", "App sessions open (logged in).", len(state.sessions)
    )
    yield _gauge(
        "surgeproof_exchange_sessions_limit",
        "Most app sessions the exchange admits (0 = unlimited).",
        state.sessions.max_sessions,
    )
    yield _gauge(
        "surgeproof_exchange_ws_connections",
        "Websocket connections open (in-process and in every gateway).",
        state.ws_connections(),
    )
    yield _gauge(
        "surgeproof_exchange_ws_connections_limit",
        "Most websocket connections admitted (0 = unlimited).",
        state.config.max_ws_connections,
    )
    yield CounterMetricFamily(
        "surgeproof_exchange_stalls", "Stalls injected (/admin/stall).", value=len(state.stalls)
    )
    yield _gauge(
        "surgeproof_exchange_stalled", "1 while an injected stall freezes the exchange.",
        1 if state.stall_until > now else 0,
    )  # fmt: skip
    yield _gauge(
        "surgeproof_exchange_start_time_seconds", "When this exchange started.", state.started
    )


def _gateway_families(state: ExchangeState) -> Iterator[Metric]:
    up = GaugeMetricFamily(
        "surgeproof_exchange_gateway_up",
        "1 while a websocket gateway is alive.",
        labels=["gateway"],
    )
    conns = GaugeMetricFamily(
        "surgeproof_exchange_gateway_connections",
        "Websocket sessions held by each gateway process.",
        labels=["gateway"],
    )
    restarts = CounterMetricFamily(
        "surgeproof_exchange_gateway_restarts",
        "Times a gateway process was replaced after it died.",
        labels=["gateway"],
    )
    for g in state.gateways.describe() if state.gateways is not None else []:
        gid = str(g["id"])
        up.add_metric([gid], 1 if g["alive"] else 0)
        conns.add_metric([gid], g["connections"])
        restarts.add_metric([gid], g["restarts"])
    yield up
    yield conns
    yield restarts


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


_REGISTRY: web.AppKey[CollectorRegistry] = web.AppKey("prometheus", CollectorRegistry)


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[_REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


@web.middleware
async def unmetered(request: web.Request, handler) -> web.StreamResponse:
    """Answer scrapes ahead of the exchange's own middleware (no metering, limits or stalls)."""
    if request.path == PATH and request.method in ("GET", "HEAD"):
        return await metrics(request)
    return await handler(request)


def add_routes(app: web.Application) -> None:
    """``GET /metrics``, served before every other middleware of ``app``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ExchangeCollector(app[STATE]))
    app[_REGISTRY] = registry
    app.middlewares.insert(0, unmetered)
    app.router.add_get(PATH, metrics)
