"""Past its configured capacity the exchange queues, then sheds with 503, never loses an
acknowledged order, and its admin endpoint keeps answering."""

import asyncio
import time

import aiohttp
import pytest
from upbit_client import run, token

from surgeproof.exchange.capacity import Shed, WorkerPool


def test_worker_pool_queues_to_its_bound_then_sheds():
    async def go():
        pool = WorkerPool("api", workers=1, max_queue=1)
        deadline = time.time() + 0.2
        await pool.acquire(deadline)  # busy
        waiter = asyncio.ensure_future(pool.acquire(deadline))  # queued
        await asyncio.sleep(0)
        with pytest.raises(Shed) as full:
            await pool.acquire(deadline)
        with pytest.raises(Shed) as late:
            await waiter
        pool.release()
        return full.value.reason, late.value.reason, pool.busy

    assert run(go()) == ("queue_full", "queue_timeout", 0)


def test_overload_queues_then_sheds_and_loses_no_acknowledged_order(exchange):
    # 2 workers x 20 ms = 100 req/s; queue of 20 for at most 300 ms.
    ex = exchange(
        api_workers=2, service_time_ms=20, max_queue=20, queue_timeout_ms=300, limits=False
    )
    accounts = ex.state.accounts[:8]

    async def one(s, i):
        acct = accounts[i % len(accounts)]
        body = {
            "market": "KRW-XRP",
            "side": "bid",
            "ord_type": "limit",
            "price": "3000",
            "volume": "2",
        }
        t0 = time.perf_counter()
        async with s.post(
            f"{ex.url}/v1/orders", json=body, headers={"Authorization": token(acct, body)}
        ) as r:
            data = await r.json(content_type=None)
            return r.status, time.perf_counter() - t0, data

    async def go():
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
            burst = asyncio.gather(*(one(s, i) for i in range(150)))
            await asyncio.sleep(0.05)
            async with s.get(f"{ex.url}/admin/health") as r:
                admin = (r.status, await r.json())
            results = await burst
            await asyncio.sleep(1.1)  # let the second close
            async with s.get(f"{ex.url}/admin/ledger") as r:
                ledger = await r.json()
            async with s.get(f"{ex.url}/admin/metrics") as r:
                metrics = await r.json()
        return results, admin, ledger, metrics

    results, admin, ledger, metrics = run(go())
    statuses = [s for s, _, _ in results]
    served = [d for s, _, d in results if s == 201]
    shed = [d for s, _, d in results if s == 503]
    assert admin == (200, {"ok": True})  # answered in the middle of the overload
    assert served and shed and len(served) + len(shed) == 150, set(statuses)
    assert {d["error"]["name"] for d in shed} == {"server_busy"}
    # Queueing: some acknowledged orders waited several service times for a worker.
    assert max(t for s, t, _ in results if s == 201) > 0.1
    acked = {d["uuid"] for d in served}
    assert acked == set(ledger["acknowledged_orders"]["uuids"])
    assert ledger["lost_orders"] == [] and ledger["conserved"] is True
    seconds = metrics["seconds"]
    assert sum(s["shed_503"] for s in seconds) == len(shed)
    assert sum(s["served"] for s in seconds) == len(served)
    assert sum(s["orders_acked"] for s in seconds) == len(served)
    assert max(s["queue_depth_max"].get("api", 0) for s in seconds) == 20
    # Each served request held a worker for at least its service time; how much longer depends on
    # the machine's load, so only the lower bound and the fraction's range are asserted.
    busy_s = sum(s["utilisation"].get("api", 0) * 2 for s in seconds)
    assert busy_s >= 0.95 * len(served) * 0.020
    assert all(0.0 <= s["utilisation"].get("api", 0) <= 1.0 for s in seconds)
    for s in seconds:
        outcomes = (
            s["served"]
            + s["shed_503"]
            + s["rate_limited_429"]
            + s["blocked_418"]
            + s["client_errors"]
            + s["server_errors"]
            + s["in_flight"]
        )
        assert s["requests"] == outcomes


def test_autoscaler_adds_workers_after_the_lag(exchange):
    ex = exchange(
        api_workers=1,
        service_time_ms=50,
        limits=False,
        max_queue=1000,
        autoscale={"threshold": 0.5, "lag_s": 1, "step": 2, "max_workers": 3},
    )

    async def go():
        async with aiohttp.ClientSession() as s:

            async def poll():
                async with s.get(f"{ex.url}/v1/ticker?markets=KRW-BTC") as r:
                    return r.status

            end = time.time() + 3.2
            while time.time() < end:
                await asyncio.gather(*(poll() for _ in range(10)))
            async with s.get(f"{ex.url}/admin/metrics") as r:
                return await r.json()

    metrics = run(go())
    workers = [s["workers"].get("api") for s in metrics["seconds"] if s["workers"]]
    assert workers[0] == 1 and workers[-1] == 3
    assert metrics["autoscale_events"][0]["from"] == 1
