"""WebSocket gateways: N processes behind one ws_url, fed by the core, with global limits."""

import asyncio
import json
import os
import signal

import aiohttp
import psutil
import pytest
from core_process import gone, start_core, wait_gone
from upbit_client import run

FAST = {"limits": False, "price": {"update_s": 0.1}, "ticker_interval_ms": 100}


def _core_ws_url(ex):
    return ex.url.replace("http", "ws") + "/websocket/v1"


async def _frames(url, request, count, timeout=5.0):
    """The first ``count`` frames of one subscription, decoded."""
    out = []
    async with aiohttp.ClientSession() as s, s.ws_connect(url) as ws:
        await ws.send_str(json.dumps(request))
        while len(out) < count:
            msg = await asyncio.wait_for(ws.receive(), timeout)
            assert msg.type == aiohttp.WSMsgType.BINARY
            out.append(json.loads(msg.data))
    return out


def _shape(frames):
    """(type, stream_type) -> field names in order, for every frame seen."""
    shapes = {}
    for f in frames:
        kind = f.get("type", f.get("ty"))
        stream = f.get("stream_type", f.get("st"))
        shapes.setdefault((kind, stream), list(f))
    return shapes


async def _metrics(ex):
    async with aiohttp.ClientSession() as s, s.get(ex.url + "/admin/metrics") as r:
        return await r.json()


@pytest.mark.parametrize("fmt", ["DEFAULT", "SIMPLE"])
def test_gateways_serve_the_same_fields_as_the_core_process(exchange, fmt):
    ex = exchange(ws_gateways=2, **FAST)
    assert ex.ws_url != _core_ws_url(ex) and len(ex.gateways) == 2
    request = [
        {"ticket": "same"},
        {"type": "ticker", "codes": ["KRW-BTC"]},
        {"type": "trade", "codes": ["KRW-BTC"]},
        {"type": "orderbook", "codes": ["KRW-BTC"]},
        {"format": fmt},
    ]

    async def go():
        return await asyncio.gather(
            _frames(_core_ws_url(ex), request, 12), _frames(ex.ws_url, request, 12)
        )

    core, gateway = run(go())
    core_shapes, gw_shapes = _shape(core), _shape(gateway)
    kinds = {"ticker", "trade", "orderbook"} if fmt == "DEFAULT" else set()
    assert {k for k, _ in core_shapes} >= kinds
    for key in set(core_shapes) & set(gw_shapes):
        assert gw_shapes[key] == core_shapes[key], key
    # Snapshots first, then realtime, on both paths.
    assert {s for _, s in gw_shapes} == {"SNAPSHOT", "REALTIME"}
    assert len(set(core_shapes) & set(gw_shapes)) >= 4
    codes = {f.get("code", f.get("cd")) for f in gateway}
    assert codes == {"KRW-BTC"}


def test_hundreds_of_connections_spread_over_gateways_and_all_receive_updates(exchange):
    ex = exchange(ws_gateways=2, **FAST)
    n = 300
    request = json.dumps([{"ticket": "many"}, {"type": "ticker", "codes": ["KRW-ETH"]}])

    async def one(session, got, hold):
        async with session.ws_connect(ex.ws_url) as ws:
            await ws.send_str(request)
            while True:
                msg = await asyncio.wait_for(ws.receive(), 10)
                if json.loads(msg.data)["stream_type"] == "REALTIME":
                    got.append(1)
                    break
            await hold.wait()

    async def go():
        got, hold = [], asyncio.Event()
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as s:
            tasks = [asyncio.create_task(one(s, got, hold)) for _ in range(n)]
            while len(got) < n and not any(t.done() for t in tasks):
                await asyncio.sleep(0.05)
            metrics = await _metrics(ex)
            hold.set()
            await asyncio.gather(*tasks)
        return len(got), metrics

    received, metrics = run(go())
    assert received == n  # every session got a realtime update
    per_gateway = [g["connections"] for g in metrics["gateways"]]
    assert sum(per_gateway) == n and all(c > 0 for c in per_gateway)
    latest = metrics["seconds"][-1]
    assert latest["ws_connections"] == n
    assert sum(s["ws_connects"] for s in metrics["seconds"]) == n
    assert set(latest["ws_gateways"]) == {"0", "1"}


