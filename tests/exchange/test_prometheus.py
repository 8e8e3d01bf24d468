"""``GET /metrics``: the exchange's per-second truth as Prometheus counters, unmetered."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from upbit_client import run

from surgeproof.exchange.config import build_config
from surgeproof.exchange.metrics import KEEP_SECONDS, Metrics
from surgeproof.exchange.prometheus import ExchangeCollector
from surgeproof.exchange.state import ExchangeState

OUTCOME_KEYS = {
    "served": "served",
    "shed": "shed",
    "rate_limited": "rate_limited",
    "blocked": "blocked",
    "client_errors": "client_error",
    "server_errors": "server_error",
}


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """``{(sample name, sorted labels): value}`` of an exposition, via the reference parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def by_family(admin_seconds: list[dict]) -> dict[tuple[str, str], int]:
    """``{(family, outcome label): count}`` summed over /admin/metrics seconds."""
    out: dict[tuple[str, str], int] = {}
    for sec in admin_seconds:
        for family, counts in sec["by_group"].items():
            out[(family, "requests")] = out.get((family, "requests"), 0) + counts["requests"]
            for key, label in OUTCOME_KEYS.items():
                out[(family, label)] = out.get((family, label), 0) + counts[key]
    return out


def test_counters_equal_the_admin_seconds_and_scrapes_are_not_counted(exchange):
    ex = exchange(api_workers=2, max_queue=50, service_time_ms=1)

    async def go():
        async with aiohttp.ClientSession() as s:
            # Past the quotation limit (10/s per client): a mix of served and refused calls.
            statuses = []
            for _ in range(30):
                async with s.get(f"{ex.url}/v1/ticker?markets=KRW-BTC") as r:
                    statuses.append(r.status)
            for _ in range(2):
                async with s.get(f"{ex.url}/v1/no-such-endpoint") as r:
                    statuses.append(r.status)
            texts = []
            for _ in range(3):
                async with s.get(f"{ex.url}/metrics") as r:
                    assert r.status == 200
                    assert r.headers["Content-Type"].startswith("text/plain")
                    texts.append(await r.text())
            async with s.get(f"{ex.url}/admin/metrics") as r:
                admin = await r.json()
            return statuses, texts, admin

    statuses, texts, admin = run(go())
    assert 200 in statuses and 429 in statuses
    truth = by_family(admin["seconds"])
    last = samples(texts[-1])
    for (family, what), n in truth.items():
        if what == "requests":
            got = last[("surgeproof_exchange_requests_total", (("family", family),))]
        else:
            got = last[
                ("surgeproof_exchange_responses_total", (("family", family), ("outcome", what)))
            ]
        assert got == n, (family, what, got, n)
    # The two unknown paths are "other"; three scrapes later still two: scrapes are unmetered.
    assert last[("surgeproof_exchange_requests_total", (("family", "other"),))] == 2
    assert [
        samples(t)[("surgeproof_exchange_requests_total", (("family", "other"),))] for t in texts
    ] == [2, 2, 2]
    assert last[("surgeproof_exchange_pool_workers", (("pool", "api"),))] == 2
    assert last[("surgeproof_exchange_requests_in_flight", ())] == 0
    assert last[("surgeproof_exchange_pool_queue_limit", (("pool", "api"),))] == 50


def test_a_scrape_is_answered_while_the_exchange_is_frozen(exchange):
    ex = exchange(limits=False)

    async def go():
        async with aiohttp.ClientSession() as s:
            async with s.post(f"{ex.url}/admin/stall", json={"seconds": 2.0}) as r:
                assert r.status == 200
            async with s.get(f"{ex.url}/metrics") as r:
                return samples(await r.text())

    during = run(go())
    # Answered while the freeze held: a scrape that waited it out would read 0.
    assert during[("surgeproof_exchange_stalled", ())] == 1
    assert during[("surgeproof_exchange_stalls_total", ())] == 1


def _arrive(metrics: Metrics, t: int, family: str, outcome: str | None) -> None:
    stats = metrics.arrive(t, family)
    if outcome is not None:
        Metrics.outcome(stats, family, outcome)


def _value(collector: ExchangeCollector, name: str, **labels: str) -> float:
    for family in collector.collect():
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return s.value
    raise KeyError((name, labels))


def test_counters_keep_folded_seconds_after_the_exchange_forgets_them():
    state = ExchangeState(build_config({"accounts": 1}))
    collector = ExchangeCollector(state)
    now = int(time.time())
    old = now - 100
    for _ in range(5):
        _arrive(state.metrics, old, "quotation", "served")
    _arrive(state.metrics, old, "quotation", None)  # still in flight: that second stays open
    _arrive(state.metrics, now, "orders", "shed_503")
    name = "surgeproof_exchange_responses_total"
    assert _value(collector, name, family="quotation", outcome="served") == 5
    assert _value(collector, "surgeproof_exchange_requests_in_flight") == 1
    # The last answer of the old second arrives late: counted in its arrival second, once.
    Metrics.outcome(state.metrics.at(old), "quotation", "rate_limited_429")
    assert _value(collector, name, family="quotation", outcome="rate_limited") == 1
    assert _value(collector, "surgeproof_exchange_requests_in_flight") == 0
    # An hour on, the exchange forgets those seconds; the counters do not go back.
    state.metrics.at(now + KEEP_SECONDS + 5)
    assert old not in state.metrics._index
    assert _value(collector, name, family="quotation", outcome="served") == 5
    assert _value(collector, name, family="orders", outcome="shed") == 1
    assert _value(collector, "surgeproof_exchange_requests_total", family="quotation") == 6


def test_gauges_read_pools_and_sessions_live(exchange):
    ex = exchange(api_workers=3, max_sessions=7)

    async def go():
        await asyncio.sleep(0)
        async with aiohttp.ClientSession() as s, s.get(f"{ex.url}/metrics") as r:
            return samples(await r.text())

    got = run(go())
    assert got[("surgeproof_exchange_pool_workers", (("pool", "api"),))] == 3
    assert got[("surgeproof_exchange_sessions_limit", ())] == 7
    assert got[("surgeproof_exchange_sessions", ())] == 0
