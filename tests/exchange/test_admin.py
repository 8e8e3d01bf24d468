"""Admin API: loopback-only truth, stall injection and price shocks."""

import asyncio
import time

import aiohttp
from upbit_client import run


def test_stall_freezes_public_calls_but_not_admin(exchange):
    ex = exchange(limits=False)

    async def go():
        async with aiohttp.ClientSession() as s:
            async with s.post(f"{ex.url}/admin/stall", json={"seconds": 0.6}) as r:
                window = await r.json()
            t0 = time.perf_counter()
            async with s.get(f"{ex.url}/admin/config") as r:
                admin_s = time.perf_counter() - t0
                cfg = await r.json()
            t0 = time.perf_counter()
            async with s.get(f"{ex.url}/v1/ticker?markets=KRW-BTC") as r:
                public = (r.status, time.perf_counter() - t0)
            async with s.post(f"{ex.url}/admin/stall", json={"seconds": -1}) as r:
                bad = r.status
            return window, admin_s, cfg, public, bad

    window, admin_s, cfg, public, bad = run(go())
    assert abs(window["end"] - window["start"] - 0.6) < 1e-6
    assert cfg["limits"] is False
    assert public[0] == 200 and public[1] >= 0.45  # answered only after the freeze
    assert admin_s < public[1]
    assert bad == 400


def test_price_shock_moves_the_market_down(exchange):
    ex = exchange(price={"update_s": 0.1, "volatility_per_s": 0.0})

    async def go():
        async with aiohttp.ClientSession() as s:
            async with s.post(
                f"{ex.url}/admin/price", json={"market": "KRW-BTC", "shock": -0.33, "over_s": 0.5}
            ) as r:
                assert r.status == 200
            await asyncio.sleep(1.0)
            async with s.get(f"{ex.url}/v1/ticker?markets=KRW-BTC") as r:
                ticker = (await r.json())[0]
            async with s.get(f"{ex.url}/admin/accounts") as r:
                accounts = await r.json()
            async with s.post(f"{ex.url}/admin/price", json={"market": "KRW-NOPE"}) as r:
                unknown = r.status
            return ticker, accounts, unknown

    ticker, accounts, unknown = run(go())
    assert 0.6 * 131_000_000 < ticker["trade_price"] < 0.72 * 131_000_000
    assert ticker["change"] == "FALL"
    assert len(accounts) == len(ex.state.accounts)
    assert unknown == 404
