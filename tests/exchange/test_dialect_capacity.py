"""The capacity model is the same behind every dialect: the API pool sheds with 503, logins go
through the member database and the sessions cap, and the metrics book the same families."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from upbit_client import run

TICKER = {
    "upbit": "/v1/ticker?markets=KRW-BTC",
    "bithumb": "/v1/ticker?markets=KRW-BTC",
    "coinone": "/public/v2/ticker_new/KRW/BTC",
}
LOGIN = {"upbit": "/v1/session", "bithumb": "/v1/session", "coinone": "/v2.1/app/login"}
DIALECTS = list(TICKER)


def _busy(dialect: str, body: dict) -> bool:
    """The dialect's own overload answer."""
    if dialect == "coinone":
        return body["result"] == "error" and body["error_code"] == "405"
    return body["error"]["name"] == "server_busy"


def _totals(ex, group: str) -> dict:
    seconds = ex.state.metrics.since(None, 2**40)
    out: dict = {}
    for s in seconds:
        for key, n in s["by_group"].get(group, {}).items():
            out[key] = out.get(key, 0) + n
    out["logins"] = sum(s["logins"] for s in seconds)
    return out


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_api_pool_sheds_with_the_dialects_503(exchange, dialect):
    # 1 worker x 40 ms, 2 waiters, 150 ms at most in the queue: a burst of 16 must shed.
    ex = exchange(
        dialect=dialect,
        api_workers=1,
        service_time_ms=40,
        max_queue=2,
        queue_timeout_ms=150,
        limits=False,
    )

    async def one(s):
        async with s.get(ex.url + TICKER[dialect]) as r:
            return r.status, json.loads(await r.read())

    async def go():
        async with aiohttp.ClientSession() as s:
            return await asyncio.gather(*(one(s) for _ in range(16)))

    results = run(go())
    statuses = [st for st, _ in results]
    assert 200 in statuses and 503 in statuses and set(statuses) <= {200, 503}
    assert all(_busy(dialect, body) for st, body in results if st == 503)
    totals = _totals(ex, "quotation")
    assert totals["requests"] == 16
    assert (totals["served"], totals["shed"]) == (statuses.count(200), statuses.count(503))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_logins_go_through_the_member_db_and_the_sessions_cap(exchange, dialect):
    ex = exchange(
        dialect=dialect,
        member_db_workers=1,
        member_db_time_ms=30,
        max_queue=20,
        max_sessions=3,
        limits=False,
    )
    members = ex.state.accounts[:8]

    async def one(s, m):
        body = {"member_id": m.member_id, "password": m.password}
        async with s.post(ex.url + LOGIN[dialect], json=body) as r:
            return r.status, await r.json(content_type=None)

    async def go():
        async with aiohttp.ClientSession() as s:
            return await asyncio.gather(*(one(s, m) for m in members))

    results = run(go())
    ok = [b for st, b in results if st in (200, 201) and "session_token" in b]
    busy = [b for st, b in results if st == 503]
    assert len(ok) == 3 and len(busy) == 5 and all(_busy(dialect, b) for b in busy)
    assert len(ex.state.sessions) == 3
    totals = _totals(ex, "login")
    assert (totals["served"], totals["shed"], totals["logins"]) == (3, 5, 3)
    # The member database was held once per login that reached it, 30 ms each.
    assert ex.state.db_pool.busy == 0