def test_connection_cap_holds_across_gateways(exchange):
    ex = exchange(ws_gateways=3, max_ws_connections=40, limits=False)

    async def attempt(session, opened):
        try:
            ws = await session.ws_connect(ex.ws_url)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status
        opened.append(ws)
        return 101

    async def go():
        opened = []
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
            first = await asyncio.gather(*(attempt(s, opened) for _ in range(60)))
            for ws in opened[:10]:
                await ws.close()
            await asyncio.sleep(0.3)  # the gateways tell the core about the closes
            second = await asyncio.gather(*(attempt(s, opened) for _ in range(15)))
            metrics = await _metrics(ex)
            for ws in opened:
                await ws.close()
        return first, second, metrics

    first, second, metrics = run(go())
    assert first.count(101) == 40 and first.count(503) == 20
    assert second.count(101) == 10 and second.count(503) == 5
    shed = sum(s["by_group"].get("websocket", {}).get("shed", 0) for s in metrics["seconds"])
    assert shed == 25


@pytest.mark.parametrize("gateways", [0, 2])
def test_connect_rate_limit_gives_429_then_418_before_the_upgrade(exchange, gateways):
    ex = exchange(ws_gateways=gateways, client_identity="header", block_after_429s=3, block_s=30)
    url = ex.ws_url

    async def go():
        statuses, retry_after = [], []
        async with aiohttp.ClientSession() as s:
            for _ in range(16):
                try:
                    async with s.ws_connect(url, headers={"X-Client-Id": "storm"}):
                        statuses.append(101)
                except aiohttp.WSServerHandshakeError as exc:
                    statuses.append(exc.status)
                    retry_after.append(exc.headers.get("Retry-After") if exc.headers else None)
            async with s.ws_connect(url, headers={"X-Client-Id": "calm"}):
                calm = 101
        return statuses, retry_after, calm

    statuses, retry_after, calm = run(go())
    assert statuses[0] == 101
    first_429 = statuses.index(429)
    assert first_429 <= 10  # 5 per second; two whole seconds at most
    first_418 = statuses.index(418)
    assert first_418 > first_429 and set(statuses[first_418:]) == {418}
    assert int(retry_after[-1]) >= 1
    assert calm == 101  # the limit is per identity


def test_connect_rate_limit_is_off_with_limits_off(exchange):
    ex = exchange(ws_gateways=2, limits=False)

    async def go():
        async with aiohttp.ClientSession() as s:
            ok = 0
            for _ in range(20):
                async with s.ws_connect(ex.ws_url):
                    ok += 1
            return ok

    assert run(go()) == 20


def test_killing_the_core_leaves_no_gateway_behind():
    proc, info = start_core("--ws-gateways", "2")
    pids = [g["pid"] for g in info["gateways"]]
    try:
        assert len(pids) == 2 and all(not gone(p) for p in pids)
        assert all(psutil.Process(p).ppid() == proc.pid for p in pids)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert wait_gone(pids) == []
    finally:
        for p in pids:
            if not gone(p):
                os.kill(p, signal.SIGKILL)


def test_sigterm_stops_core_and_gateways_cleanly():
    proc, info = start_core("--ws-gateways", "2")
    pids = [g["pid"] for g in info["gateways"]]
    assert info["ws_url"].startswith("ws://127.0.0.1:") and info["ws_url"] != info["url"]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0 and "Traceback" not in err
    assert wait_gone(pids) == []


def test_a_gateway_at_its_open_file_limit_answers_503_and_keeps_serving():
    proc, info = start_core("--ws-gateways", "1", hard_fd_limit=300)
    try:

        async def go():
            statuses = []
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as s:
                opened = []
                for _ in range(220):
                    try:
                        opened.append(await s.ws_connect(info["ws_url"]))
                        statuses.append(101)
                    except aiohttp.WSServerHandshakeError as exc:
                        statuses.append(exc.status)
                async with s.get(info["url"] + "/admin/metrics") as r:
                    metrics = await r.json()
                for ws in opened:
                    await ws.close()
            return statuses, metrics

        statuses, metrics = run(go())
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
    gw = metrics["gateways"][0]
    assert gw["fd_limit"] == 300 and gw["alive"]
    assert statuses.count(101) == gw["connection_budget"] < 220
    assert set(statuses[gw["connection_budget"] :]) == {503}
